"""The response cache: single-flight renders, stale-while-revalidate, version changes."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime

from breakingon.web.cache import Rendered, ResponseCache


def test_concurrent_requests_share_one_render() -> None:
    calls = []
    lock = threading.Lock()

    def render() -> Rendered:
        with lock:
            calls.append(1)
        time.sleep(0.05)
        return Rendered(200, b"body", "text/plain")

    async def main() -> None:
        cache = ResponseCache(lambda: datetime(2026, 1, 1, tzinfo=UTC))
        entries = await asyncio.gather(*(cache.get("/k", render) for _ in range(50)))
        assert len({e.etag for e in entries}) == 1
        assert cache.renders == 1

    asyncio.run(main())
    assert len(calls) == 1


def test_new_store_version_is_rendered_while_readers_get_the_previous_body() -> None:
    version = [datetime(2026, 1, 1, tzinfo=UTC)]
    clock = [0.0]
    bodies = iter([b"v1", b"v2", b"v3"])

    def render() -> Rendered:
        return Rendered(200, next(bodies), "text/plain")

    async def main() -> None:
        cache = ResponseCache(lambda: version[0], clock=lambda: clock[0], version_ttl_s=1.0)
        assert (await cache.get("/k", render)).rendered.body == b"v1"
        version[0] = datetime(2026, 1, 2, tzinfo=UTC)
        clock[0] = 5.0  # the version is re-read in the background after version_ttl_s
        assert (await cache.get("/k", render)).rendered.body == b"v1"
        for _ in range(20):
            await asyncio.sleep(0.01)
        assert (await cache.get("/k", render)).rendered.body == b"v1"  # starts the re-render
        for _ in range(20):
            await asyncio.sleep(0.01)
        entry = await cache.get("/k", render)
        assert entry.rendered.body == b"v2"
        assert entry.last_modified == "Fri, 02 Jan 2026 00:00:00 GMT"
        assert cache.renders == 2

    asyncio.run(main())


def test_errors_are_not_cached() -> None:
    statuses = iter([404, 200])

    def render() -> Rendered:
        return Rendered(next(statuses), b"x", "text/plain")

    async def main() -> None:
        cache = ResponseCache(lambda: None)
        assert (await cache.get("/k", render)).rendered.status == 404
        assert (await cache.get("/k", render)).rendered.status == 200

    asyncio.run(main())


def test_fast_path_answers_fresh_entries_only() -> None:
    version = [datetime(2026, 1, 1, tzinfo=UTC)]
    clock = [0.0]
    extra = ((b"x-content-type-options", b"nosniff"),)

    def render() -> Rendered:
        return Rendered(200, b"page", "text/html; charset=utf-8")

    async def main() -> None:
        cache = ResponseCache(
            lambda: version[0], clock=lambda: clock[0], ttl_s=10.0, fast_headers=extra
        )
        assert cache.lookup("/k?", "GET", []) is None  # nothing rendered yet
        entry = await cache.get("/k?", render)
        cache.remember("/k?", entry, "public, max-age=10")
        hit = cache.lookup("/k?", "GET", [])
        assert hit is not None and hit[0] == 200 and hit[2] == b"page"
        headers = dict(hit[1])
        assert headers[b"etag"] == entry.etag.encode()
        assert headers[b"content-length"] == b"4"
        assert headers[b"x-content-type-options"] == b"nosniff"
        head = cache.lookup("/k?", "HEAD", [])
        assert head is not None and head[2] == b"" and dict(head[1])[b"content-length"] == b"4"
        revalidated = cache.lookup("/k?", "GET", [(b"if-none-match", entry.etag.encode())])
        assert revalidated is not None and revalidated[0] == 304 and revalidated[2] == b""
        assert cache.lookup("/k?", "GET", [(b"if-none-match", b'"other"')])[0] == 200  # type: ignore[index]
        assert cache.lookup("/k?", "POST", []) is None
        assert cache.lookup("/k?", "GET", [(b"if-modified-since", b"x")]) is None
        clock[0] = 2.0  # the store's version is due for a check: the normal path answers
        assert cache.lookup("/k?", "GET", []) is None
        await cache.version()
        for _ in range(10):
            await asyncio.sleep(0.01)
        assert cache.lookup("/k?", "GET", []) is not None
        version[0] = datetime(2026, 1, 2, tzinfo=UTC)  # new version seen: entry is stale
        clock[0] = 4.0
        await cache.version()
        for _ in range(10):
            await asyncio.sleep(0.01)
        assert cache.lookup("/k?", "GET", []) is None  # stale, no re-render started yet
        gate = threading.Event()

        def slow_render() -> Rendered:
            gate.wait(5)
            return Rendered(200, b"page v2", "text/html; charset=utf-8")

        assert (await cache.get("/k?", slow_render)).rendered.body == b"page"  # starts it
        during = cache.lookup("/k?", "GET", [])  # re-render under way: stale body, fast
        assert during is not None and during[2] == b"page"
        gate.set()
        for _ in range(50):
            await asyncio.sleep(0.01)
        assert cache.lookup("/k?", "GET", []) is None  # new entry: the handler remembers it
        fresh = await cache.get("/k?", render)
        assert fresh.rendered.body == b"page v2"
        cache.remember("/k?", fresh, "public, max-age=10")
        assert cache.lookup("/k?", "GET", [])[2] == b"page v2"  # type: ignore[index]
        cache.invalidate()
        assert cache.lookup("/k?", "GET", []) is None
        errors = ResponseCache(lambda: version[0])
        bad = await errors.get("/e?", lambda: Rendered(404, b"no", "text/plain"))
        errors.remember("/e?", bad, "public")
        assert errors.lookup("/e?", "GET", []) is None  # errors never take the fast path

    asyncio.run(main())
