"""Crawl stage: check due feeds, store their new items, fetch and extract article pages.

Network I/O goes through `breakingon.crawl.http.Fetcher` (SSRF policy, caps, politeness);
parsing and extraction run in worker processes with hard time budgets. A feed's new items
and its new validators/schedule are committed in one transaction (RELIABILITY F1); a
failed fetch or parse keeps the old validators (A7) and backs off (B3).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from breakingon import __version__
from breakingon.classify import classify
from breakingon.crawl.feeds import ParseSettings, parse_feed_budgeted
from breakingon.crawl.http import Fetcher, FetchSettings
from breakingon.crawl.netpolicy import NetPolicy, Resolver
from breakingon.crawl.sanitize import html_to_text
from breakingon.crawl.schedule import ScheduleSettings, next_check
from breakingon.dedup import NearDuplicateIndex, content_hash, simhash64
from breakingon.extract import ExtractorPool
from breakingon.geotag import geotag
from breakingon.lang import detect_language
from breakingon.metrics import METRICS
from breakingon.records import Article, Feed, FeedItem, FetchResult
from breakingon.settings import Settings
from breakingon.store import Store
from breakingon.store.base import FeedUpdate

log = logging.getLogger("breakingon.crawl")

MIN_EXTRACTED_CHARS = 200  # shorter extractions lose to the feed's own content


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


def item_to_article(item: FeedItem, feed: Feed, now: datetime) -> Article:
    text = html_to_text(item.content_html) if item.content_html else ""
    return Article(
        url=item.url,
        title=item.title,
        text=text if len(text) > len(item.summary) else item.summary,
        summary=item.summary,
        published=item.published,
        authors=item.authors,
        image=item.image,
        item_key=item.item_key,
        alias_key=item.alias_key,
        sections=feed.sections,
        first_seen=now,
        language=feed.language,
        extraction="",
    )


class CrawlStage:
    """Feed checks and page fetches for one worker. Use as an async context manager."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        worker: str,
        *,
        resolver: Resolver | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.store = store
        self.worker = worker
        self.clock = clock
        self.schedule = schedule_settings(settings)
        self.parse_cfg = ParseSettings()
        self._fetcher = Fetcher(fetch_settings(settings), net_policy(settings), resolver=resolver)
        self._extractor: ExtractorPool | None = None
        self._dedup: NearDuplicateIndex | None = None
        self._dedup_loaded_at: datetime | None = None

    async def __aenter__(self) -> CrawlStage:
        await self._fetcher.__aenter__()
        self._extractor = ExtractorPool(
            workers=max(1, self.settings.extract_workers), timeout_s=self.settings.extract_timeout_s
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._fetcher.__aexit__(None, None, None)
        if self._extractor is not None:
            await asyncio.to_thread(self._extractor.close)
            self._extractor = None

    # -- feeds ---------------------------------------------------------------------------
    async def check_due_feeds(self, limit: int = 50) -> int:
        """Claim due feeds and check them concurrently; return how many were checked."""
        now = self.clock()
        feeds = await asyncio.to_thread(
            self.store.claim_due_feeds, self.worker, now, limit, self.settings.lease_s
        )
        if not feeds:
            return 0
        sem = asyncio.Semaphore(max(1, self.settings.fetch_concurrency))

        async def one(feed: Feed) -> None:
            async with sem:
                try:
                    await self.check_feed(feed)
                except Exception:  # one feed failing never fails the batch
                    log.exception("feed check failed: %s", feed.url)
                    METRICS.errors.labels(stage="feed").inc()

        await asyncio.gather(*(one(f) for f in feeds))
        return len(feeds)

    async def check_feed(self, feed: Feed) -> int:
        """Fetch, parse and store one feed; return the number of new articles."""
        assert feed.id is not None
        started = self.clock()
        res = await self._fetcher.fetch(
            feed.url, etag=feed.etag, last_modified=feed.last_modified, kind="feed"
        )
        now = self.clock()
        METRICS.fetches.labels(kind="feed", outcome=res.error or str(res.status)).inc()
        articles: list[Article] = []
        body_hash: str | None = None
        outcome = res
        if res.error is None and res.status == 200:
            body_hash = hashlib.sha256(res.body).hexdigest()
            if body_hash != feed.body_hash:  # identical body: skip the parse (B1)
                parsed = await asyncio.to_thread(
                    parse_feed_budgeted, res.body, res.headers, res.final_url, now, self.parse_cfg
                )
                if parsed.error:
                    # Nothing from a broken or partial body is stored, validators kept (A7).
                    outcome = replace(res, error=parsed.error, detail=parsed.bozo)
                    body_hash = None
                else:
                    if parsed.non_unique_guids:
                        log.info("feed %s repeats GUIDs; items kept by link/content", feed.url)
                    articles = [item_to_article(i, feed, now) for i in parsed.items]
        known = await asyncio.to_thread(
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
        if outcome.error:
            log.warning("feed %s: %s %s", feed.url, outcome.error, outcome.detail[:200])
            METRICS.errors.labels(stage="feed").inc()
        ids = await asyncio.to_thread(
            self.store.save_feed_check, feed.id, update, fresh, "discovered"
        )
        METRICS.articles_discovered.inc(len(ids))
        METRICS.stage_seconds.labels(stage="feed").observe((self.clock() - started).total_seconds())
        return len(ids)

    # -- pages ---------------------------------------------------------------------------
    async def process_discovered(self, limit: int = 32) -> int:
        """Claim discovered articles, fetch and extract their pages, store the result."""
        now = self.clock()
        claimed = await asyncio.to_thread(
            self.store.claim_articles, "discovered", self.worker, now, limit, self.settings.lease_s
        )
        if not claimed:
            return 0
        await self._ensure_dedup(now)
        sem = asyncio.Semaphore(max(1, self.settings.fetch_concurrency))

        async def one(a: Article) -> Article:
            async with sem:
                try:
                    return await self.fetch_page(a)
                except Exception as exc:
                    log.exception("page failed: %s", a.url)
                    METRICS.errors.labels(stage="page").inc()
                    return replace(a, extraction=f"feed_fallback:error:{type(exc).__name__}")

        fetched = await asyncio.gather(*(one(a) for a in claimed))
        done = [self.finish_article(a) for a in fetched]
        await asyncio.to_thread(self.store.save_extracted, done)
        METRICS.articles_extracted.inc(len(done))
        return len(done)

    async def fetch_page(self, art: Article) -> Article:
        """Fetch and extract one article page; fall back to the feed's text, saying why."""
        assert self._extractor is not None
        if not art.url:
            return replace(art, extraction="feed_fallback:no_link")
        started = self.clock()
        res = await self._fetcher.fetch(art.url, kind="page")
        METRICS.fetches.labels(kind="page", outcome=res.error or str(res.status)).inc()
        if res.error or res.status != 200:
            return replace(art, extraction=f"feed_fallback:{res.error or res.status}")
        t0 = self.clock()
        ex = await self._extractor.extract(res.body, res.final_url)
        METRICS.stage_seconds.labels(stage="extract").observe((self.clock() - t0).total_seconds())
        METRICS.stage_seconds.labels(stage="page").observe((self.clock() - started).total_seconds())
        if ex.error:
            return replace(art, extraction=f"feed_fallback:{ex.error}")
        if len(ex.text) < max(MIN_EXTRACTED_CHARS, len(art.text) // 2):
            return replace(art, extraction="feed_fallback:too_short")
        return replace(
            art,
            title=art.title or ex.title,
            text=ex.text,
            authors=art.authors or ex.authors,
            image=art.image or ex.image,
            language=ex.language or art.language,
            extraction="ok",
        )

    def finish_article(self, art: Article) -> Article:
        """Language, hashes, syndicated-copy link, sections and places of one article."""
        assert art.id is not None and self._dedup is not None
        text = art.text or art.summary
        language = detect_language(f"{art.title}. {text[:2000]}") or art.language
        chash = content_hash(text)
        dup_key = self._dedup.add(str(art.id), text, art.published)
        duplicate_of = int(dup_key) if dup_key is not None and dup_key != str(art.id) else None
        if duplicate_of is None:
            duplicate_of = (
                self.store.find_by_content_hash(chash, art.id) if len(text) > 200 else None
            )
            if duplicate_of is not None and duplicate_of > art.id:
                duplicate_of = None  # the first copy is the older row
        section = classify(art.title, text, art.sections)
        places = geotag(art.title, text[:5000], hint_country=art.country)
        return replace(
            art,
            text=text,
            language=language,
            content_hash=chash,
            simhash=simhash64(text),
            duplicate_of=duplicate_of,
            sections=section.labels,
            places=places,
        )

    async def _ensure_dedup(self, now: datetime) -> None:
        # Each worker keeps its own near-duplicate index, rebuilt from the store now and
        # then so copies first seen by other workers are found too.
        if (
            self._dedup is not None
            and self._dedup_loaded_at is not None
            and now - self._dedup_loaded_at < timedelta(minutes=10)
        ):
            return
        rows = await asyncio.to_thread(self.store.recent_texts, now - timedelta(days=3), 20_000)
        self._dedup = await asyncio.to_thread(
            NearDuplicateIndex.rebuild, [(str(i), t, at) for i, t, at in rows]
        )
        self._dedup_loaded_at = now
