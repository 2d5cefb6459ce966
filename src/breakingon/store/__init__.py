"""Storage: `open_store(url)` returns the `Store` for a database URL."""

from __future__ import annotations

from breakingon.store.base import SchemaTooNew, Store, StoreError
from breakingon.store.sql import SQLStore

__all__ = ["SQLStore", "SchemaTooNew", "Store", "StoreError", "open_store"]


def open_store(url: str) -> Store:
    """Open (and migrate) the store at `url` (sqlite:///PATH or postgresql://...)."""
    return SQLStore(url)
