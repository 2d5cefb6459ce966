"""Crawl stage: check due feeds, store their new items, fetch and extract article pages.

Network I/O goes through `breakingon.crawl.http.Fetcher` (SSRF policy, caps, politeness);
all CPU work (feed parsing in `feeds.ingest`; extraction and the article's facts,
`tag.facts.article_facts`, in `pipeline.pagework`) runs in worker processes with hard
time budgets (`extract.HardTimeoutPool`), so the event loop only moves bytes. A feed's new
items and its new validators/schedule are committed in one transaction; a failed fetch or
parse keeps the old validators (nothing from a broken or partial body is trusted) and
backs the feed off.

Feed checks and page fetches are pipelined, not batched: up to a bounded number are in
flight at once and each call of `check_due_feeds`/`process_discovered` tops the set up,
returns when some finished and commits those, so one slow host never holds the others
back. Finished pages are committed in batches (one transaction each).

This module never opens sockets itself, holds no SQL, and reads no environment.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from breakingon import __version__
from breakingon.crawl.http import Fetcher, FetchSettings
from breakingon.crawl.netpolicy import NetPolicy, Resolver
from breakingon.crawl.schedule import ScheduleSettings, next_check
from breakingon.dedup.near import NearDuplicateIndex
from breakingon.extract.article import HardTimeoutPool, WorkerTimeout
from breakingon.feeds.ingest import FeedOutcome, budgeted_feed_job
from breakingon.feeds.parse import ParseSettings
from breakingon.ops.metrics import METRICS
from breakingon.pipeline.crawlpass import CrawlPass
from breakingon.pipeline.pagework import MEMORY_ENV, PageOutcome, finish_fields, page_job, warm
from breakingon.pipeline.websub import WebSubSubscriber
from breakingon.records import Article, Extraction, Feed, FetchResult
from breakingon.settings import Settings
from breakingon.store.base import FeedUpdate, IngestStore

__all__ = [
    "CrawlStage",
    "StageCpu",
    "fetch_bytes",
    "fetch_settings",
    "net_policy",
    "schedule_settings",
]

log = logging.getLogger("breakingon.crawl")
T = TypeVar("T")

# Pages whose text is at most this long are not checked for exact copies in the store
# (boilerplate one-liners would all "match" each other).
_MIN_HASH_DEDUP_CHARS = 200


def fetch_settings(settings: Settings) -> FetchSettings:
    ua = settings.user_agent or (
        f"BreakingOn/{__version__} (+https://github.com/breakingon/breakingon)"
    )
    return FetchSettings(
        user_agent=ua,
        total_deadline=settings.fetch_timeout_s,
        max_body_bytes=settings.max_body_bytes,
        per_host_concurrency=settings.per_host_concurrency,
        per_host_delay_s=settings.per_host_delay_s,
        max_connections=settings.fetch_max_connections,
    )


def net_policy(settings: Settings) -> NetPolicy:
    return NetPolicy(allow_networks=settings.fetch_allow_networks)


def schedule_settings(settings: Settings) -> ScheduleSettings:
    return ScheduleSettings(
        min_interval_s=settings.min_poll_interval_s, max_interval_s=settings.max_poll_interval_s
    )


def fetch_bytes(settings: Settings, url: str) -> tuple[bytes, str | None]:
    """Fetch one URL under the crawler's policy (for `sources import-opml URL`)."""

    async def go() -> FetchResult:
        async with Fetcher(fetch_settings(settings), net_policy(settings)) as f:
            return await f.fetch(url, kind="feed")

    res = asyncio.run(go())
    if res.error:
        return b"", f"{res.error}{': ' + res.detail if res.detail else ''}"
    return res.body, None


@dataclass(slots=True)
class StageCpu:
    """CPU seconds this stage spent, by step (for benchmarks and /metrics).

    parse, extract and finish are measured inside the worker processes (process_time
    around the call); dedup and store are thread CPU time of the calls in this process.
    """

    parse: float = 0.0
    extract: float = 0.0
    finish: float = 0.0
    dedup: float = 0.0
    store: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, float]:
        return {
            "parse": self.parse,
            "extract": self.extract,
            "finish": self.finish,
            "dedup": self.dedup,
            "store": self.store,
        }


