"""A backup is checked before it replaces anything: its schema must be exactly ours.

A backup file is not trusted: a trigger, view or any other object in it would run inside
the live database after a restore (a trigger rewriting every feed URL on the next
ingest), and a backup missing a table would replace a working database with a broken
one. So the schema in the backup is compared with the schema this BreakingOn's own
migrations make at the backup's revision, object by object:

- SQLite: every entry of `sqlite_master` (tables, indexes, triggers, views) by type,
  name, table and SQL text, against a reference database migrated to that revision in a
  temporary file; the full-text index's shadow tables by name (SQLite itself makes
  them). Nothing more, nothing less, and one `alembic_version` row.
- PostgreSQL: the archive's table of contents (`pg_restore -l`) may only hold schemas,
  tables, sequences, defaults, constraints, indexes and their data (no function,
  trigger, view, rule, policy, extension, ...), and its schema-only SQL must be the
  same statements as `pg_dump` gives for a scratch schema migrated to that revision on
  the same server (dropped afterwards).

Raises `BackupError` naming the first difference. Callers (`ops.backup`) run this on a
private copy before the live database is touched.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import sqlalchemy as sa
from alembic import command

from breakingon.store import schema
from breakingon.store.redact import redact_text
from breakingon.store.sql import _alembic_config


class BackupError(RuntimeError):
    """A backup or restore could not be done; the message says why and what to do."""


_FTS_SHADOWS = ("data", "idx", "content", "docsize", "config")
_SQLITE_INTERNAL = re.compile(r"^sqlite_(stat\d|sequence)$")


def _norm(sql: str | None) -> str:
    return " ".join((sql or "").split())


def _shadow(name: str) -> bool:
    return any(name == f"{t}_{s}" for t in schema.SEARCH_TABLES for s in _FTS_SHADOWS)


def sqlite_objects(conn: sqlite3.Connection) -> dict[tuple[str, str], tuple[str, str]]:
    """(type, name) -> (table, normalized SQL) of every schema object but SQLite's own
    statistics and sequence tables; FTS shadow tables with their SQL left out."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for kind, name, table, sql in conn.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master"
    ):
        if kind == "table" and _SQLITE_INTERNAL.match(str(name)):
            continue
        text = "" if kind == "table" and _shadow(str(name)) else _norm(sql)
        out[(str(kind), str(name))] = (str(table), text)
    return out


def _migrated(url: str, revision: str) -> sa.Engine:
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return engine


@functools.cache
def _sqlite_reference(revision: str) -> dict[tuple[str, str], tuple[str, str]]:
    with tempfile.TemporaryDirectory(prefix="breakingon-ref-") as tmp:
        path = Path(tmp) / "ref.sqlite"
        _migrated(f"sqlite:///{path}", revision).dispose()
        conn = sqlite3.connect(path)
        try:
            return sqlite_objects(conn)
        finally:
            conn.close()


def check_sqlite_schema(conn: sqlite3.Connection, revision: str, what: str) -> None:
    """Refuse a SQLite database whose schema is not the one of `revision`, exactly."""
    got = sqlite_objects(conn)
    want = _sqlite_reference(revision)
    for key in sorted(set(got) - set(want)):
        raise BackupError(
            f"{what} holds a {key[0]} {key[1]!r} that BreakingOn's schema (revision "
            f"{revision}) does not have; refusing to restore it"
        )
    for key in sorted(set(want) - set(got)):
        raise BackupError(f"{what} lacks the {key[0]} {key[1]!r} of revision {revision}")
    for key in sorted(want):
        if got[key] != want[key]:
            raise BackupError(
                f"{what}: the {key[0]} {key[1]!r} differs from revision {revision}'s "
                f"({got[key][1][:200]!r})"
            )
    rows = conn.execute("SELECT count(*) FROM alembic_version").fetchone()
    if rows is None or rows[0] != 1:
        raise BackupError(f"{what} must hold exactly one alembic_version row")


# ------------------------------------------------------------------------------ PostgreSQL

# Entry types a pg_dump of our schema holds (pg_restore -l); anything else is refused.
PG_ALLOWED = frozenset(
    {
        "SCHEMA",
        "TABLE",
        "TABLE DATA",
        "SEQUENCE",
        "SEQUENCE OWNED BY",
        "SEQUENCE SET",
        "DEFAULT",
        "CONSTRAINT",
        "FK CONSTRAINT",
        "INDEX",
    }
)
_FRAME = ("CREATE SCHEMA ", "COMMENT ON SCHEMA ", "ALTER SCHEMA ")
_TOC_LINE = re.compile(r"^\d+;\s+\d+\s+\d+\s+(?P<rest>.+)$")


