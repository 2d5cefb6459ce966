"""The crawl stage end to end against the newsroom simulator on loopback, on SQLite.

Good outlets are stored and extracted while misbehaving ones (slow drip, 429, 5xx,
gzip bomb, redirect loop, broken XML) record typed errors and back off; a second pass
with nothing new writes no article; a robots-disallowed page keeps the feed's text
with the reason; syndicated copies link to the first copy; two workers checking the
same feeds at once store every item exactly once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from newsfixtures import after, body_text, make_stream

from breakingon.ops.metrics import METRICS
from breakingon.pipeline.poll import CrawlStage
from breakingon.records import EXTRACTED, Extraction
from breakingon.settings import Settings, parse_networks
from breakingon.sim.server import Newsroom
from breakingon.sources.catalogue import feed_url_key, parse_opml
from breakingon.store import Store, open_store

BAD = {
    "slow": ("deadline_exceeded", "timeout"),
    "429": ("rate_limited",),
    "5xx": ("rate_limited", "http_503"),
    "gzip_bomb": ("too_large",),
    "redirect_loop": ("too_many_redirects",),
    "broken_xml": ("parse_error", "not_a_feed", "xml_", "empty"),
}


def _settings(tmp_path: Path, **kw: Any) -> Settings:
    base: dict[str, Any] = {
        "data_dir": tmp_path,
        "fetch_allow_networks": parse_networks("allow", "127.0.0.0/8"),
        "per_host_delay_s": 0.05,
        "fetch_timeout_s": 2.0,
        "max_body_bytes": 2 * 1024 * 1024,
        "extract_workers": 2,
    }
    base.update(kw)
    return Settings(**base)


def _import(store: Store, room: Newsroom) -> None:
    feeds = parse_opml(httpx.get(room.opml_url).content)
    store.add_feeds([(f, feed_url_key(f.url), None) for f in feeds])


class Clock:
    """The crawler's clock: wall time plus an offset the test moves forward."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


async def _drain(stage: CrawlStage, store: Store) -> None:
    """The crawl loops of `Pipeline.run(once=True)`: check due feeds, drain pages."""
    feeds_done = asyncio.Event()

    async def feeds() -> None:
        while await stage.check_due_feeds() > 0:
            pass
        feeds_done.set()

    async def pages() -> None:
        while True:
            if await stage.process_discovered() == 0:
                if feeds_done.is_set() and store.backlog().get("articles_discovered", 0) == 0:
                    return
                await asyncio.sleep(0.05)

    await asyncio.gather(feeds(), pages())


def _crawl(settings: Settings, store: Store, clock: Callable[[], datetime], worker: str) -> None:
    async def go() -> None:
        async with CrawlStage(settings, store, worker, clock=clock) as stage:
            await _drain(stage, store)

    asyncio.run(go())


def _db(tmp_path: Path) -> Path:
    return tmp_path / "breakingon.sqlite"


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{_db(tmp_path)}")
    yield s
    s.close()


def test_misbehaving_outlets_fail_typed_and_good_ones_are_stored(
    tmp_path: Path, store: Store
) -> None:
    good = make_stream(3, 3, prefix="g")
    bad = make_stream(len(BAD), 2, prefix="b")
    rows = good + bad
    modes = {f"b{i}.example": mode for i, mode in enumerate(BAD)}
    with Newsroom(
        rows, speed=0, start=after(rows), misbehave=modes, slow_drip_s=0.5, bomb_bytes=16 << 20
    ) as room:
        _import(store, room)
        clock = Clock()
        _crawl(_settings(tmp_path), store, clock, "w1")
        now = clock()
        feeds = {f.url: f for f in store.list_feeds()}
        by_domain = {f.domain: feeds[f.rss_url] for f in room.feeds}
        articles = store.list_articles(limit=1000)
        stored = Counter(a.url for a in articles)
        for row in good:
            url = room.article_url(row.id)
            assert stored[url] == 1, url
        assert {a.extraction for a in articles} == {EXTRACTED}
        assert {a.url for a in articles} == {room.article_url(r.id) for r in good}
        for domain, mode in modes.items():
            feed = by_domain[domain]
            assert feed.last_error is not None, mode
            assert feed.last_error.startswith(BAD[mode]), (mode, feed.last_error)
            if feed.last_error.startswith("rate_limited"):
                # A polite "come back later" is honoured, not counted as a failure.
                assert feed.next_check_at is not None
                assert feed.next_check_at >= now + timedelta(seconds=55), mode
            else:
                assert feed.error_count >= 1, mode
            assert feed.next_check_at is not None and feed.next_check_at > now, mode
            assert feed.etag is None and feed.last_success_at is None, mode
        for domain in (f"g{i}.example" for i in range(3)):
            feed = by_domain[domain]
            assert feed.last_error is None and feed.error_count == 0
            assert feed.etag and feed.last_success_at is not None
            assert feed.next_check_at is not None and feed.next_check_at > now

        # Conditional GET: nothing new, so the second pass answers 304 and writes nothing.
        before = _article_rows(_db(tmp_path))
        not_modified = METRICS.fetches.labels(kind="feed", outcome="304")._value.get()
        for domain in modes:
            room.set_misbehave(domain, None)  # the bad ones recover too
        clock.offset = timedelta(hours=7)  # past every feed's next check and backoff
        _crawl(_settings(tmp_path), store, clock, "w1")
        good_feeds = 3
        assert METRICS.fetches.labels(kind="feed", outcome="304")._value.get() >= (
            not_modified + good_feeds
        )
        after_rows = _article_rows(_db(tmp_path))
        for key, row in before.items():
            assert after_rows[key] == row  # untouched: no article write
        recovered = {room.article_url(r.id) for r in bad}
        assert {u for u in after_rows if u not in before} == recovered


