"""Online backup and restore of the store, so a damaged database is restored, not lost.

SQLite: the sqlite3 online-backup API copies the live database page by page into a
temporary file beside the target (writers keep going; WAL readers never block), the copy
is checked with `PRAGMA integrity_check`, then renamed into place, so a backup file is
either whole or absent. PostgreSQL: `pg_dump --format=custom` (a consistent snapshot in
one transaction) and `pg_restore`, taken from PATH; without them the commands say so.

Restore trusts no backup file: it is checked first (`ops.backup_check`: integrity, a
known revision, and exactly BreakingOn's schema at that revision, no trigger, view or
other object of its own) in a private copy or, for PostgreSQL, from the archive's table
of contents and schema, before the live database is touched. Passwords travel to the
PostgreSQL tools in PGPASSWORD, never on their command line; files are 0600.

Restore refuses to overwrite a database that is in use (any lease not yet expired: a
running `breakingon run` or worker holds them) unless forced, and refuses a backup whose
schema revision this BreakingOn does not know (made by a newer version). An older
revision is fine: migrations bring it up to date at the next start.

This module talks to the database files and the PostgreSQL tools only; it never touches
the pipeline, the web layer or settings (callers pass URLs and paths).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit, urlunsplit

import sqlalchemy as sa

from breakingon.ops.backup_check import (
    BackupError,
    check_pg_archive,
    check_sqlite_schema,
    pg_tool_target,
)
from breakingon.store import schema
from breakingon.store.files import (
    create_private_file,
    make_private_dir,
    secure_database_files,
)
from breakingon.store.owners import dead_owners
from breakingon.store.redact import redact_text, redact_url
from breakingon.store.sql import _alembic_config

__all__ = [
    "BackupError",
    "BackupInfo",
    "active_leases",
    "backup_database",
    "backup_postgres",
    "backup_sqlite",
    "known_revisions",
    "pg_dump_command",
    "pg_target",
    "restore_database",
    "restore_postgres",
    "restore_sqlite",
    "sqlite_path",
]

_LEASED_TABLES = ("feeds", "articles", "stories")


@dataclass(frozen=True, slots=True)
class BackupInfo:
    """What a backup or restore produced."""

    path: Path
    dialect: str  # "sqlite" or "postgresql"
    revision: str | None  # Alembic schema revision inside the backup
    bytes: int


def known_revisions() -> set[str]:
    """Schema revisions this BreakingOn knows (and can migrate from)."""
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}


def sqlite_path(url: str) -> Path:
    """The file of a `sqlite:///` URL."""
    if not url.startswith("sqlite:///"):
        raise BackupError(f"not a SQLite URL: {url!r}")
    raw = url[len("sqlite:///") :]
    if raw in ("", ":memory:"):
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(raw)


def _sqlite_revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    return str(row[0]) if row else None


def _integrity(conn: sqlite3.Connection) -> str:
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(r[0]) for r in rows[:5])


def backup_sqlite(url: str, dest: Path) -> BackupInfo:
    """Copy the live SQLite database at `url` into `dest`, verified, atomically."""
    src_path = sqlite_path(url)
    if not src_path.exists():
        raise BackupError(f"no database at {src_path}")
    dest = dest.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=dest.name + ".", suffix=".part", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True, timeout=60)
        dst = sqlite3.connect(tmp)
        try:
            # One step: a single read transaction, a consistent snapshot. Under WAL it
            # never blocks writers, while a stepwise copy restarts on every foreign write
            # and may never finish on a busy database.
            src.backup(dst, pages=-1)
            # A backup file is one self-contained file: no WAL beside it.
            dst.execute("PRAGMA journal_mode=DELETE")
            verdict = _integrity(dst)
            revision = _sqlite_revision(dst)
        finally:
            dst.close()
            src.close()
        if verdict != "ok":
            raise BackupError(f"the backup copy failed PRAGMA integrity_check: {verdict}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return BackupInfo(dest, "sqlite", revision, dest.stat().st_size)


def _as_utc(value: object) -> datetime | None:
    if not isinstance(value, datetime):
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def active_leases(url: str, now: datetime | None = None) -> list[str]:
    """Leases not yet expired in the database at `url` (a running pipeline holds some);
    a lease of a process of this machine that is gone (killed) does not count."""
    now = now or datetime.now(UTC)
    pg = url.replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sa.create_engine(pg)
    found: list[str] = []
    try:
        # Only columns every schema revision has are read, so the tables described in
        # breakingon.store.schema serve for a database of any revision we know.
        present = set(sa.inspect(engine).get_table_names())
        with engine.connect() as conn:
            if "leases" in present:  # since revision 0002
                t = schema.leases
                for lease in conn.execute(sa.select(t.c.name, t.c.owner, t.c.until)):
                    until = _as_utc(lease.until)
                    if until is not None and until > now and not dead_owners([lease.owner]):
                        found.append(
                            f"lease {lease.name} held by {lease.owner} until {until:%H:%M:%S} UTC"
                        )
            for name in _LEASED_TABLES:
                if name not in present:
                    continue
                t = schema.metadata.tables[name]
                for claim in conn.execute(
                    sa.select(t.c.lease_owner, t.c.lease_until)
                    .where(t.c.lease_until.is_not(None))
                    .limit(10_000)
                ):
                    until = _as_utc(claim.lease_until)
                    if until is not None and until > now and not dead_owners([claim.lease_owner]):
                        found.append(f"{name} claimed by {claim.lease_owner}")
                        break
    finally:
        engine.dispose()
    return found


def _check_revision(revision: str | None, what: str) -> None:
    if revision is None:
        raise BackupError(f"{what} holds no BreakingOn schema (no alembic_version)")
    if revision not in known_revisions():
        raise BackupError(
            f"{what} has schema revision {revision}, newer than this BreakingOn knows; "
            "restore it with the BreakingOn version that made it"
        )


def _open_untrusted(path: Path, *, readonly: bool) -> sqlite3.Connection:
    """A connection to a database file that is not trusted yet: no schema-defined code
    (triggers, views, functions in defaults) runs from it (`trusted_schema=OFF`)."""
    mode = "ro" if readonly else "rw"
    conn = sqlite3.connect(f"file:{path}?mode={mode}", uri=True, timeout=60)
    conn.execute("PRAGMA trusted_schema=OFF")
    return conn


def _checked_copy(backup: Path, tmp: Path) -> str:
    """Copy `backup` into the private file `tmp` and check the copy: integrity, a known
    revision and exactly BreakingOn's schema. Returns the revision."""
    try:
        src = _open_untrusted(backup, readonly=True)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst, pages=-1)
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        conn = _open_untrusted(tmp, readonly=True)
        try:
            verdict = _integrity(conn)
            if verdict != "ok":
                raise BackupError(f"{backup} failed PRAGMA integrity_check: {verdict}")
            revision = _sqlite_revision(conn)
            _check_revision(revision, str(backup))
            assert revision is not None
            check_sqlite_schema(conn, revision, str(backup))
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{backup} is not a SQLite backup ({exc})") from None
    return revision


