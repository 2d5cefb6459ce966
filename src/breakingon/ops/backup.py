"""Online backup and restore of the store, so a damaged database is restored, not lost.

SQLite: the sqlite3 online-backup API copies the live database page by page into a
temporary file beside the target (writers keep going; WAL readers never block), the copy
is checked with `PRAGMA integrity_check`, then renamed into place, so a backup file is
either whole or absent. PostgreSQL: `pg_dump --format=custom` (a consistent snapshot in
one transaction) and `pg_restore`, taken from PATH; without them the commands say so.

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

from breakingon.store import schema
from breakingon.store.owners import dead_owners
from breakingon.store.sql import _alembic_config

_LEASED_TABLES = ("feeds", "articles", "stories")


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says why and what to do."""


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


def restore_sqlite(backup: Path, url: str, *, force: bool = False) -> BackupInfo:
    """Replace the SQLite database at `url` with the content of `backup`."""
    backup = backup.resolve()
    if not backup.is_file():
        raise BackupError(f"no backup file at {backup}")
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        verdict = _integrity(src)
        revision = _sqlite_revision(src)
    except sqlite3.DatabaseError as exc:
        src.close()
        raise BackupError(f"{backup} is not a SQLite backup ({exc})") from None
    if verdict != "ok":
        src.close()
        raise BackupError(f"{backup} failed PRAGMA integrity_check: {verdict}")
    try:
        _check_revision(revision, str(backup))
        target = sqlite_path(url)
        if target.exists() and not force:
            busy = active_leases(url)
            if busy:
                raise BackupError(
                    f"the database at {target} is in use ({busy[0]}); stop BreakingOn first "
                    "or pass --force"
                )
        target.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(target, timeout=60)
        try:
            src.backup(dst)  # page-level copy under the target's own locks (WAL-safe)
            verdict = _integrity(dst)
        finally:
            dst.close()
    finally:
        src.close()
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


def backup_postgres(url: str, dest: Path) -> BackupInfo:
    """`pg_dump --format=custom` of the BreakingOn schema at `url` into `dest`."""
    tool = _pg_tool("pg_dump")
    conn_url, schema = pg_target(url)
    dest = dest.resolve()
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    cmd = [tool, "--format=custom", "--no-owner", "--file", str(tmp), "--dbname", conn_url]
    if schema:
        cmd += ["--schema", schema]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
        if proc.returncode != 0:
            raise BackupError(f"pg_dump failed: {proc.stderr.strip()[:500]}")
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
    if not force and _pg_revision(url) is not None:
        busy = active_leases(url)
        if busy:
            raise BackupError(
                f"the database is in use ({busy[0]}); stop every BreakingOn worker first "
                "or pass --force"
            )
    conn_url, _ = pg_target(url)
    cmd = [
        tool,
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        "--dbname",
        conn_url,
        str(backup),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise BackupError(f"pg_restore failed: {proc.stderr.strip()[:500]}")
    return BackupInfo(backup, "postgresql", revision, backup.stat().st_size)


def backup_database(url: str, dest: Path) -> BackupInfo:
    """Back up the store at `url` (SQLite or PostgreSQL) into the file `dest`."""
    if url.startswith("sqlite:///"):
        return backup_sqlite(url, dest)
    if url.startswith(("postgresql://", "postgresql+psycopg://")):
        return backup_postgres(url, dest)
    raise BackupError(f"unsupported database URL {url!r}")


def restore_database(backup: Path, url: str, *, force: bool = False) -> BackupInfo:
    """Restore the file `backup` into the store at `url` (refusing a busy or newer one)."""
    if url.startswith("sqlite:///"):
        return restore_sqlite(backup, url, force=force)
    if url.startswith(("postgresql://", "postgresql+psycopg://")):
        return restore_postgres(backup, url, force=force)
    raise BackupError(f"unsupported database URL {url!r}")