def _article_rows(db: Path) -> dict[str, tuple[Any, ...]]:
    con = sqlite3.connect(db)
    try:
        return {
            r[0]: tuple(r[1:])
            for r in con.execute("SELECT url, id, updated_at, state, text FROM articles")
        }
    finally:
        con.close()


class _StrictRobots(Newsroom):  # type: ignore[misc]
    """A newsroom where one outlet's robots.txt disallows its article pages."""

    disallow_host = ""

    async def _route(self, local: str, method: str, target: str, *rest: Any) -> bool:
        if local == self.disallow_host and target == "/robots.txt":
            target = "/robots-strict.txt"
            writer = rest[-1]
            body = b"User-agent: *\nDisallow: /20\n"
            sent: bool = await self._send(writer, 200, {"content-type": "text/plain"}, body)
            return sent
        routed: bool = await super()._route(local, method, target, *rest)
        return routed


def test_robots_disallowed_page_keeps_feed_text(tmp_path: Path, store: Store) -> None:
    rows = make_stream(2, 2, prefix="r")
    room = _StrictRobots(rows, speed=0, start=after(rows))
    room.disallow_host = next(f.host for f in room.feeds if f.domain == "r0.example")
    with room:
        _import(store, room)
        _crawl(_settings(tmp_path), store, Clock(), "w1")
        arts = {a.url: a for a in store.list_articles(limit=100)}
        for row in rows:
            art = arts[room.article_url(row.id)]
            if row.domain == "r0.example":
                assert art.extraction == Extraction.fallback("robots_disallowed")
                assert art.text and art.text in row.text  # the feed's own text
                assert art.content_hash and art.language == "en"
            else:
                assert art.extraction == EXTRACTED
                assert art.text.startswith(row.text[:60])


def test_syndicated_copies_link_to_the_first_copy(tmp_path: Path, store: Store) -> None:
    rows = make_stream(3, 2, prefix="s")
    wire = body_text(999)
    copy_a = replace(rows[0], text=wire, title="Wire: the harbour vote")
    copy_b = replace(rows[2], text=wire, title="Harbour vote, as reported by the wire")
    rows = [copy_a, rows[1], copy_b, *rows[3:]]
    with Newsroom(rows, speed=0, start=after(rows)) as room:
        _import(store, room)
        _crawl(_settings(tmp_path), store, Clock(), "w1")
        arts = {a.url: a for a in store.list_articles(limit=100)}
        a = arts[room.article_url(copy_a.id)]
        b = arts[room.article_url(copy_b.id)]
        assert a.extraction == b.extraction == EXTRACTED
        first, second = sorted((a, b), key=lambda x: x.id or 0)
        assert first.duplicate_of is None
        assert second.duplicate_of == first.id
        others = [x for x in arts.values() if x.url not in (a.url, b.url)]
        assert len(others) == 4 and all(x.duplicate_of is None for x in others)


def test_two_workers_on_the_same_feeds_store_each_item_once(tmp_path: Path, store: Store) -> None:
    rows = make_stream(6, 3, prefix="c")
    with Newsroom(rows, speed=0, start=after(rows)) as room:
        _import(store, room)
        settings = _settings(tmp_path, extract_workers=1)
        feeds = store.list_feeds()

        async def go() -> None:
            async with (
                CrawlStage(settings, store, "w1") as one,
                CrawlStage(settings, store, "w2") as two,
            ):
                # The same feeds checked by both at once (a manual refresh racing the
                # scheduler), then both workers' loops side by side.
                await asyncio.gather(*(s.check_feed(f) for f in feeds for s in (one, two)))
                await asyncio.gather(_drain(one, store), _drain(two, store))

        asyncio.run(go())
        counts = Counter(a.url for a in store.list_articles(limit=1000))
        assert set(counts) == {room.article_url(r.id) for r in rows}
        assert set(counts.values()) == {1}
        assert store.backlog().get("articles_discovered", 0) == 0
        assert {a.extraction for a in store.list_articles(limit=1000)} == {EXTRACTED}