class CrawlStage:
    """Feed checks and page fetches for one worker. Use as an async context manager."""

    def __init__(
        self,
        settings: Settings,
        store: IngestStore,
        worker: str,
        *,
        resolver: Resolver | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_pass: Callable[[CrawlPass], None] | None = None,
    ) -> None:
        self.settings = settings
        # The feed checks of the current pass; summed up in one log line when it ends.
        self.crawl_pass = CrawlPass()
        self.on_pass = on_pass
        self.store = store
        self.worker = worker
        self.clock = clock
        self.schedule = schedule_settings(settings)
        self.parse_cfg = ParseSettings()
        self.cpu = StageCpu()
        self._fetcher = Fetcher(fetch_settings(settings), net_policy(settings), resolver=resolver)
        self.websub: WebSubSubscriber | None = (
            WebSubSubscriber(settings, store, self._fetcher, clock=clock)
            if settings.websub
            else None
        )
        self._workers = max(1, settings.extract_workers)
        self._pool: HardTimeoutPool | None = None
        self._page_calls: ThreadPoolExecutor | None = None
        self._feed_calls: ThreadPoolExecutor | None = None
        self._dedup: NearDuplicateIndex | None = None
        self._dedup_loaded_at: datetime | None = None
        concurrency = max(1, settings.fetch_concurrency)
        # Feeds: each holds a connection for at most the fetch deadline. Pages: most of
        # an in-flight page's time is spent waiting for its host's turn (politeness), so
        # many more may wait than fetch at once; the Fetcher's pool bounds the sockets.
        self.feed_capacity = concurrency * 2
        self.page_capacity = concurrency * 32
        self._feed_tasks: set[asyncio.Task[int]] = set()
        self._page_tasks: set[asyncio.Task[PageOutcome]] = set()
        self._feeds_in_flight: set[int | None] = set()
        self._pages_in_flight: set[int | None] = set()

    @property
    def fetcher(self) -> Fetcher:
        """The stage's Fetcher (the image stage shares its policy and politeness)."""
        return self._fetcher

    async def __aenter__(self) -> CrawlStage:
        await self._fetcher.__aenter__()
        # the workers (spawned now and as replacements later) read their memory cap here
        os.environ[MEMORY_ENV] = str(max(0, self.settings.extract_memory_mb))
        self._pool = HardTimeoutPool(
            self._workers, preload=("breakingon.pipeline.pagework_preload",)
        )
        self._page_calls = ThreadPoolExecutor(self._workers * 2, thread_name_prefix="page")
        self._feed_calls = ThreadPoolExecutor(self._workers, thread_name_prefix="parse")
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self._drain()
        finally:
            await self._fetcher.__aexit__(None, None, None)
            pool, self._pool = self._pool, None
            for ex in (self._page_calls, self._feed_calls):
                if ex is not None:
                    ex.shutdown(wait=False, cancel_futures=True)
            self._page_calls = self._feed_calls = None
            if pool is not None:
                await asyncio.to_thread(pool.close)

    async def warm_up(self) -> None:
        """Start every worker process and load its models now (otherwise the first
        pages pay for it)."""
        assert self._pool is not None and self._page_calls is not None
        loop = asyncio.get_running_loop()
        pool = self._pool
        await asyncio.gather(
            *(
                loop.run_in_executor(self._page_calls, pool.call, warm, (), 120.0)
                for _ in range(self._workers)
            )
        )

    async def _drain(self) -> None:
        """Finish what is in flight (bounded by the fetch and extraction budgets)."""
        budget = self.settings.fetch_timeout_s + self.settings.extract_timeout_s + 5.0
        tasks: set[asyncio.Task[Any]] = set(self._feed_tasks) | set(self._page_tasks)
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=budget)
        for t in pending:  # their leases expire and another pass redoes them
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        self._feed_tasks.clear()
        pages = [t for t in self._page_tasks if t.done() and not t.cancelled()]
        self._page_tasks.clear()
        if pages:
            await self._commit_pages([t.result() for t in pages])

    async def _db(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a store call in a thread, counting its CPU time as `store`."""

        def timed() -> T:
            t0 = time.thread_time()
            try:
                return fn(*args)
            finally:
                self.cpu.store += time.thread_time() - t0

        return await asyncio.to_thread(timed)

    # -- feeds ---------------------------------------------------------------------------
    async def check_due_feeds(self, limit: int = 50) -> int:
        """Claim due feeds and check them; return how many checks finished.

        Up to `feed_capacity` checks run at once and carry over between calls; a call
        returns as soon as some finished, and returns 0 only when nothing is due and
        nothing is in flight.
        """
        room = min(limit, self.feed_capacity - len(self._feed_tasks))
        if room > 0 and (room >= self.feed_capacity // 4 or not self._feed_tasks):
            feeds = await self._db(
                self.store.claim_due_feeds, self.worker, self.clock(), room, self.settings.lease_s
            )
            for feed in feeds:
                if feed.id in self._feeds_in_flight:
                    continue  # its lease ran out while we were still on it
                self._feeds_in_flight.add(feed.id)
                self._feed_tasks.add(asyncio.create_task(self._guarded_check(feed)))
        if not self._feed_tasks:
            self.end_pass()
            return 0
        done, _ = await asyncio.wait(self._feed_tasks, return_when=asyncio.FIRST_COMPLETED)
        self._feed_tasks -= done
        if self.crawl_pass.due():
            self.end_pass()
        return len(done)

    def end_pass(self) -> CrawlPass | None:
        """Sum up the pass so far in one log line (a warning when feeds failed) and start
        a new one; None when no feed was checked since the last summary."""
        done, self.crawl_pass = self.crawl_pass, CrawlPass()
        if not done.checked:
            return None
        log.log(logging.WARNING if done.failed else logging.INFO, "crawl pass: %s", done.summary())
        if self.on_pass is not None:
            self.on_pass(done)
        return done

    async def _guarded_check(self, feed: Feed) -> int:
        try:
            return await self.check_feed(feed)
        except Exception:  # one feed failing never fails the others
            log.exception("feed check failed: %s", feed.url)
            METRICS.errors.labels(stage="feed").inc()
            return 0
        finally:
            self._feeds_in_flight.discard(feed.id)

    async def _parse(self, body: bytes, res: FetchResult, now: datetime, feed: Feed) -> FeedOutcome:
        assert self._pool is not None and self._feed_calls is not None
        args = (self._pool, body, res.headers, res.final_url, now, self.parse_cfg, feed)
        loop = asyncio.get_running_loop()
        out = await loop.run_in_executor(self._feed_calls, budgeted_feed_job, *args)
        self.cpu.parse += out.cpu_s
        return out

    async def check_feed(self, feed: Feed) -> int:
        """Fetch, parse and store one feed; return the number of new articles."""
        assert feed.id is not None
        started = self.clock()
        res = await self._fetcher.fetch(
            feed.url, etag=feed.etag, last_modified=feed.last_modified, kind="feed"
        )
        now = self.clock()
        METRICS.fetches.labels(kind="feed", outcome=res.error or str(res.status)).inc()
        articles: tuple[Article, ...] = ()
        body_hash: str | None = None
        outcome = res
        if res.error is None and res.status == 200:
            body_hash = hashlib.sha256(res.body).hexdigest()
            if body_hash != feed.body_hash:  # identical body: skip the parse
                parsed = await self._parse(res.body, res, now, feed)
                if parsed.error:
                    # Nothing from a broken or partial body is stored, validators kept.
                    outcome = replace(res, error=parsed.error, detail=parsed.bozo)
                    body_hash = None
                else:
                    if parsed.non_unique_guids:
                        log.info("feed %s repeats GUIDs; items kept by link/content", feed.url)
                    articles = parsed.articles
        known: set[str] = set()
        if articles:
            known = await self._db(
                self.store.known_item_keys,
                feed.id,
                [(a.item_key, a.alias_key, a.title) for a in articles],
            )
        fresh = [a for a in articles if a.item_key not in known]
        check = next_check(feed, outcome, len(fresh), now, self.schedule)
        ok = outcome.error is None
        update = FeedUpdate(
            checked_at=now,
            next_check_at=check.next_check_at,
            interval_s=check.interval_s,
            error_count=check.error_count,
            status=check.status,
            last_error=(
                f"{outcome.error}{': ' + outcome.detail[:300] if outcome.detail else ''}"
                if outcome.error
                else None
            ),
            success=ok,
            etag=outcome.etag if ok else None,
            last_modified=outcome.last_modified if ok else None,
            body_hash=body_hash if ok else None,
            redirect_to=outcome.permanent_redirect,
        )
        self.crawl_pass.record(res.error, outcome.error)
        if outcome.error:  # summed up per pass (end_pass); each feed's error is stored
            log.debug("feed %s: %s %s", feed.url, outcome.error, outcome.detail[:200])
            METRICS.errors.labels(stage="feed").inc()
        ids = await self._db(self.store.save_feed_check, feed.id, update, fresh, "discovered")
        if self.websub is not None and ok and res.status == 200:
            try:  # hubs the feed advertises; a dead hub never stops polling
                await self.websub.sync_from_fetch(feed, res)
            except Exception:
                log.exception("websub sync failed for %s", feed.url)
        METRICS.articles_discovered.inc(len(ids))
        METRICS.stage_seconds.labels(stage="feed").observe((self.clock() - started).total_seconds())
        return len(ids)

    # -- pages ---------------------------------------------------------------------------
    async def process_discovered(self, limit: int = 32) -> int:
        """Claim discovered articles, fetch and extract their pages, store the results.

        Up to `page_capacity` pages are in flight and carry over between calls; a call
        commits the pages that finished (one transaction) and returns how many, or 0
        when nothing is claimable and nothing is in flight. While it waits for a page to
        finish it keeps claiming what was discovered meanwhile, so newly found articles
        start waiting for their host's turn at once, not after the slowest page.
        """
        while True:
            await self._claim_pages(limit)
            if not self._page_tasks:
                return 0
            # Gather what finishes within a short window so commits come in batches.
            done, _ = await asyncio.wait(self._page_tasks, timeout=0.1)
            if not done:
                done, _ = await asyncio.wait(
                    self._page_tasks, timeout=0.5, return_when=asyncio.FIRST_COMPLETED
                )
            if done:
                break
        self._page_tasks -= done
        outcomes = [t.result() for t in done]
        try:
            await self._commit_pages(outcomes)
        finally:
            self._pages_in_flight.difference_update(o.article.id for o in outcomes)
        METRICS.articles_extracted.inc(len(outcomes))
        return len(outcomes)

    async def _claim_pages(self, limit: int) -> None:
        """Top the in-flight pages up from the discovered articles, when there is room."""
        room = self.page_capacity - len(self._page_tasks)
        if room < max(1, min(limit, self.page_capacity // 4)) and self._page_tasks:
            return
        now = self.clock()
        claimed = await self._db(
            self.store.claim_articles,
            "discovered",
            self.worker,
            now,
            max(1, room),
            self.settings.lease_s,
        )
        if claimed:
            await self._ensure_dedup(now)
        for art in claimed:
            if art.id in self._pages_in_flight:
                continue  # its lease ran out while we were still on it
            self._pages_in_flight.add(art.id)
            self._page_tasks.add(asyncio.create_task(self._guarded_page(art)))

    async def _guarded_page(self, art: Article) -> PageOutcome:
        try:
            return await self._page(art)
        except Exception as exc:
            log.exception("page failed: %s", art.url)
            METRICS.errors.labels(stage="page").inc()
            return await self._finish_local(
                replace(art, extraction=Extraction.fallback(f"error:{type(exc).__name__}"))
            )

    async def _finish_local(self, art: Article) -> PageOutcome:
        out = await asyncio.to_thread(finish_fields, art)
        self.cpu.finish += out.finish_cpu_s
        return out

    async def _page(self, art: Article) -> PageOutcome:
        assert self._pool is not None and self._page_calls is not None
        if not art.url:
            return await self._finish_local(replace(art, extraction=Extraction.fallback("no_link")))
        started = self.clock()
        res = await self._fetcher.fetch(art.url, kind="page")
        METRICS.fetches.labels(kind="page", outcome=res.error or str(res.status)).inc()
        if res.error or res.status != 200:
            return await self._finish_local(
                replace(art, extraction=Extraction.fallback(f"{res.error or res.status}"))
            )
        t0 = self.clock()
        loop = asyncio.get_running_loop()
        pool = self._pool
        try:
            out = await loop.run_in_executor(
                self._page_calls,
                pool.call,
                page_job,
                (res.body, res.final_url, art),
                self.settings.extract_timeout_s,
            )
        except WorkerTimeout:
            return await self._finish_local(
                replace(art, extraction=Extraction.fallback("extract_timeout"))
            )
        except Exception:  # the worker died: the feed's text stands, with the reason
            return await self._finish_local(
                replace(art, extraction=Extraction.fallback("extract_error"))
            )
        assert isinstance(out, PageOutcome)
        self.cpu.extract += out.extract_cpu_s
        self.cpu.finish += out.finish_cpu_s
        METRICS.stage_seconds.labels(stage="extract").observe((self.clock() - t0).total_seconds())
        METRICS.stage_seconds.labels(stage="page").observe((self.clock() - started).total_seconds())
        return out

    async def _commit_pages(self, outcomes: Iterable[PageOutcome]) -> None:
        done = sorted(outcomes, key=lambda o: o.article.id or 0)
        if not done:
            return

        def commit() -> None:
            t0 = time.thread_time()
            linked = self._link_copies(done)
            self.cpu.dedup += time.thread_time() - t0
            t1 = time.thread_time()
            try:
                self.store.save_extracted(linked)
            finally:
                self.cpu.store += time.thread_time() - t1

        await asyncio.to_thread(commit)

    def _link_copies(self, done: list[PageOutcome]) -> list[Article]:
        """Set `duplicate_of` to the first extracted copy of each text, in id order within
        a batch (blocking: runs in a thread; one commit at a time touches the index)."""
        assert self._dedup is not None
        stored = self.store.first_ids_by_content_hash(
            [o.article.content_hash for o in done if len(o.article.text) > _MIN_HASH_DEDUP_CHARS]
        )
        out: list[Article] = []
        for o in done:
            art = o.article
            assert art.id is not None
            text = art.text
            key = self._dedup.add(str(art.id), text, art.published, o.signature or None)
            first = int(key) if key is not None and key != str(art.id) else None
            if first is None and len(text) > _MIN_HASH_DEDUP_CHARS:
                found = next((i for i in stored.get(art.content_hash, ()) if i != art.id), None)
                first = found if found is not None and found < art.id else None
            out.append(replace(art, duplicate_of=first))
        return out

    async def _ensure_dedup(self, now: datetime) -> None:
        # Each worker keeps its own near-duplicate index, rebuilt from the store now and
        # then so copies first seen by other workers are found too.
        if (
            self._dedup is not None
            and self._dedup_loaded_at is not None
            and now - self._dedup_loaded_at < timedelta(minutes=10)
        ):
            return
        rows = await self._db(self.store.recent_texts, now - timedelta(days=3), 20_000)
        index = await asyncio.to_thread(
            NearDuplicateIndex.rebuild, [(str(i), t, at) for i, t, at in rows]
        )
        self._dedup = index
        self._dedup_loaded_at = now
