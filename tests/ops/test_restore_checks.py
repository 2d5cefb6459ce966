"""Restore trusts no backup file (hardening 9): the schema must be exactly ours.

A backup carrying a trigger, a view, an extra table or index or column, an altered
trigger of ours, or missing a table is refused BEFORE the live database is touched (its
bytes and rows stay the same), on SQLite files and on PostgreSQL archives. A backup of
an older revision of our own schema still restores.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from breakingon.ops.backup import BackupError, backup_database, restore_database
from breakingon.records import Article, Feed, Outlet
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import open_store
from breakingon.store.sql import _alembic_config


def _article(i: int) -> Article:
    from datetime import UTC, datetime

    return Article(
        url=f"https://example.org/a/{i}",
        title=f"Article {i}",
        text="Body text. " * 10,
        published=datetime(2025, 2, 10, tzinfo=UTC),
        item_key=f"https://example.org/a/{i}",
    )


def _live(url: str) -> None:
    s = open_store(url)
    s.add_feed(
        Feed(url="https://example.org/feed", outlet="Ex"), feed_url_key("https://example.org/feed")
    )
    s.save_archive_articles(
        Outlet(name="example.org"), [_article(i) for i in range(3)], "extracted"
    )
    s.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


_TRIGGER = (
    "CREATE TRIGGER hijack AFTER INSERT ON articles BEGIN "
    "UPDATE feeds SET url = 'https://evil.example/feed'; END"
)
SQLITE_TAMPERS: dict[str, Callable[[sqlite3.Connection], None]] = {
    "trigger": lambda c: c.execute(_TRIGGER),
    "view": lambda c: c.execute("CREATE VIEW v AS SELECT url FROM feeds"),
    "extra table": lambda c: c.execute("CREATE TABLE extra (x TEXT)"),
    "extra index": lambda c: c.execute("CREATE INDEX ix_extra ON feeds (url)"),
    "extra column": lambda c: c.execute("ALTER TABLE feeds ADD COLUMN note TEXT"),
    "missing table": lambda c: c.execute("DROP TABLE trends"),
    "missing index": lambda c: c.execute("DROP INDEX ix_feeds_due"),
    "altered trigger": lambda c: (
        c.execute("DROP TRIGGER articles_ai"),
        c.execute(
            "CREATE TRIGGER articles_ai AFTER INSERT ON articles BEGIN "
            "UPDATE feeds SET url = 'x'; END"
        ),
    ),
    "two revisions": lambda c: c.execute("INSERT INTO alembic_version VALUES ('0004')"),
}


@pytest.mark.parametrize("tamper", sorted(SQLITE_TAMPERS))
def test_sqlite_restore_refuses_a_foreign_schema_before_touching_the_live_db(
    tmp_path: Path, tamper: str
) -> None:
    live = tmp_path / "live.sqlite"
    url = f"sqlite:///{live}"
    _live(url)
    bak = tmp_path / "evil.bak"
    backup_database(url, bak)
    conn = sqlite3.connect(bak)
    SQLITE_TAMPERS[tamper](conn)
    conn.commit()
    conn.close()
    before = _digest(live)
    with pytest.raises(BackupError):
        restore_database(bak, url)
    assert _digest(live) == before  # not one page written
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".restore-")]  # no temp left
    s = open_store(url)
    try:
        assert [f.url for f in s.list_feeds()] == ["https://example.org/feed"]
        assert s.stats()["articles"] == 3
    finally:
        s.close()


def test_sqlite_restore_into_a_fresh_path_leaves_nothing_when_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    _live(url)
    bak = tmp_path / "evil.bak"
    backup_database(url, bak)
    conn = sqlite3.connect(bak)
    conn.execute(_TRIGGER)
    conn.commit()
    conn.close()
    target = tmp_path / "new" / "db.sqlite"
    with pytest.raises(BackupError, match="trigger 'hijack'"):
        restore_database(bak, f"sqlite:///{target}")
    assert not target.exists()


def test_sqlite_restore_of_our_schema_and_of_an_older_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    _live(url)
    bak = tmp_path / "good.bak"
    backup_database(url, bak)
    target = tmp_path / "data" / "restored.sqlite"
    info = restore_database(bak, f"sqlite:///{target}")
    assert info.revision is not None
    s = open_store(f"sqlite:///{target}")
    try:
        assert s.stats()["articles"] == 3
    finally:
        s.close()
    # a database our migrations left at revision 0003 (an older BreakingOn's backup)
    old = tmp_path / "old.sqlite"
    engine = sa.create_engine(f"sqlite:///{old}")
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003")
    engine.dispose()
    info = restore_database(old, f"sqlite:///{tmp_path / 'from-old.sqlite'}")
    assert info.revision == "0003"
    open_store(f"sqlite:///{tmp_path / 'from-old.sqlite'}").close()  # migrates up


# ------------------------------------------------------------------------------ PostgreSQL


def _root_conftest():  # type: ignore[no-untyped-def]
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("_breakingon_root_conftest_rc", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _root_conftest().pg_schema_url()


PG_TAMPERS = {
    "trigger": [
        "CREATE FUNCTION hijack() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN UPDATE feeds SET url = 'https://evil.example/feed'; RETURN NEW; END $$",
        "CREATE TRIGGER hijack AFTER INSERT ON articles FOR EACH ROW EXECUTE FUNCTION hijack()",
    ],
    "view": ["CREATE VIEW v AS SELECT url FROM feeds"],
    "missing table": ["DROP TABLE trends"],
    "extra column": ["ALTER TABLE feeds ADD COLUMN note text DEFAULT 'x'"],
    "extra index": ["CREATE INDEX ix_extra ON feeds (url)"],
}


@pytest.mark.parametrize("tamper", sorted(PG_TAMPERS))
def test_pg_restore_refuses_a_foreign_schema_before_touching_the_live_db(
    pg_url: str, tmp_path: Path, tamper: str
) -> None:
    _live(pg_url)
    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.begin() as conn:
            for stmt in PG_TAMPERS[tamper]:
                conn.exec_driver_sql(stmt)
        bak = tmp_path / "evil.dump"
        backup_database(pg_url, bak)
        with engine.begin() as conn:  # the live database, repaired; then one more article
            conn.exec_driver_sql("DROP VIEW IF EXISTS v")
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS hijack ON articles")
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS hijack()")
            conn.exec_driver_sql("DROP INDEX IF EXISTS ix_extra")
            conn.exec_driver_sql("ALTER TABLE feeds DROP COLUMN IF EXISTS note")
        s = open_store(pg_url)  # recreates nothing, but proves the live schema still works
        s.save_archive_articles(Outlet(name="example.org"), [_article(9)], "extracted")
        s.close()
        with pytest.raises(BackupError):
            restore_database(bak, pg_url)
        s = open_store(pg_url)
        try:
            assert s.stats()["articles"] == 4  # untouched: the refused restore wrote nothing
        finally:
            s.close()
        with engine.connect() as conn:
            names = {r[0] for r in conn.exec_driver_sql("SELECT nspname FROM pg_namespace")}
        assert not any(n.startswith("breakingon_check_") for n in names)  # scratch dropped
    finally:
        engine.dispose()


def test_pg_restore_of_our_own_schema(pg_url: str, tmp_path: Path) -> None:
    _live(pg_url)
    bak = tmp_path / "good.dump"
    backup_database(pg_url, bak)
    s = open_store(pg_url)
    s.save_archive_articles(Outlet(name="example.org"), [_article(9)], "extracted")
    s.close()
    restore_database(bak, pg_url)
    s = open_store(pg_url)
    try:
        assert s.stats()["articles"] == 3
    finally:
        s.close()


def test_pg_restore_of_a_whole_database_dump(tmp_path: Path) -> None:
    """A dedicated database (no search_path in the URL): the dump holds `public` whole."""
    import psycopg

    base = _root_conftest().PG_URL
    try:
        admin = psycopg.connect(base, autocommit=True, connect_timeout=5)
    except Exception as exc:  # pragma: no cover - depends on the machine
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    name = "bo_restore_" + uuid.uuid4().hex[:8]
    admin.execute(f'CREATE DATABASE "{name}"')
    url = base.rsplit("/", 1)[0] + f"/{name}"
    try:
        _live(url)
        good = backup_database(url, tmp_path / "good.dump")
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            for stmt in PG_TAMPERS["trigger"]:
                conn.exec_driver_sql(stmt)
        evil = backup_database(url, tmp_path / "evil.dump")
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TRIGGER hijack ON articles")
            conn.exec_driver_sql("DROP FUNCTION hijack()")
        engine.dispose()
        with pytest.raises(BackupError, match=r"FUNCTION|TRIGGER"):
            restore_database(evil.path, url)
        restore_database(good.path, url)
        s = open_store(url)
        try:
            assert s.stats()["articles"] == 3
        finally:
            s.close()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
