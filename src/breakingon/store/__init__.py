"""Storage: `open_store(url)` returns the `Store` for a database URL.

`base` holds the contract (one protocol per consumer, `Store` their union) and its
records, `schema` the tables as the migrations create them, `sql*` the one SQLAlchemy
implementation for SQLite and PostgreSQL. Nothing here imports the pipeline, the
stages or the web layer.
"""

from __future__ import annotations

from breakingon.store.base import (
    AlertStore,
    ArticleClaims,
    ClusterStore,
    CrawlStore,
    ImageStore,
    IngestStore,
    LeaseStore,
    OpsStore,
    ReaderStore,
    ReadStore,
    SchemaTooNew,
    SourceStore,
    Store,
    StoreError,
    StoryStore,
    UserStore,
    WebStore,
    WebSubStore,
)
from breakingon.store.sql import SQLStore

__all__ = [
    "AlertStore",
    "ArticleClaims",
    "ClusterStore",
    "CrawlStore",
    "ImageStore",
    "IngestStore",
    "LeaseStore",
    "OpsStore",
    "ReadStore",
    "ReaderStore",
    "SQLStore",
    "SchemaTooNew",
    "SourceStore",
    "Store",
    "StoreError",
    "StoryStore",
    "UserStore",
    "WebStore",
    "WebSubStore",
    "open_store",
]


def open_store(url: str) -> Store:
    """Open (and migrate) the store at `url` (sqlite:///PATH or postgresql://...)."""
    return SQLStore(url)
