"""The story stage and the trend stage.

`StoryStage` claims dirty stories and stores what `story.update_story` decides for each
(coverage, importance, breaking flag, sections, places, languages, headline, dek,
brief), with the related stories a store search finds; `TrendStage` writes bursting
terms every few minutes.

The stage is incremental where it costs: a story's new members since its last update
coalesce into one update (the store's dirty flag: however many joined, the story is
claimed once); the signals are recomputed on every update, but the brief is written
again only when `story.refresh.brief_decision` says so, and kept exactly as it is while
its basis (the reports it reads) is unchanged. A brief deferred a while is written when
its time is up (the stage marks the story dirty again then, or at once on `flush`).
The sentences embedded for briefs are kept (`SentenceCache`), so a rewrite embeds only
the new reports' sentences. One step claims stories in chunks while the claims come
back full and its time budget lasts: the step grows with the backlog and stays short.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from breakingon.crawl.api import ApiClient
from breakingon.ops.metrics import METRICS
from breakingon.records import Article, Outlet
from breakingon.settings import Settings
from breakingon.store import Store
from breakingon.store.base import StoryUpdate
from breakingon.store.base import Trend as StoredTrend
from breakingon.story.breaking import BreakingSettings
from breakingon.story.brief.documents import (
    SentenceCache,
    brief_basis,
    brief_documents,
    brief_texts,
)
from breakingon.story.brief.llm import LLMSettings, PostJson
from breakingon.story.rank import RankSettings
from breakingon.story.refresh import BriefRecord, BriefRefresh, brief_decision
from breakingon.story.trends import Mention, TrendSettings, extract_terms, find_trends
from breakingon.story.update import KeptBrief, StorySettings, update_story

__all__ = ["StoryStage", "TrendStage", "llm_settings", "story_settings"]

log = logging.getLogger("breakingon.process")

STEP_BUDGET_S = 2.0  # one step claims more stories only while this much time is left
BRIEF_RECORDS = 2_000  # briefs kept in memory (LRU, ~10 KB each), for stories updated lately


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A claimed story's articles and what `StoryStage._kept` decided for its brief."""

    articles: list[Article]
    kept: KeptBrief | None  # None: the brief is written in this update
    basis: str
    reports: int


def _now() -> datetime:
    return datetime.now(UTC)


def llm_settings(settings: Settings) -> LLMSettings | None:
    """The optional abstractive writer, on when the operator set BREAKINGON_LLM_URL."""
    if not settings.llm_url:
        return None
    return LLMSettings(enabled=True, endpoint=settings.llm_url, model=settings.llm_model)


def story_settings(
    settings: Settings, sentences: SentenceCache | None = None, post: PostJson | None = None
) -> StorySettings:
    """The story stage's settings, from the operator's; `post` asks the LLM endpoint."""
    return StorySettings(
        rank=RankSettings(),
        breaking=BreakingSettings(
            min_outlets=settings.breaking_min_outlets, window_min=settings.breaking_window_min
        ),
        sentences=sentences,
        llm=llm_settings(settings),
        llm_api_key=settings.llm_api_key,
        llm_post=post,
        brief_language=settings.brief_language,
    )


