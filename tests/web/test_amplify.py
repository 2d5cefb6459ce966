"""Search is no amplifier: parameters a handler does not read make no cache entry (and
spelling variants of one it reads share one), a stream of distinct searches evicts only
searches, and searches have their own per-client rate limit and in-flight caps, while
the other pages stay served. Through the real app on a real SQLite store."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from webfill import fill_store, make_settings

from breakingon.store import Store, open_store
from breakingon.web import create_app
from breakingon.web.cache import Rendered, ResponseCache, cache_key, is_normal_query


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    path: Path = tmp_path_factory.mktemp("amplify") / "a.sqlite"
    st = open_store(f"sqlite:///{path}")
    fill_store(st)
    try:
        yield st
    finally:
        st.close()


@pytest.mark.parametrize(
    ("base", "variants"),
    [
        (
            "/api/search?q=tokyo",
            ["&utm_source={n}", "&x{n}=1", "&limit=20&junk={n}", "&q=tokyo&z={n}"],
        ),
        ("/search?q=tokyo", ["&page=1&n={n}", "&{n}", "&cachebuster={n}"]),
        ("/search/feed.atom?q=tokyo", ["&v={n}"]),
        ("/api/stories?limit=5", ["&limit=005&r={n}", "&foo={n}"]),
        ("/about", ["?r={n}"]),
        ("/story/1", ["?ref={n}"]),
    ],
)
def test_unknown_parameters_make_no_cache_entry(
    store: Store, base: str, variants: list[str]
) -> None:
    app = create_app(make_settings(), store)
    cache: ResponseCache = app.state.cache
    with TestClient(app) as client:
        first = client.get(base)
        assert first.status_code in (200, 301)
        renders, entries = cache.renders, len(cache._entries)
        for variant in variants:
            for n in range(30):
                r = client.get(base + variant.format(n=n), follow_redirects=False)
                assert r.status_code == first.status_code, (base, variant)
                assert r.content == first.content
        assert cache.renders == renders, base  # answered from the one entry
        assert len(cache._entries) == entries and len(cache._fast) <= 2


def test_value_spellings_share_one_entry(store: Store) -> None:
    app = create_app(make_settings(), store)
    cache: ResponseCache = app.state.cache
    with TestClient(app) as client:
        client.get("/api/stories?limit=20")
        renders = cache.renders
        for spelling in ("020", "+20", " 20", "0020", "20 "):
            assert client.get("/api/stories", params={"limit": spelling}).status_code == 200
        assert client.get("/api/stories").status_code == 200  # the default is 20
        assert cache.renders == renders
        client.get("/api/search", params={"q": "tokyo"})
        renders = cache.renders
        client.get("/api/search", params={"q": "  tokyo\x01"})  # normalised the same
        assert cache.renders == renders


def test_distinct_searches_evict_only_searches(store: Store) -> None:
    app = create_app(make_settings(), store)
    cache: ResponseCache = app.state.cache
    cache.partition_limits["search"] = 5
    with TestClient(app) as client:
        hot = ["/", "/about", "/api/stories", "/feed.atom", "/status"]
        for path in hot:
            assert client.get(path).status_code == 200
        renders = cache.renders
        for n in range(40):
            for path in ("/api/search", "/search", "/search/feed.rss"):
                assert client.get(path, params={"q": f"quake {n}"}).status_code == 200
        assert cache.renders == renders + 120
        searches = [k for k in cache._entries if "search" in k]
        assert len(searches) <= 5
        for path in hot:
            client.get(path)
        assert cache.renders == renders + 120  # the pages everyone reads stayed cached


def test_searches_have_their_own_rate_limit(store: Store) -> None:
    app = create_app(make_settings(search_rate_limit_per_min=3), store)
    with TestClient(app) as client:
        codes = [client.get("/api/search", params={"q": f"t{n}"}).status_code for n in range(3)]
        assert codes == [200, 200, 200]
        for path in ("/api/search?q=x", "/search?q=x", "/search/feed.json?q=x", "/local?q=Paris"):
            r = client.get(path, follow_redirects=False)
            assert r.status_code == 429, path
            assert int(r.headers["retry-after"]) >= 1
        # cached or not, a search counts; the rest of the site is not affected
        for path in ("/", "/api/stories", "/about", "/feed.atom"):
            assert client.get(path).status_code == 200, path


class _SlowSearch:
    """The store with a search that blocks until released (an expensive query)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.release = threading.Event()
        self.running = 0
        self.lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def search_stories(self, *args: Any, **kw: Any) -> Any:
        with self.lock:
            self.running += 1
        self.release.wait(10)
        return self._store.search_stories(*args, **kw)