def restore_sqlite(backup: Path, url: str, *, force: bool = False) -> BackupInfo:
    """Replace the SQLite database at `url` with the content of `backup`.

    The backup is copied into a private file beside the target and checked there
    (`_checked_copy`) before the live database is touched; only a copy that passed is
    written into the target, in one transaction of the online-backup API (WAL-safe: the
    target's own journal and locks apply, so a failure leaves the old database whole).
    """
    backup = backup.resolve()
    if not backup.is_file():
        raise BackupError(f"no backup file at {backup}")
    target = sqlite_path(url)
    make_private_dir(target.parent, target.name)
    fd, tmp_name = tempfile.mkstemp(prefix=".restore-", suffix=".sqlite", dir=target.parent)
    os.close(fd)  # mkstemp made it 0600
    tmp = Path(tmp_name)
    try:
        revision = _checked_copy(backup, tmp)
        if target.exists() and not force:
            busy = active_leases(url)
            if busy:
                raise BackupError(
                    f"the database at {target} is in use ({busy[0]}); stop BreakingOn first "
                    "or pass --force"
                )
        create_private_file(target)
        src = sqlite3.connect(f"file:{tmp}?mode=ro", uri=True)
        dst = sqlite3.connect(target, timeout=60)
        try:
            src.backup(dst, pages=-1)  # one step: one transaction on the target
            verdict = _integrity(dst)
        finally:
            dst.close()
            src.close()
    finally:
        tmp.unlink(missing_ok=True)
        for side in ("-journal", "-wal", "-shm"):
            Path(f"{tmp}{side}").unlink(missing_ok=True)
    secure_database_files(target)
    if verdict != "ok":
        raise BackupError(f"the restored database failed PRAGMA integrity_check: {verdict}")
    return BackupInfo(target, "sqlite", revision, target.stat().st_size)


# ------------------------------------------------------------------------------ PostgreSQL


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not on PATH: install the PostgreSQL client tools (e.g. the "
            "postgresql-client package) matching the server's major version"
        )
    return path