class StoryStage:
    """Updates dirty stories: claims them, loads their articles and the outlets, runs
    `story.update_story` (writing the brief again only when `brief_decision` says so),
    finds related stories (a store search) and saves."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        worker: str,
        clock: Callable[[], datetime] = _now,
        refresh: BriefRefresh | None = None,
        signal_clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.worker = worker
        self.clock = clock
        # The time recency, importance and breaking are judged at: the wall clock, or a
        # replay's clock (`breakingon demo`); claims, leases and saves keep `clock`.
        self.signal_clock = signal_clock
        self.refresh = refresh or BriefRefresh()
        # One kept-alive client for the operator's LLM endpoint, when one is set.
        self.api = ApiClient(user_agent=settings.user_agent) if settings.llm_url else None
        post = self.api.post_json if self.api is not None else None
        self.sentences = SentenceCache()
        self.cfg = story_settings(settings, self.sentences, post)
        self._outlets: dict[str, Outlet] = {}
        self._outlets_at = 0.0
        self._briefs: OrderedDict[int, BriefRecord] = OrderedDict()
        self._due: dict[int, datetime] = {}  # deferred briefs: story id -> when due
        self._force: set[int] = set()  # stories whose brief is written on their next update
        self.briefs_written = 0
        self.briefs_kept = 0
        self.briefs_deferred = 0

    def _outlet_map(self) -> dict[str, Outlet]:
        if time.monotonic() - self._outlets_at > 60 or not self._outlets:
            self._outlets = {o.name: o for o in self.store.list_outlets()}
            self._outlets_at = time.monotonic()
        return self._outlets

    def step(self, limit: int = 16, budget_s: float = STEP_BUDGET_S) -> int:
        """Update dirty stories: `limit` at a time, more while each claim comes back full
        and `budget_s` seconds have not passed. Returns how many were updated."""
        now = self.clock()
        self._mark_due(now)
        deadline = time.perf_counter() + budget_s
        total = 0
        while True:
            ids = self.store.claim_dirty_stories(self.worker, now, limit, self.settings.lease_s)
            prepared: dict[int, _Prepared | None] = {}
            for sid in ids:
                try:
                    prepared[sid] = self._prepare(sid, now)
                except Exception:
                    log.exception("story %d failed", sid)
                    METRICS.errors.labels(stage="story").inc()
            self._embed_ahead([p for p in prepared.values() if p is not None])
            for sid, prep in prepared.items():
                started = time.perf_counter()
                try:
                    if prep is not None:
                        self._finish(sid, prep, now)
                except Exception:
                    log.exception("story %d failed", sid)
                    METRICS.errors.labels(stage="story").inc()
                METRICS.stage_seconds.labels(stage="story").observe(time.perf_counter() - started)
            METRICS.stories_updated.inc(len(ids))
            total += len(ids)
            if len(ids) < limit or time.perf_counter() >= deadline:
                return total
            now = self.clock()

    def flush(self) -> int:
        """Mark every story with a deferred brief dirty now, its brief to be written on
        its next update (the end of a `run --once`, a shutdown). Returns how many."""
        ids = sorted(self._due)
        self._force.update(ids)
        self._due.clear()
        if ids:
            self.store.mark_stories_dirty(ids)
        return len(ids)

    def pending(self) -> int:
        """Stories whose brief is deferred (written when due, or on `flush`)."""
        return len(self._due)

    def _mark_due(self, now: datetime) -> None:
        due = sorted(sid for sid, at in self._due.items() if at <= now)
        if not due:
            return
        for sid in due:
            del self._due[sid]
        self._force.update(due)
        self.store.mark_stories_dirty(due)

    def _kept(
        self, story_id: int, articles: list[Article], now: datetime
    ) -> tuple[KeptBrief | None, str, int]:
        """The brief to keep for this update (None: write it), by `brief_decision`, with
        the members' brief basis and how many reports a brief reads."""
        news = [a for a in articles if not a.page_kind]
        basis = brief_basis(news, self.cfg.brief_language)
        reports = len(brief_documents(news))
        record = self._briefs.get(story_id)
        members = {str(a.id) for a in articles}
        decision = brief_decision(record, basis, reports, members, now, self.refresh)
        if story_id in self._force and decision == "defer":
            decision = "write"
        self._force.discard(story_id)
        if decision != "write" and record is not None and record.brief is not None:
            # another worker may have written the story's brief since: keep only the
            # brief that is stored, never an older one of this worker's
            if self.store.get_brief(story_id) != record.brief:
                decision = "write"
        if decision == "write" or record is None:
            self._due.pop(story_id, None)
            return None, basis, reports
        self._briefs.move_to_end(story_id)
        if decision == "keep":
            self.briefs_kept += 1
        else:
            self.briefs_deferred += 1
            self._due.setdefault(story_id, record.due(self.refresh))
        return KeptBrief(record.brief), basis, reports

    def _prepare(self, story_id: int, now: datetime) -> _Prepared | None:
        """The story's articles and whether its brief is kept (None: nothing to do)."""
        articles = self.store.story_articles(story_id)
        if not articles:
            return None
        kept, basis, reports = self._kept(story_id, articles, now)
        return _Prepared(articles, kept, basis, reports)

    def _embed_ahead(self, prepared: list[_Prepared]) -> None:
        """Embed the sentences of every brief about to be written, in one batch."""
        texts = [
            t
            for p in prepared
            if p.kept is None
            for t in brief_texts(
                [a for a in p.articles if not a.page_kind], self.cfg.brief_language
            )
        ]
        if texts:
            self.sentences.warm(texts)

    def update_story(self, story_id: int, now: datetime) -> None:
        prep = self._prepare(story_id, now)
        if prep is not None:
            self._finish(story_id, prep, now)

    def _finish(self, story_id: int, prep: _Prepared, now: datetime) -> None:
        articles, kept, basis, reports = prep.articles, prep.kept, prep.basis, prep.reports
        judged = self.signal_clock() if self.signal_clock is not None else now
        r = update_story(articles, self._outlet_map(), judged, self.cfg, kept=kept)
        if kept is None:
            self._briefs[story_id] = BriefRecord(basis, r.brief, reports, now)
            self._briefs.move_to_end(story_id)
            while len(self._briefs) > BRIEF_RECORDS:
                self._briefs.popitem(last=False)
            self.briefs_written += 1
        saved = self.store.save_story(
            StoryUpdate(
                story_id=story_id,
                headline=r.headline,
                dek=r.dek,
                first_reported=r.first_reported,
                last_reported=r.last_reported,
                article_count=r.article_count,
                outlet_count=r.outlet_count,
                representative_article_id=r.representative_article_id,
                outlets=r.outlets,
                countries=r.countries,
                languages=r.languages,
                sections=r.sections,
                places=r.places,
                score=r.score,
                score_explanation=r.score_explanation,
                breaking_since=r.breaking_since,
                breaking_until=r.breaking_until,
                brief=r.brief,
                related=self._related(story_id, r.headline),
            ),
            now,
            self.worker,
        )
        if not saved:
            # the lease ran out during this update and another worker took the story
            # (or it was merged away): its result is the one kept
            log.info("story %d: claim lost during the update; result dropped", story_id)
            self._briefs.pop(story_id, None)

    def _related(self, story_id: int, headline: str) -> tuple[int, ...]:
        words = [w for w in headline.split() if len(w) > 3 and w[:1].isupper()][:4]
        if not words:
            return ()
        found = self.store.search_stories(" ".join(words[:2]), 6)
        return tuple(s.id for s in found if s.id != story_id)[:4]


class TrendStage:
    """Bursting terms over recent articles, written to the store every few minutes."""

    def __init__(
        self, settings: Settings, store: Store, clock: Callable[[], datetime] = _now
    ) -> None:
        self.store = store
        self.clock = clock
        self._last = 0.0

    def step(self, every_s: float = 300.0, force: bool = False) -> int:
        if not force and time.monotonic() - self._last < every_s:
            return 0
        self._last = time.monotonic()
        now = self.clock()
        cfg = TrendSettings()
        hours = (cfg.max_recent_buckets + cfg.baseline_buckets) * cfg.bucket_min / 60.0
        articles = self.store.recent_articles(now - timedelta(hours=hours), 20_000)
        mentions = [
            Mention(term, str(a.story_id), a.published, a.language)
            for a in articles
            if a.story_id is not None and a.duplicate_of is None
            for term in extract_terms(a.title, a.text[:1500], a.language)
        ]
        trends = find_trends(mentions, now, cfg)
        self.store.save_trends(
            [
                StoredTrend(
                    t.term, t.score, tuple(int(s) for s in t.story_ids[:10]), now, t.language
                )
                for t in trends
            ]
        )
        return len(trends)
