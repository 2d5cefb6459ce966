"""URLs that are not absolute http(s) with a host, as a first URL or a redirect target.

httpx parses a redirect's Location itself, even with redirects off, and raises
`InvalidURL` or an IDNA error (neither is an `httpx.HTTPError`) for `javascript:`,
`mailto:`, `http:foo` and the like. The fetcher must turn every such URL into a
`bad_url` result, and the crawl stage must record it on the feed and back off.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from faultserver import (
    LOOPBACK_POLICY,
    ConnectLog,
    FakeResolver,
    FaultServer,
    fetch_once,
    ok,
    redirect,
    small_settings,
)

from breakingon.crawl.http import Fetcher, FetchKind
from breakingon.pipeline.poll import CrawlStage
from breakingon.records import Feed
from breakingon.settings import Settings, parse_networks
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import open_store

pytestmark = pytest.mark.timeout(60)

HOSTLESS_LOCATIONS = [
    "javascript:alert(1)",
    "mailto:news@example.com",
    "data:text/html,<h1>hi</h1>",
    "tel:+15551234",
    "http:foo",
    "https:foo/bar",
    "http:/just-a-path",
    "http://",
    "http:///path",
    "//",
    "ftp://example.com/feed",
    "file:///etc/passwd",
    "http://[::1",
    "http://xn--/",
    "http://\u2603.example/".encode().decode("latin-1"),  # raw UTF-8 bytes on the wire
    "http://a b.example/",
    "localhost:8080/feed",
    "http:\\\\evil.example",
]


@pytest.mark.parametrize("location", HOSTLESS_LOCATIONS)
@pytest.mark.parametrize("status", [301, 302, 307])
def test_a_redirect_to_a_hostless_or_foreign_url_is_bad_url(
    server: FaultServer, location: str, status: int
) -> None:
    server.routes["/r"] = redirect(location, status)
    hook = ConnectLog()
    res = fetch_once(server.url("/r"), resolver=FakeResolver({}), connect_hook=hook)
    assert res.error == "bad_url", (location, res.error, res.detail)
    assert res.detail
    assert res.permanent_redirect is None
    assert [a[1] for a in hook.attempts] == ["127.0.0.1"]  # only the first hop was sent
    assert len(server.requests) == 1


def test_a_relative_redirect_still_works(server: FaultServer) -> None:
    server.routes["/r"] = redirect("next?x=1")
    server.routes["/next"] = ok(b"<feed/>")
    res = fetch_once(server.url("/r"), resolver=FakeResolver({}))
    assert res.error is None and res.body == b"<feed/>"
    assert res.final_url == server.url("/next?x=1")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "mailto:a@example.com",
        "http:foo",
        "http://[::1/x",
        "http://a.example:99999/",
        "http://\u2603.example/",
        "//example.com/feed",
    ],
)
@pytest.mark.parametrize("kind", ["feed", "page", "image"])
def test_a_bad_first_url_is_bad_url_for_every_kind(url: str, kind: FetchKind) -> None:
    hook = ConnectLog()
    resolver = FakeResolver({})

    async def go() -> str | None:
        async with Fetcher(
            small_settings(), LOOPBACK_POLICY, resolver=resolver, connect_hook=hook
        ) as f:
            res = await f.fetch(url, kind=kind)
            form = await f.post_form(url, {"hub.mode": "subscribe"})
            assert form.error == "bad_url", form
            return res.error

    assert asyncio.run(go()) == "bad_url"
    assert hook.attempts == [] and resolver.calls == []


def test_the_feed_records_the_error_and_backs_off(server: FaultServer, tmp_path: Path) -> None:
    """Through the crawl stage with a real SQLite store: the check finishes, the error is
    stored with a backoff, and the lease is released (not left to expire)."""
    server.routes["/feed"] = redirect("javascript:alert(document.cookie)")
    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        url = server.url("/feed")
        store.add_feed(Feed(url=url, outlet="Bad"), feed_url_key(url))
        settings = Settings(
            data_dir=tmp_path,
            fetch_allow_networks=parse_networks("allow", "127.0.0.0/8"),
            per_host_delay_s=0.0,
            fetch_timeout_s=2.0,
            extract_workers=1,
        )
        now = datetime.now(UTC)

        async def go() -> int:
            async with CrawlStage(settings, store, "w1", resolver=FakeResolver({})) as stage:
                done = 0
                while (n := await stage.check_due_feeds()) > 0:
                    done += n
                return done

        assert asyncio.run(go()) == 1
        [feed] = store.list_feeds()
        assert feed.last_error is not None and feed.last_error.startswith("bad_url"), feed
        assert feed.error_count == 1
        assert feed.next_check_at is not None and feed.next_check_at > now
        assert store.claim_due_feeds("w2", datetime.now(UTC), 10, 60) == []
    finally:
        store.close()


def test_an_unexpected_exception_while_fetching_is_a_typed_error(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever a hostile response makes the HTTP stack raise is data, never a raise."""
    import breakingon.crawl.http as http_mod

    async def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("parser bug")

    server.routes["/feed"] = ok(b"<rss/>")
    monkeypatch.setattr(http_mod, "read_body", broken)
    res = fetch_once(server.url("/feed"), resolver=FakeResolver({}))
    assert res.error == "protocol" and "parser bug" in res.detail
