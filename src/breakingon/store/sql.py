"""The SQL store: one implementation of `Store` for SQLite and PostgreSQL (SQLAlchemy Core).

SQLite (embedded): WAL mode, `synchronous=NORMAL`, a busy timeout, and every write
transaction opened with `BEGIN IMMEDIATE` behind a process-wide lock, so writers queue
instead of failing with "database is locked"; reads use a separate engine and never
block on writers. PostgreSQL (scale-out): work is claimed with `FOR UPDATE SKIP LOCKED`,
so several workers on several machines never claim the same row. Schema changes are
Alembic migrations, applied transactionally at open; queries are built on the tables
`breakingon.store.schema` describes, never on tables reflected from the database.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from breakingon.store import schema
from breakingon.store.base import SchemaTooNew, StoreError
from breakingon.store.files import create_private_file, make_private_dir, secure_database_files
from breakingon.store.redact import redact_text, redact_url
from breakingon.store.sql_alerts import _AlertsMixin
from breakingon.store.sql_articles import _ArticlesMixin
from breakingon.store.sql_feeds import _FeedsMixin
from breakingon.store.sql_images import _ImagesMixin
from breakingon.store.sql_ops import _OpsMixin
from breakingon.store.sql_reader import _ReaderMixin
from breakingon.store.sql_search import _SearchMixin
from breakingon.store.sql_users import _UsersMixin

_MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def head_revision() -> str:
    script = ScriptDirectory.from_config(_alembic_config())
    head = script.get_current_head()
    assert head is not None
    return head


class SQLStore(
    _FeedsMixin,
    _ArticlesMixin,
    _ImagesMixin,
    _SearchMixin,
    _OpsMixin,
    _UsersMixin,
    _ReaderMixin,
    _AlertsMixin,
):
    """`Store` over SQLAlchemy Core; see `breakingon.store.base.Store` for the contract."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            self.dialect = "sqlite"
            path = Path(url[len("sqlite:///") :])
            if str(path) not in ("", ":memory:"):
                make_private_dir(path.parent, path.name)  # the database holds WebSub secrets
                create_private_file(path)
            self._w = self._sqlite_engine(url, immediate=True)
            self._r = self._sqlite_engine(url, immediate=False)
        elif url.startswith(("postgresql://", "postgresql+psycopg://")):
            self.dialect = "postgresql"
            pg = url.replace("postgresql://", "postgresql+psycopg://", 1)
            self._w = sa.create_engine(pg, pool_pre_ping=True, pool_size=5, max_overflow=10)
            self._r = self._w
        else:
            raise StoreError(f"unsupported database URL {redact_url(url)!r}")
        self._wlock = threading.RLock()
        try:
            self._migrate()
        except sa.exc.DatabaseError as exc:
            msg = redact_text(str(exc.orig) if exc.orig is not None else str(exc))
            if "malformed" in msg or "not a database" in msg:
                raise StoreError(
                    f"the database at {redact_url(url)} is damaged ({msg}); restore a backup with "
                    "`breakingon restore BACKUP` (see docs/operations.md)"
                ) from None
            raise StoreError(f"cannot open the database at {redact_url(url)}: {msg}") from None
        if self.dialect == "sqlite" and str(path) not in ("", ":memory:"):
            secure_database_files(path)  # the -wal and -shm the migration opened
        # The tables as this code's migrations made them (never reflected from the
        # database: a newer schema is refused above, an older one was just upgraded).
        self.t = schema.metadata.tables

    # -- engine and migrations ---------------------------------------------------------
    @staticmethod
    def _sqlite_engine(url: str, immediate: bool) -> Engine:
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 60},
            pool_size=8,
            max_overflow=16,
        )

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    def _migrate(self) -> None:
        cfg = _alembic_config()
        known = {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}
        with self._write() as conn:
            if self.dialect == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7402318)")
            current = MigrationContext.configure(conn).get_current_revision()
            if current is not None and current not in known:
                raise SchemaTooNew(
                    f"the database at {redact_url(self.url)} has schema revision {current}, "
                    "which is newer "
                    f"than this BreakingOn knows (head {head_revision()}); upgrade BreakingOn "
                    "or restore a backup made by this version"
                )
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def close(self) -> None:
        self._w.dispose()
        if self._r is not self._w:
            self._r.dispose()