def test_searches_in_flight_are_capped_per_client_and_in_all(store: Store) -> None:
    slow = _SlowSearch(store)
    app = create_app(make_settings(search_concurrency=3), slow)  # type: ignore[arg-type]

    def client(ip: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(ip, 40000))
        return httpx.AsyncClient(transport=transport, base_url="http://testserver")

    async def main() -> None:
        a, b, c = client("198.51.100.1"), client("198.51.100.2"), client("198.51.100.3")
        try:
            a1 = asyncio.create_task(a.get("/api/search", params={"q": "one"}))
            a2 = asyncio.create_task(a.get("/api/search", params={"q": "two"}))
            await _until(lambda: slow.running == 2)
            third = await a.get("/api/search", params={"q": "three"})
            assert third.status_code == 503 and third.headers["retry-after"] == "1"
            b1 = asyncio.create_task(b.get("/api/search", params={"q": "four"}))
            await _until(lambda: slow.running == 3)
            busy = await c.get("/api/search", params={"q": "five"})
            assert busy.status_code == 503  # all three slots taken
            page = await c.get("/api/stories")
            assert page.status_code == 200  # the rest of the site is served meanwhile
            slow.release.set()
            for task in (a1, a2, b1):
                assert (await task).status_code == 200
            assert (await c.get("/api/search", params={"q": "six"})).status_code == 200
        finally:
            slow.release.set()
            for x in (a, b, c):
                await x.aclose()

    asyncio.run(main())


async def _until(cond: Any, timeout: float = 5.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.01)


def test_cache_key_and_normal_form() -> None:
    params = (("q", "tokyo"), ("limit", 20), ("offset", 0), ("place", None))
    assert cache_key("/api/search", params) == "/api/search?q=tokyo&limit=20&offset=0"
    assert is_normal_query("q=tokyo", params) and is_normal_query("", params)
    assert is_normal_query("limit=20&q=tokyo", params)
    assert not is_normal_query("q=tokyo&x=1", params)
    assert not is_normal_query("q=tokyo&q=tokyo", params)
    assert not is_normal_query("limit=020", params)
    assert not is_normal_query("place=", params)
    long = cache_key("/s", (("q", "x" * 5000),))
    assert len(long) < 600


def test_a_partition_evicts_only_its_own_keys() -> None:
    async def main() -> None:
        cache = ResponseCache(lambda: None, max_entries=100, partition_limits={"search": 2})

        def render() -> Rendered:
            return Rendered(200, b"x", "text/plain")

        await cache.get("/front?", render)
        for n in range(10):
            await cache.get(f"/search?q={n}", render, "search")
        assert set(cache._entries) == {"/front?", "/search?q=8", "/search?q=9"}

    asyncio.run(main())


def test_distinct_searches_do_not_flush_the_fast_path() -> None:
    async def main() -> None:
        cache = ResponseCache(lambda: None, max_entries=8, partition_limits={"search": 2})

        def render() -> Rendered:
            return Rendered(200, b"x", "text/plain")

        front = await cache.get("/?", render)
        cache.remember("/?", front, "public")
        for n in range(50):
            key = f"/search?q={n}"
            cache.remember(key, await cache.get(key, render, "search"), "public")
        assert cache.lookup("/?", "GET", []) is not None  # still answered from memory

    asyncio.run(main())
