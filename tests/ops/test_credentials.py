"""Credentials never reach logs, error messages or the process table; the SQLite
database, its journals and backups are private to their owner (hardening 10)."""

from __future__ import annotations

import importlib.util
import logging
import os
import socket
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from breakingon.ops import backup as backup_mod
from breakingon.ops.backup import BackupError, backup_database, pg_dump_command, restore_database
from breakingon.records import Article, Outlet
from breakingon.store import StoreError, open_store
from breakingon.store.redact import redact_text, redact_url

SECRET = "hunter2-Sup3r"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _root_conftest():  # type: ignore[no-untyped-def]
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("_breakingon_root_conftest_cred", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_redaction_masks_every_password_form() -> None:
    for text in (
        f"postgresql://bo:{SECRET}@db.example:5432/news",
        f"postgresql+psycopg://bo:{SECRET}@db/news?sslmode=require",
        f"could not connect to http://user:{SECRET}@127.0.0.1:8080/v1/chat/completions: refused",
        f"host=db password={SECRET} dbname=news",
        f"postgresql://bo:{SECRET}@@db/news",
    ):
        assert SECRET not in redact_text(text), text
    assert redact_url("sqlite:////var/lib/bo/db.sqlite") == "sqlite:////var/lib/bo/db.sqlite"
    assert redact_url("postgresql://bo@db/news") == "postgresql://bo@db/news"


def test_store_errors_and_logs_carry_no_password(caplog: pytest.LogCaptureFixture) -> None:
    url = f"postgresql://bo:{SECRET}@127.0.0.1:{_closed_port()}/news"
    with pytest.raises(StoreError) as info:
        open_store(url)
    assert SECRET not in str(info.value) and "bo:***@" in str(info.value)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("breakingon").error("store failed: %s", info.value)
    assert SECRET not in caplog.text
    with pytest.raises(StoreError) as info2:
        open_store(f"mysql://bo:{SECRET}@db/news")
    assert SECRET not in str(info2.value)


def test_pg_dump_argv_has_no_password_and_the_backup_still_works(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cmd, env = pg_dump_command(
        "pg_dump", f"postgresql://bo:{SECRET}@db.example:5432/news?sslmode=require", tmp_path / "x"
    )
    assert not any(SECRET in arg for arg in cmd), cmd
    assert env["PGPASSWORD"] == SECRET
    assert "postgresql://bo@db.example:5432/news?sslmode=require" in cmd
    # for real: the local server trusts 127.0.0.1, so any password is accepted
    gen = _root_conftest().pg_schema_url()
    url = next(gen)
    try:
        secret_url = url.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@", 1)
        assert SECRET in secret_url
        open_store(secret_url).close()
        seen: list[Any] = []
        real_run = subprocess.run

        def spy(argv: list[str], *a: Any, **kw: Any) -> Any:
            seen.append(argv)
            return real_run(argv, *a, **kw)

        monkeypatch.setattr(backup_mod.subprocess, "run", spy)
        monkeypatch.setattr("breakingon.ops.backup_check.subprocess.run", spy)
        dump = tmp_path / "pg.dump"
        backup_database(secret_url, dump)
        assert _mode(dump) == 0o600
        restore_database(dump, secret_url)
        assert seen and not any(SECRET in str(arg) for argv in seen for arg in argv)
    finally:
        gen.close()


def test_pg_tool_failures_carry_no_password(tmp_path: Path) -> None:
    url = f"postgresql://bo:{SECRET}@127.0.0.1:{_closed_port()}/news"
    with pytest.raises(BackupError) as info:
        backup_database(url, tmp_path / "x.dump")
    assert SECRET not in str(info.value)


def test_sqlite_files_are_private(tmp_path: Path, umask_022: None) -> None:
    data = tmp_path / "data"
    db = data / "breakingon.sqlite"
    store = open_store(f"sqlite:///{db}")
    try:
        when = datetime(2025, 2, 10, tzinfo=UTC)
        store.save_archive_articles(
            Outlet(name="example.org"),
            [
                Article(
                    url="https://example.org/1", title="T", text="x", published=when, item_key="1"
                )
            ],
            "extracted",
        )
        assert _mode(data) == 0o700
        assert _mode(db) == 0o600
        sides = [p for p in (Path(f"{db}-wal"), Path(f"{db}-shm")) if p.exists()]
        assert sides  # WAL mode, open: both are there
        assert all(_mode(p) == 0o600 for p in sides), [oct(_mode(p)) for p in sides]
    finally:
        store.close()
    info = backup_database(f"sqlite:///{db}", tmp_path / "backups" / "b.sqlite")
    assert _mode(info.path) == 0o600
    fresh = tmp_path / "fresh"  # made by the CLI (mkdir, umask 022) just before the store
    fresh.mkdir()
    assert _mode(fresh) == 0o755
    restored = restore_database(info.path, f"sqlite:///{fresh / 'breakingon.sqlite'}")
    assert _mode(fresh) == 0o700 and _mode(restored.path) == 0o600


def test_an_existing_world_readable_database_is_made_private(
    tmp_path: Path, umask_022: None
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "notes.txt").write_text("someone else's")
    db = shared / "old.sqlite"
    sqlite3.connect(db).close()
    db.chmod(0o644)
    open_store(f"sqlite:///{db}").close()
    assert _mode(db) == 0o600
    assert _mode(shared) == 0o755  # a directory holding other files is never changed
    (shared / "notes.txt").unlink()  # BreakingOn's own directory, made 0755 by an old version
    open_store(f"sqlite:///{db}").close()
    assert _mode(shared) == 0o700


def test_a_bad_database_url_setting_is_refused_without_its_password() -> None:
    from breakingon.settings import SettingsError, load_settings

    with pytest.raises(SettingsError) as info:
        load_settings({"BREAKINGON_DATABASE_URL": f"mysql://bo:{SECRET}@db/news"})
    assert SECRET not in str(info.value) and "mysql" in str(info.value)