def pg_target(url: str) -> tuple[str, str | None]:
    """(libpq URL without `options`, the schema named by `-csearch_path=` or None)."""
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://", 1))
    query = parse_qs(parts.query)
    schema: str | None = None
    for opt in query.get("options", []):
        for token in unquote(opt).split():
            if token.startswith("-csearch_path="):
                schema = token.split("=", 1)[1].split(",")[0].strip() or None
    rest = "&".join(f"{k}={v}" for k, values in query.items() if k != "options" for v in values)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, rest, "")), schema


def _pg_revision(url: str) -> str | None:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()
    except sa.exc.DBAPIError:
        return None
    finally:
        engine.dispose()


def _pg_run(
    cmd: list[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL tool; the password travels in `env` (PGPASSWORD), never argv."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


def pg_dump_command(tool: str, url: str, dest: Path) -> tuple[list[str], dict[str, str]]:
    """The pg_dump argv and environment for a backup of the store at `url` into `dest`:
    the URL on the command line carries no password (see `pg_tool_target`)."""
    conn_url, schema = pg_target(url)
    target, env = pg_tool_target(conn_url)
    cmd = [tool, "--format=custom", "--no-owner", "--file", str(dest), "--dbname", target]
    if schema:
        cmd += ["--schema", schema]
    return cmd, env


def backup_postgres(url: str, dest: Path) -> BackupInfo:
    """`pg_dump --format=custom` of the BreakingOn schema at `url` into `dest` (0600)."""
    tool = _pg_tool("pg_dump")
    dest = dest.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    tmp.unlink(missing_ok=True)
    create_private_file(tmp)  # pg_dump writes into it and keeps its mode
    cmd, env = pg_dump_command(tool, url, tmp)
    try:
        proc = _pg_run(cmd, env, 3600)
        if proc.returncode != 0:
            raise BackupError(f"pg_dump failed: {redact_text(proc.stderr.strip())[:500]}")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return BackupInfo(dest, "postgresql", _pg_revision(url), dest.stat().st_size)


def _dump_revision(tool: str, backup: Path) -> str | None:
    # The dump's own alembic_version row, read back as SQL text without touching a server.
    proc = subprocess.run(
        [tool, "--data-only", "--table", "alembic_version", "--file", "-", str(backup)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        raise BackupError(f"{backup} is not a pg_dump archive: {proc.stderr.strip()[:300]}")
    lines = proc.stdout.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and i + 1 < len(lines):
            value = lines[i + 1].strip()
            return None if value == "\\." else value
    return None


def restore_postgres(backup: Path, url: str, *, force: bool = False) -> BackupInfo:
    """`pg_restore --clean` of `backup` into the database (schema) at `url`."""
    tool = _pg_tool("pg_restore")
    backup = backup.resolve()
    if not backup.is_file():
        raise BackupError(f"no backup file at {backup}")
    revision = _dump_revision(tool, backup)
    _check_revision(revision, str(backup))
    assert revision is not None
    if not force and _pg_revision(url) is not None:
        busy = active_leases(url)
        if busy:
            raise BackupError(
                f"the database is in use ({busy[0]}); stop every BreakingOn worker first "
                "or pass --force"
            )
    conn_url, _ = pg_target(url)
    # Checked before anything is written: no object that is not ours, exactly our schema.
    check_pg_archive(backup, conn_url, revision, tool, _pg_tool("pg_dump"))
    target, env = pg_tool_target(conn_url)
    cmd = [
        tool,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",  # no grant from a file reaches the server
        "--single-transaction",
        "--exit-on-error",
        "--dbname",
        target,
        str(backup),
    ]
    proc = _pg_run(cmd, env, 3600)
    if proc.returncode != 0:
        raise BackupError(f"pg_restore failed: {redact_text(proc.stderr.strip())[:500]}")
    return BackupInfo(backup, "postgresql", revision, backup.stat().st_size)


def backup_database(url: str, dest: Path) -> BackupInfo:
    """Back up the store at `url` (SQLite or PostgreSQL) into the file `dest`."""
    if url.startswith("sqlite:///"):
        return backup_sqlite(url, dest)
    if url.startswith(("postgresql://", "postgresql+psycopg://")):
        return backup_postgres(url, dest)
    raise BackupError(f"unsupported database URL {redact_url(url)!r}")


def restore_database(backup: Path, url: str, *, force: bool = False) -> BackupInfo:
    """Restore the file `backup` into the store at `url` (refusing a busy or newer one)."""
    if url.startswith("sqlite:///"):
        return restore_sqlite(backup, url, force=force)
    if url.startswith(("postgresql://", "postgresql+psycopg://")):
        return restore_postgres(backup, url, force=force)
    raise BackupError(f"unsupported database URL {redact_url(url)!r}")
