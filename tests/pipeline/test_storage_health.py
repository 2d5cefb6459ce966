"""A storage failure keeps /healthz degraded until the failing call works again (hardening 13).

A real crawl over a loopback newsroom into a real SQLite file whose disk is "full"
(`max_page_count` pinned to its size: claims and small updates fit, new articles do
not). The stage catches the failed save to go on with the next feed, but /healthz must
say degraded, and successful claims or reads must not clear it; once the disk has room
and the save succeeds, it is ok again. A store whose reads fail answers 503.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from newsfixtures import after, make_stream
from starlette.applications import Starlette
from starlette.testclient import TestClient

from breakingon.ops.health import Health, ops_routes
from breakingon.pipeline.runner import Pipeline
from breakingon.settings import Settings, parse_networks
from breakingon.sim.server import Newsroom
from breakingon.sources.catalogue import feed_url_key, parse_opml
from breakingon.store import open_store
from netguard import loopback_only

__all__ = ["loopback_only"]


def _pin_size(engine: sa.Engine, pinned: dict[str, int]) -> None:
    """Every new write connection may not grow the file past `pinned["pages"]`."""

    @sa.event.listens_for(engine, "connect")
    def _full(dbapi_conn: Any, _rec: Any) -> None:
        if pinned["pages"]:
            dbapi_conn.execute(f"PRAGMA max_page_count = {pinned['pages']}")

    engine.dispose()


def test_a_failed_save_keeps_healthz_degraded_until_it_succeeds(tmp_path: Path) -> None:
    db = tmp_path / "full.sqlite"
    store = open_store(f"sqlite:///{db}")
    rows = make_stream(2, 6, prefix="h")
    with Newsroom(rows, speed=0, start=after(rows)) as room:
        feeds = parse_opml(httpx.get(room.opml_url).content)
        store.add_feeds([(f, feed_url_key(f.url), None) for f in feeds])
        with store._w.connect() as conn:  # type: ignore[attr-defined]
            pages = int(conn.exec_driver_sql("PRAGMA page_count").scalar() or 0)
        pinned = {"pages": pages}
        _pin_size(store._w, pinned)  # type: ignore[attr-defined]
        health = Health()
        settings = Settings(
            data_dir=tmp_path,
            extract_workers=1,
            lease_s=1,
            per_host_delay_s=0.05,
            fetch_allow_networks=parse_networks("allow", "127.0.0.0/8"),
        )
        with TestClient(Starlette(routes=ops_routes(store, health))) as client:
            assert client.get("/healthz").json()["status"] == "ok"
            pipeline = Pipeline(settings, store, "w", process=False, health=health)
            asyncio.run(pipeline.run(asyncio.Event(), once=True))
            assert pipeline.progress.feeds_checked >= 2  # checked, but nothing stored
            assert store.stats()["articles"] == 0
            body = client.get("/healthz").json()
            assert body["status"] == "degraded", body
            assert "full" in body["problems"]["storage"], body
            # other calls succeeding (a claim writes, stats reads) never clear it
            pipeline.store.claim_articles("discovered", "w", pipeline.clock(), 5, 1)
            pipeline.store.stats()
            assert client.get("/healthz").json()["status"] == "degraded"

            pinned["pages"] = 0  # the disk has room again
            store._w.dispose()  # type: ignore[attr-defined]
            time.sleep(1.1)  # the failed checks' leases (1 s) run out
            asyncio.run(pipeline.run(asyncio.Event(), once=True))
            assert store.stats()["articles"] == len(rows)
            body = client.get("/healthz").json()
            assert body["status"] == "ok", body
    store.close()


def test_healthz_is_down_when_the_store_cannot_be_read(tmp_path: Path) -> None:
    db = tmp_path / "gone.sqlite"
    store = open_store(f"sqlite:///{db}")
    with TestClient(Starlette(routes=ops_routes(store, Health()))) as client:
        assert client.get("/healthz").json()["status"] == "ok"
        store.close()
        db.write_bytes(b"this is no longer a database" * 200)
        for side in ("-wal", "-shm"):
            Path(f"{db}{side}").unlink(missing_ok=True)
        r = client.get("/healthz")
        assert r.status_code == 503 and r.json()["status"] == "down"


def test_storage_problems_are_told_from_our_own_errors() -> None:
    import sqlite3

    from breakingon.pipeline.storewatch import storage_problem

    full = sa.exc.OperationalError(
        "INSERT", {}, sqlite3.OperationalError("database or disk is full")
    )
    assert storage_problem(full) == "database or disk is full"
    assert storage_problem(sqlite3.OperationalError("disk I/O error")) == "disk I/O error"
    assert storage_problem(sqlite3.DatabaseError("file is not a database"))
    pg = sa.exc.OperationalError(
        "SELECT", {}, Exception("connection to postgresql://bo:hunter2@db/news failed")
    )
    note = storage_problem(pg)
    assert note is not None and "hunter2" not in note
    ours = sa.exc.IntegrityError("INSERT", {}, sqlite3.IntegrityError("UNIQUE constraint failed"))
    assert storage_problem(ours) is None
    assert storage_problem(ValueError("bad input")) is None