def pg_toc(tool: str, backup: Path) -> list[tuple[str, str, str]]:
    """(type, schema, name) of every entry of the archive (`pg_restore -l`)."""
    proc = subprocess.run([tool, "-l", str(backup)], capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise BackupError(f"{backup} is not a pg_dump archive: {proc.stderr.strip()[:300]}")
    entries: list[tuple[str, str, str]] = []
    for line in proc.stdout.splitlines():
        m = _TOC_LINE.match(line.strip())
        if m is None:
            continue
        words = m.group("rest").split()
        for n in (3, 2, 1):  # the longest type that fits: "SEQUENCE OWNED BY" before "SEQUENCE"
            kind = " ".join(words[:n])
            if kind in PG_ALLOWED or n == 1:
                break
        rest = words[len(kind.split()) :]
        entries.append((kind, rest[0] if rest else "", " ".join(rest[1:-1]) or "-"))
    return entries


def _pg_statements(sql: str, schema_name: str) -> list[str]:
    """The statements of a schema-only dump, schema name replaced, sorted."""
    lines = [
        ln
        for ln in sql.splitlines()
        if ln.strip() and not ln.startswith(("--", "SET ", "\\"))
        and "pg_catalog.set_config" not in ln
    ]  # fmt: skip
    text = "\n".join(lines)
    text = re.sub(rf'(?<![\w"]){re.escape(schema_name)}(?![\w"])', "<schema>", text)
    text = text.replace(f'"{schema_name}"', "<schema>")
    statements = (_norm(s) for s in text.split(";\n"))
    # the schema itself is the dump's frame (absent from a whole-database dump)
    return sorted(s for s in statements if s and not s.startswith(_FRAME))


def _schema_sql(cmd: list[str], env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    if proc.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed: {redact_text(proc.stderr.strip())[:300]}")
    return proc.stdout


def pg_tool_target(conn_url: str) -> tuple[str, dict[str, str]]:
    """The libpq URL without its password, and the environment that carries it
    (PGPASSWORD), so no password reaches a command line (the process table)."""
    parts = urlsplit(conn_url)
    env = dict(os.environ)
    if parts.password is None:
        return conn_url, env
    env["PGPASSWORD"] = unquote(parts.password)
    host = parts.netloc.rpartition("@")[2]
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    netloc = f"{user}@{host}" if user else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), env


def check_pg_archive(
    backup: Path, conn_url: str, revision: str, restore_tool: str, dump_tool: str
) -> None:
    """Refuse an archive holding any object that is not ours, or a schema that is not
    exactly revision `revision`'s (compared with a scratch schema on the server at the
    libpq URL `conn_url`)."""
    entries = pg_toc(restore_tool, backup)
    foreign = [
        e
        for e in entries
        if e[0] not in PG_ALLOWED
        and e[0] != "ACL"  # privileges: never restored (`--no-privileges`)
        and not (e[0] == "COMMENT" and e[2].startswith("SCHEMA "))  # `public`'s
    ]
    if foreign:
        kind, sch, name = foreign[0]
        raise BackupError(
            f"{backup} holds a {kind} ({sch}.{name}) that is not part of BreakingOn's "
            f"schema ({len(foreign)} such entries); refusing to restore it"
        )
    schemas = {sch for kind, sch, _ in entries if kind == "TABLE"}
    if len(schemas) != 1:
        raise BackupError(f"{backup} holds tables in {len(schemas)} schemas, not one")
    (dumped,) = schemas
    got = _pg_statements(
        _schema_sql(
            [restore_tool, "--schema-only", "--no-owner", "--no-privileges", "-f", "-", str(backup)]
        ),
        dumped,
    )
    scratch = "breakingon_check_" + uuid.uuid4().hex[:10]
    try:
        want = _reference_statements(conn_url, scratch, revision, dump_tool)
    except sa.exc.DBAPIError as exc:
        why = redact_text(str(exc.orig))
        raise BackupError(f"cannot check {backup} on the server: {why}") from None
    extra = [s for s in got if s not in want]
    missing = [s for s in want if s not in got]
    if extra or missing:
        first = (extra or missing)[0][:200]
        how = "holds a statement not" if extra else "lacks a statement"
        raise BackupError(
            f"{backup} {how} in BreakingOn's schema at revision {revision}: {first!r}"
        )


def _reference_statements(conn_url: str, scratch: str, revision: str, dump_tool: str) -> list[str]:
    """The schema-only statements of a scratch schema migrated to `revision` on the
    server at `conn_url` (made and dropped here)."""
    admin = sa.create_engine(conn_url.replace("postgresql://", "postgresql+psycopg://", 1))
    made = False
    try:
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{scratch}"'))
        made = True
        sep = "&" if "?" in conn_url else "?"
        _migrated(f"{conn_url}{sep}options=-csearch_path%3D{scratch}", revision).dispose()
        target, env = pg_tool_target(conn_url)
        cmd = [dump_tool, "--schema-only", "--no-owner", "--no-privileges", "--schema", scratch]
        return _pg_statements(_schema_sql([*cmd, "--dbname", target], env), scratch)
    finally:
        if made:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{scratch}" CASCADE'))
        admin.dispose()
