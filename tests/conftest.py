"""Shared fixtures: a real store on SQLite (file in tmp_path) and on PostgreSQL.

The PostgreSQL case uses BREAKINGON_TEST_POSTGRES_URL (default: the local server on
127.0.0.1:5432, database `test`). Each test gets its own schema, dropped afterwards.
With CI=true an unreachable PostgreSQL fails the run; elsewhere it skips.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from breakingon.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
PG_URL = os.environ.get("BREAKINGON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_admin():  # type: ignore[no-untyped-def]
    import psycopg

    return psycopg.connect(PG_URL, autocommit=True, connect_timeout=5)


def pg_schema_url() -> Iterator[str]:
    """Yield a PostgreSQL URL bound to a fresh schema; drop the schema afterwards."""
    try:
        admin = _pg_admin()
    except Exception as exc:  # pragma: no cover - depends on the machine
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must run in CI: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    schema = "t_" + uuid.uuid4().hex[:12]
    admin.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
    else:
        yield from pg_schema_url()


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not beside this checkout")
    return SHARED_DATA


@pytest.fixture(scope="session")
def wmt_rows() -> list[dict[str, str]]:
    """The parallel news of ../shared/data/multilingual/wmt-dev.jsonl (one article a row:
    id, cluster, title, text, lang; the same article in several languages), read at test
    time; the test skips without it."""
    import json

    path = SHARED_DATA / "multilingual" / "wmt-dev.jsonl"
    if not path.is_file():
        pytest.skip(f"{path} is not beside this checkout")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="session")
def three_languages(wmt_rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    """One article of the parallel news in English, German and French ({lang: row}): the
    first document (by id) with the three versions of at least 12 sentences each."""
    clusters: dict[str, dict[str, dict[str, str]]] = {}
    for row in wmt_rows:
        clusters.setdefault(row["cluster"], {})[row["lang"]] = row
    for key in sorted(clusters):
        versions = clusters[key]
        if all(v in versions and versions[v]["text"].count("\n") >= 11 for v in ("en", "de", "fr")):
            return versions
    pytest.skip("no document in English, German and French")
