"""A dead network is one summary line per crawl pass and a degraded /healthz, never one
warning per feed. DNS is a fake resolver that fails every name (no real lookup)."""

from __future__ import annotations

import asyncio
import logging
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from breakingon.ops.health import FETCH_STALE, Health, fetch_problem, ops_routes
from breakingon.pipeline.crawlpass import CrawlPass
from breakingon.pipeline.runner import Pipeline
from breakingon.records import Feed
from breakingon.settings import Settings
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import open_store
from netguard import loopback_only

__all__ = ["loopback_only"]  # the socket guard, autouse: loopback only


class DeadResolver:
    """What a machine without a network answers: no name resolves."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def test_a_pass_is_summed_up_in_one_line_by_error_kind() -> None:
    p = CrawlPass()
    for _ in range(3):
        p.record("dns", "dns")
    p.record("connect", "connect")
    p.record(None, None)
    p.record(None, "parse_error: not XML")  # reached, but its body was broken
    assert (p.checked, p.reachable, p.failed, p.dead) == (6, 2, 5, False)
    assert p.summary() == (
        "2 of 6 feeds reachable: 3 DNS failures, 1 connection failure, 1 parse_error error"
    )
    dead = CrawlPass()
    dead.record("dns", "dns")
    assert dead.dead and dead.summary() == "0 of 1 feed reachable: 1 DNS failure"
    assert not CrawlPass().dead and CrawlPass().summary() == "0 of 0 feeds reachable"


def test_fetch_problem_tells_a_dead_network_from_a_quiet_one() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert fetch_problem(0, None, None) is None  # no feeds
    assert fetch_problem(5, None, None) is None  # not checked yet
    assert fetch_problem(5, now, None) == "no feed fetch has succeeded yet (5 feeds)"
    assert fetch_problem(5, now, now - timedelta(minutes=1)) is None
    # a quiet install checked rarely: the latest check succeeded, however long ago
    assert fetch_problem(5, now - timedelta(days=2), now - timedelta(days=2)) is None
    stale = fetch_problem(5, now, now - FETCH_STALE - timedelta(seconds=1))
    assert stale is not None and "since" in stale


def test_a_dead_network_is_one_warning_and_a_degraded_healthz(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'b.sqlite'}")
    try:
        urls = [f"https://outlet{i}.example/feed" for i in range(7)]
        store.add_feeds([(Feed(url=u, outlet=f"Outlet {i}"), feed_url_key(u), None)
                         for i, u in enumerate(urls)])  # fmt: skip
        health = Health()
        app_routes = ops_routes(store, health)
        from starlette.applications import Starlette

        with TestClient(Starlette(routes=app_routes)) as client:
            assert client.get("/healthz").json()["status"] == "ok"  # nothing checked yet
            resolver = DeadResolver()
            settings = Settings(data_dir=tmp_path, extract_workers=1)
            pipeline = Pipeline(
                settings, store, "w", resolver=resolver, process=False, health=health
            )
            with caplog.at_level(logging.DEBUG, logger="breakingon"):
                asyncio.run(pipeline.run(asyncio.Event(), once=True))
            assert sorted(resolver.asked) == sorted(f"outlet{i}.example" for i in range(7))
            crawl = [r for r in caplog.records if r.name == "breakingon.crawl"]
            warnings = [r for r in crawl if r.levelno >= logging.WARNING]
            assert [r.getMessage() for r in warnings] == [
                "crawl pass: 0 of 7 feeds reachable: 7 DNS failures"
            ]
            per_feed = [r for r in crawl if r.getMessage().startswith("feed https://")]
            assert len(per_feed) == 7 and all(r.levelno == logging.DEBUG for r in per_feed)
            body = client.get("/healthz").json()
            assert body["status"] == "degraded"
            assert body["problems"]["feeds"] == "0 of 7 feeds reachable: 7 DNS failures"
            assert body["problems"]["fetch"] == "no feed fetch has succeeded yet (7 feeds)"
            # without the pipeline's notes (a web process beside workers), the stored
            # feed times still tell
            health.problems.clear()
            assert client.get("/healthz").json()["problems"] == {
                "fetch": "no feed fetch has succeeded yet (7 feeds)"
            }
        assert all((f.last_error or "").startswith("dns") for f in store.list_feeds())
    finally:
        store.close()
