"""RELIABILITY group B5: robots.txt for article pages (RFC 9309) against a loopback server."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from faultserver import LOOPBACK_POLICY, FaultServer, blackhole, ok, redirect, small_settings

from breakingon.crawl.http import Fetcher, FetchSettings
from breakingon.crawl.robots import robots_url, rules_from_result, ua_token
from breakingon.records import FetchResult

pytestmark = pytest.mark.timeout(30)


class FakeClock:
    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


def _pages(
    server: FaultServer,
    paths: list[str],
    settings: FetchSettings | None = None,
    clock: Callable[[], float] | None = None,
    between: Callable[[], None] | None = None,
) -> list[FetchResult]:
    async def go() -> list[FetchResult]:
        kw = {"clock": clock} if clock else {}
        async with Fetcher(settings or small_settings(), LOOPBACK_POLICY, **kw) as f:  # type: ignore[arg-type]
            out = []
            for p in paths:
                out.append(await f.fetch(server.url(p), kind="page"))
                if between:
                    between()
            return out

    return asyncio.run(go())


def _serve_pages(server: FaultServer, *paths: str) -> None:
    for p in paths:
        server.routes[p] = ok(b"<html><body>article</body></html>", {"Content-Type": "text/html"})


def test_b5_disallowed_page_is_not_fetched(server: FaultServer) -> None:
    server.routes["/robots.txt"] = ok(b"User-agent: *\nDisallow: /news/\n")
    _serve_pages(server, "/news/a", "/world/b")
    blocked, allowed = _pages(server, ["/news/a", "/world/b"])
    assert blocked.error == "robots_disallowed"
    assert allowed.error is None and allowed.status == 200
    assert server.hits("/news/a") == []
    assert len(server.hits("/robots.txt")) == 1  # cached for the second page


@pytest.mark.parametrize(
    ("status", "allowed"),
    [(404, True), (403, True), (410, True), (500, False), (503, False), (429, False)],
)
def test_b5_robots_status_codes(server: FaultServer, status: int, allowed: bool) -> None:
    server.routes["/robots.txt"] = ok(b"User-agent: *\nDisallow: /\n", status=status)
    _serve_pages(server, "/a")
    (res,) = _pages(server, ["/a"])
    assert (res.error is None) is allowed, res
    if not allowed:
        assert res.error == "robots_disallowed"
        assert server.hits("/a") == []


def test_b5_unreachable_robots_means_disallow(server: FaultServer) -> None:
    server.routes["/robots.txt"] = blackhole()
    _serve_pages(server, "/a")
    (res,) = _pages(server, ["/a"], small_settings(read_timeout=0.3))
    assert res.error == "robots_disallowed"
    assert "unreachable" in res.detail
    assert server.hits("/a") == []


def test_b5_large_file_is_parsed_up_to_512_kib_without_failing(server: FaultServer) -> None:
    filler = b"".join(
        b"# filler line %06d .......................................\n" % i for i in range(20000)
    )
    assert len(filler) > 1_000_000
    body = b"User-agent: *\nDisallow: /early/\n" + filler + b"Disallow: /late/\n"
    server.routes["/robots.txt"] = ok(body)
    _serve_pages(server, "/early/x", "/late/x")
    early, late = _pages(server, ["/early/x", "/late/x"])
    assert early.error == "robots_disallowed"  # the file was used although it is 1 MB
    assert late.error is None  # rules past the parse limit are not seen


def test_b5_up_to_five_redirects_are_followed_more_mean_unavailable(server: FaultServer) -> None:
    server.routes["/robots.txt"] = redirect("/r1")
    for i in range(1, 5):
        server.routes[f"/r{i}"] = redirect(f"/r{i + 1}")
    server.routes["/r5"] = ok(b"User-agent: *\nDisallow: /private/\n")
    _serve_pages(server, "/private/a")
    (res,) = _pages(server, ["/private/a"])
    assert res.error == "robots_disallowed"  # 5 redirects: the rules were reached

    with FaultServer() as other:
        other.routes["/robots.txt"] = redirect("/r1")
        for i in range(1, 7):
            other.routes[f"/r{i}"] = redirect(f"/r{i + 1}")
        other.routes["/r7"] = ok(b"User-agent: *\nDisallow: /\n")
        _serve_pages(other, "/private/a")
        (res2,) = _pages(other, ["/private/a"])
        assert res2.error is None  # more than 5: unavailable, so allowed
        assert other.hits("/r7") == []


def test_b5_user_agent_token_selects_our_group(server: FaultServer) -> None:
    server.routes["/robots.txt"] = ok(
        b"User-agent: *\nDisallow: /\n\nUser-agent: BreakingOn\nDisallow: /private/\n"
    )
    _serve_pages(server, "/public/a", "/private/a")
    public, private = _pages(server, ["/public/a", "/private/a"])
    assert public.error is None
    assert private.error == "robots_disallowed"
    assert ua_token("BreakingOn/0.1.0 (+https://github.com/breakingon/breakingon)") == "BreakingOn"


def test_b5_crawl_delay_is_respected_and_bounded(server: FaultServer) -> None:
    server.routes["/robots.txt"] = ok(b"User-agent: *\nCrawl-delay: 0.3\n")
    _serve_pages(server, "/a", "/b", "/c")
    _pages(server, ["/a", "/b", "/c"])
    starts = [server.hits(p)[0].at for p in ("/a", "/b", "/c")]
    # Server-side arrival times carry scheduling noise; the fetcher spaces request starts.
    assert starts[1] - starts[0] >= 0.25 and starts[2] - starts[1] >= 0.25
    assert starts[2] - starts[0] >= 0.58

    with FaultServer() as other:
        other.routes["/robots.txt"] = ok(b"User-agent: *\nCrawl-delay: 3600\n")
        _serve_pages(other, "/a", "/b")
        _pages(other, ["/a", "/b"], small_settings(max_crawl_delay_s=0.2))
        gap = other.hits("/b")[0].at - other.hits("/a")[0].at
        assert 0.15 <= gap < 1.0  # an hour asked, the configured maximum applied


def test_b5_cache_lasts_at_most_24_hours(server: FaultServer) -> None:
    server.routes["/robots.txt"] = ok(b"User-agent: *\nDisallow: /x/\n")
    _serve_pages(server, "/a")
    clock = FakeClock()
    steps = iter([3600.0, 86400.0])
    _pages(
        server,
        ["/a", "/a", "/a"],
        clock=clock,
        between=lambda: setattr(clock, "now", clock.now + next(steps, 0.0)),
    )
    assert len(server.hits("/robots.txt")) == 2  # refetched once the 24 h were over


def test_b5_unreachable_later_keeps_using_the_cached_copy(server: FaultServer) -> None:
    state = {"fail": False}
    good = ok(b"User-agent: *\nDisallow: /x/\n")
    bad = ok(b"", status=503)

    async def robots(req, writer):  # type: ignore[no-untyped-def]
        return await (bad if state["fail"] else good)(req, writer)

    server.routes["/robots.txt"] = robots
    _serve_pages(server, "/a")
    clock = FakeClock()

    def later() -> None:
        clock.now += 90000
        state["fail"] = True

    first, second = _pages(server, ["/a", "/a"], clock=clock, between=later)
    assert first.error is None and second.error is None
    assert len(server.hits("/robots.txt")) == 2


def test_b5_feeds_are_not_gated_by_robots(server: FaultServer) -> None:
    server.routes["/robots.txt"] = ok(b"User-agent: *\nDisallow: /\n")
    server.routes["/feed.xml"] = ok(b"<rss/>")

    async def go() -> FetchResult:
        async with Fetcher(small_settings(), LOOPBACK_POLICY) as f:
            return await f.fetch(server.url("/feed.xml"), kind="feed")

    res = asyncio.run(go())
    assert res.error is None
    assert server.hits("/robots.txt") == []


def test_rules_from_result_mapping() -> None:
    def r(status: int | None, error: str | None, body: bytes = b"") -> FetchResult:
        return FetchResult(url="u", final_url="u", status=status, error=error, body=body)

    assert (
        rules_from_result(r(200, None, b"User-agent: *\nDisallow: /a"), 0, 10, 1).state == "rules"
    )
    assert rules_from_result(r(404, "http_404"), 0, 10, 1).state == "allow_all"
    assert rules_from_result(r(None, "too_many_redirects"), 0, 10, 1).state == "allow_all"
    unreachable = rules_from_result(r(None, "timeout"), 0, 10, 1)
    assert unreachable.state == "disallow_all" and unreachable.expires_at == 1
    assert rules_from_result(r(500, "http_500"), 0, 10, 1).state == "disallow_all"
    assert robots_url("https://Example.com:8443/a/b?c#d") == "https://example.com:8443/robots.txt"
