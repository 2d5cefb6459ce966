"""RELIABILITY group B1-B4: conditional GET, Retry-After per host, 410, per-host limits."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from faultserver import (
    LOOPBACK_POLICY,
    ConnectLog,
    FaultServer,
    conditional,
    fetch_once,
    ok,
    small_settings,
)

from breakingon.crawl.http import DEFAULT_USER_AGENT, Fetcher, parse_retry_after
from breakingon.crawl.schedule import ScheduleSettings, next_check
from breakingon.records import Feed, FetchResult

pytestmark = pytest.mark.timeout(30)
LM = "Wed, 21 Oct 2015 07:28:00 GMT"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- B1: conditional GET --------------------------------------------------------------


def test_b1_conditional_get_round_trip_sends_validators_verbatim(server: FaultServer) -> None:
    etag = '"abc"'
    server.routes["/feed"] = conditional(b"<rss>one</rss>", etag, LM)

    async def go() -> tuple[FetchResult, FetchResult]:
        async with Fetcher(small_settings(), LOOPBACK_POLICY) as f:
            first = await f.fetch(server.url("/feed"))
            second = await f.fetch(
                server.url("/feed"), etag=first.etag, last_modified=first.last_modified
            )
            return first, second

    first, second = asyncio.run(go())
    assert first.status == 200 and first.body == b"<rss>one</rss>"
    assert first.etag == etag and first.last_modified == LM
    assert second.status == 304 and second.error is None and second.body == b""
    hits = server.hits("/feed")
    assert "if-none-match" not in hits[0].headers and "if-modified-since" not in hits[0].headers
    assert hits[1].headers["if-none-match"] == '"abc"'  # quotes preserved
    assert hits[1].headers["if-modified-since"] == LM  # byte-identical, never our own clock


def test_b1_odd_validators_are_sent_back_exactly(server: FaultServer) -> None:
    weak = 'W/"x y;z"'
    odd_lm = "Tue, 1 Jan 2019 0:0:0 +0000"
    server.routes["/feed"] = conditional(b"<rss/>", weak, odd_lm)

    async def go() -> FetchResult:
        async with Fetcher(small_settings(), LOOPBACK_POLICY) as f:
            return await f.fetch(server.url("/feed"), etag=weak, last_modified=odd_lm)

    assert asyncio.run(go()).status == 304
    assert server.hits("/feed")[0].headers["if-none-match"] == weak
    assert server.hits("/feed")[0].headers["if-modified-since"] == odd_lm


def test_b1_only_etag_stored_sends_no_if_modified_since(server: FaultServer) -> None:
    server.routes["/feed"] = ok(b"<rss/>")

    async def go() -> None:
        async with Fetcher(small_settings(), LOOPBACK_POLICY) as f:
            await f.fetch(server.url("/feed"), etag='"e"')

    asyncio.run(go())
    headers = server.hits("/feed")[0].headers
    assert headers["if-none-match"] == '"e"'
    assert "if-modified-since" not in headers


def test_b1_honest_user_agent(server: FaultServer) -> None:
    server.routes["/feed"] = ok(b"<rss/>")
    fetch_once(server.url("/feed"), small_settings(user_agent=DEFAULT_USER_AGENT))
    ua = server.hits("/feed")[0].headers["user-agent"]
    assert ua.startswith("BreakingOn/") and "+https://" in ua


# --- B2: 429/503 and Retry-After ------------------------------------------------------


def test_b2_parse_retry_after_forms() -> None:
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    cap = 86400.0
    assert parse_retry_after("120", now, cap) == 120.0
    assert (
        parse_retry_after(format_datetime(now + timedelta(minutes=5), usegmt=True), now, cap)
        == 300.0
    )
    assert parse_retry_after(str(30 * 86400), now, cap) == cap
    assert (
        parse_retry_after(format_datetime(now + timedelta(days=30), usegmt=True), now, cap) == cap
    )
    assert (
        parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now, cap) == 0.0
    )
    for garbage in ("soon", "-5", "1.5", "", "Thu, 99 Foo 2026", None):
        assert parse_retry_after(garbage, now, cap) is None, garbage


def test_b2_retry_after_embargoes_the_whole_host(server: FaultServer) -> None:
    server.routes["/a"] = ok(b"slow down", {"Retry-After": "120"}, status=429)
    server.routes["/b"] = ok(b"<rss>b</rss>")
    clock = FakeClock()
    log = ConnectLog()

    async def go() -> list[FetchResult]:
        async with Fetcher(small_settings(), LOOPBACK_POLICY, clock=clock, connect_hook=log) as f:
            out = [await f.fetch(server.url("/a"))]
            out.append(await f.fetch(server.url("/b")))  # another feed on the same host
            clock.now += 119
            out.append(await f.fetch(server.url("/b")))
            clock.now += 2
            out.append(await f.fetch(server.url("/b")))
            return out

    limited, blocked, still, allowed = asyncio.run(go())
    assert limited.error == "rate_limited" and limited.retry_after_s == 120.0
    assert blocked.error == "rate_limited" and blocked.retry_after_s == pytest.approx(120.0)
    assert still.error == "rate_limited" and still.retry_after_s == pytest.approx(1.0)
    assert allowed.error is None and allowed.body == b"<rss>b</rss>"
    assert len(server.hits("/b")) == 1  # nothing reached the host before the time
    assert len(log.attempts) <= 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2592000", 86400.0), ("HTTPDATE+60", 60.0)],
    ids=["30-days-capped", "http-date"],
)
def test_b2_huge_and_date_values(server: FaultServer, value: str, expected: float) -> None:
    if value == "HTTPDATE+60":
        value = format_datetime(datetime.now(UTC) + timedelta(seconds=60), usegmt=True)
    server.routes["/a"] = ok(b"", {"Retry-After": value}, status=503)
    clock = FakeClock()

    async def go() -> tuple[FetchResult, float]:
        async with Fetcher(small_settings(), LOOPBACK_POLICY, clock=clock) as f:
            res = await f.fetch(server.url("/a"))
            return res, f.host_wait_s(server.url("/other"))

    res, wait = asyncio.run(go())
    assert res.error == "rate_limited"
    assert res.retry_after_s == pytest.approx(expected, abs=2)
    assert wait == pytest.approx(expected, abs=2)


def test_b2_garbage_retry_after_on_503_falls_back_to_backoff(server: FaultServer) -> None:
    server.routes["/a"] = ok(b"", {"Retry-After": "whenever"}, status=503)
    server.routes["/b"] = ok(b"<rss/>")

    async def go() -> tuple[FetchResult, FetchResult]:
        async with Fetcher(small_settings(), LOOPBACK_POLICY, clock=FakeClock()) as f:
            return await f.fetch(server.url("/a")), await f.fetch(server.url("/b"))

    bad, other = asyncio.run(go())
    assert bad.error == "http_503" and bad.retry_after_s is None
    assert other.error is None  # no embargo from an unusable value
    now = datetime(2026, 1, 1, tzinfo=UTC)
    check = next_check(Feed(url=server.url("/a"), outlet="x"), bad, 0, now, ScheduleSettings())
    assert check.error_count == 1 and check.last_error == "http_503"


def test_b2_rate_limited_feed_is_not_scheduled_before_retry_after() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    feed = Feed(url="http://news.example/rss", outlet="x", interval_s=300, error_count=2)
    res = FetchResult(
        url=feed.url, final_url=feed.url, status=429, error="rate_limited", retry_after_s=7200.0
    )
    check = next_check(feed, res, 0, now, ScheduleSettings())
    assert check.next_check_at is not None
    assert check.next_check_at >= now + timedelta(seconds=7200)
    assert check.error_count == 2  # rate limiting is not a hard error
    assert check.status == "active" and check.last_error == "rate_limited"


# --- B3: 410 Gone ---------------------------------------------------------------------


def test_b3_gone_is_typed_and_ends_the_feed(server: FaultServer) -> None:
    server.routes["/feed"] = ok(b"gone", status=410)
    res = fetch_once(server.url("/feed"))
    assert res.error == "gone" and res.status == 410
    check = next_check(Feed(url=res.url, outlet="x"), res, 0, datetime.now(UTC), ScheduleSettings())
    assert check.status == "ended" and check.next_check_at is None


# --- B4: per-host concurrency and spacing ---------------------------------------------


def test_b4_fifty_feeds_on_one_host_respect_concurrency_and_spacing(server: FaultServer) -> None:
    for i in range(50):
        server.routes[f"/f{i}"] = ok(b"<rss/>", delay=0.02)
    settings = small_settings(per_host_concurrency=2, per_host_delay_s=0.03)

    async def go() -> list[FetchResult]:
        async with Fetcher(settings, LOOPBACK_POLICY) as f:
            return await asyncio.gather(*(f.fetch(server.url(f"/f{i}")) for i in range(50)))

    results = asyncio.run(go())
    assert all(r.error is None for r in results)
    assert server.stats.max_in_flight <= 2
    assert server.stats.max_open <= 2
    starts = sorted(r.at for r in server.requests)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # The fetcher spaces request STARTS; arrival times seen here add scheduling noise on a
    # busy machine, so the total span carries the guarantee and each gap gets a tolerance.
    assert starts[-1] - starts[0] >= 49 * 0.03 * 0.98
    assert min(gaps) >= 0.03 * 0.5
    # Exactly one GET per feed, nothing else (no HEAD, no robots.txt for feeds).
    assert len(server.requests) == 50
    assert {r.method for r in server.requests} == {"GET"}


def test_b4_hosts_do_not_share_slots() -> None:
    with FaultServer() as a, FaultServer(host="127.0.0.3") as b:
        a.routes["/f"] = ok(b"<rss/>", delay=0.3)
        b.routes["/f"] = ok(b"<rss/>", delay=0.3)
        settings = small_settings(per_host_concurrency=1)

        async def go() -> float:
            loop = asyncio.get_running_loop()
            async with Fetcher(settings, LOOPBACK_POLICY) as f:
                t0 = loop.time()
                await asyncio.gather(f.fetch(a.url("/f")), f.fetch(b.url("/f")))
                return loop.time() - t0

        assert asyncio.run(go()) < 0.55  # in parallel, not one after the other
