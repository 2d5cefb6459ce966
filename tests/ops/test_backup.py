"""Online backup and restore on SQLite and PostgreSQL, taken while writes are happening.

A writer thread stores batches of articles, each batch in one transaction; a backup is
taken in the middle. Restored, the database must be whole (integrity check), hold only
complete batches, and hold no fewer articles than were committed before the backup began.
"""

from __future__ import annotations

import importlib.util
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from breakingon.ops.backup import (
    BackupError,
    active_leases,
    backup_database,
    restore_database,
)
from breakingon.records import Article, Outlet
from breakingon.store import Store, open_store

BATCH = 7


def _root_conftest():  # type: ignore[no-untyped-def]
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("_breakingon_root_conftest", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'live.sqlite'}"
    else:
        yield from _root_conftest().pg_schema_url()


def _batch(n: int) -> list[Article]:
    when = datetime(2025, 2, 10, tzinfo=UTC) + timedelta(minutes=n)
    return [
        Article(
            url=f"https://example.org/{n}/{i}",
            title=f"Batch {n} article {i}",
            text=f"Text of article {i} in batch {n}. " * 20,
            published=when,
            item_key=f"https://example.org/{n}/{i}",
        )
        for i in range(BATCH)
    ]


class Writer(threading.Thread):
    def __init__(self, store: Store) -> None:
        super().__init__(daemon=True)
        self.store = store
        self.committed = 0
        self.halt = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        n = 0
        try:
            while not self.halt.is_set():
                self.store.save_archive_articles(Outlet(name="example.org"), _batch(n), "extracted")
                n += 1
                self.committed = n * BATCH
        except BaseException as exc:  # surfaced by the test
            self.error = exc


def _articles(url: str) -> int:
    s = open_store(url)
    try:
        return s.stats()["articles"]
    finally:
        s.close()


def test_backup_during_writes_restores_whole(url: str, tmp_path: Path) -> None:
    store = open_store(url)
    writer = Writer(store)
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while writer.committed < 20 * BATCH and time.monotonic() < deadline:
            time.sleep(0.02)
        before = writer.committed
        info = backup_database(url, tmp_path / "snap.bak")
        after = writer.committed
        time.sleep(0.2)  # more writes after the backup, which the restore must undo
    finally:
        writer.halt.set()
        writer.join(30)
    assert writer.error is None, writer.error
    assert before >= 20 * BATCH
    assert info.path.is_file() and info.bytes > 0
    assert info.revision is not None
    final = store.stats()["articles"]
    store.close()
    assert final >= after

    restore_database(info.path, url, force=False)  # writer stopped: no live leases
    restored = _articles(url)
    assert restored % BATCH == 0, "a batch (one transaction) was cut in half"
    assert before <= restored <= after + BATCH
    assert restored < final

    s = open_store(url)  # the restored store opens (schema known, migrations no-op)
    try:
        got = s.list_articles(limit=BATCH * 1000)
        assert len({a.url for a in got}) == restored
    finally:
        s.close()
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///") :])
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()


def test_restore_refuses_running_database_unless_forced(url: str, tmp_path: Path) -> None:
    store = open_store(url)
    store.save_archive_articles(Outlet(name="example.org"), _batch(0), "extracted")
    info = backup_database(url, tmp_path / "one.bak")
    store.save_archive_articles(Outlet(name="example.org"), _batch(1), "extracted")
    held, _ = store.try_lease("cluster-leader", "worker-a", datetime.now(UTC), 300)
    assert held
    assert active_leases(url)
    with pytest.raises(BackupError, match="in use"):
        restore_database(info.path, url)
    assert store.stats()["articles"] == 2 * BATCH  # untouched
    store.close()
    restore_database(info.path, url, force=True)
    assert _articles(url) == BATCH


def test_restore_refuses_newer_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite'}"
    open_store(url).close()
    bak = tmp_path / "a.bak"
    backup_database(url, bak)
    conn = sqlite3.connect(bak)
    conn.execute("UPDATE alembic_version SET version_num = '9999_future'")
    conn.commit()
    conn.close()
    with pytest.raises(BackupError, match="newer than this BreakingOn"):
        restore_database(bak, f"sqlite:///{tmp_path / 'b.sqlite'}")
    assert not (tmp_path / "b.sqlite").exists()


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bak"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(BackupError):
        restore_database(junk, f"sqlite:///{tmp_path / 'x.sqlite'}")


def test_backup_restore_cli_roundtrip(tmp_path: Path) -> None:
    db = tmp_path / "data" / "breakingon.sqlite"
    url = f"sqlite:///{db}"
    s = open_store(url)
    s.save_archive_articles(Outlet(name="example.org"), _batch(3), "extracted")
    s.close()
    env = {"BREAKINGON_DATA_DIR": str(tmp_path / "data"), "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-c", "from breakingon.cli import main; main()"]
    out = subprocess.run(
        [*cmd, "backup", str(tmp_path / "cli.bak")], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert '"revision"' in out.stdout
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM articles")
    engine.dispose()
    assert _articles(url) == 0
    out = subprocess.run(
        [*cmd, "restore", str(tmp_path / "cli.bak")], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert _articles(url) == BATCH
    out = subprocess.run(
        [*cmd, "restore", str(tmp_path / "missing.bak")], env=env, capture_output=True, text=True
    )
    assert out.returncode == 3
    assert "no backup file" in out.stderr and "Traceback" not in out.stderr
