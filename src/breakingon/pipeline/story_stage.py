"""The story stage and the trend stage.

`StoryStage` claims dirty stories and stores what `story.update_story` decides for each
(coverage, importance, breaking flag, sections, places, languages, headline, dek,
brief), with the related stories a store search finds; `TrendStage` writes bursting
terms every few minutes.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from breakingon.crawl.api import ApiClient
from breakingon.ops.metrics import METRICS
from breakingon.records import Outlet
from breakingon.settings import Settings
from breakingon.store import Store
from breakingon.store.base import StoryUpdate
from breakingon.store.base import Trend as StoredTrend
from breakingon.story.breaking import BreakingSettings
from breakingon.story.brief.documents import SentenceCache
from breakingon.story.brief.llm import LLMSettings, PostJson
from breakingon.story.rank import RankSettings
from breakingon.story.trends import Mention, TrendSettings, extract_terms, find_trends
from breakingon.story.update import StorySettings, update_story

__all__ = ["StoryStage", "TrendStage", "llm_settings", "story_settings"]

log = logging.getLogger("breakingon.process")


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
    `story.update_story`, finds related stories (a store search) and saves."""

    def __init__(
        self, settings: Settings, store: Store, worker: str, clock: Callable[[], datetime] = _now
    ) -> None:
        self.settings = settings
        self.store = store
        self.worker = worker
        self.clock = clock
        # One kept-alive client for the operator's LLM endpoint, when one is set.
        self.api = ApiClient(user_agent=settings.user_agent) if settings.llm_url else None
        post = self.api.post_json if self.api is not None else None
        self.cfg = story_settings(settings, SentenceCache(), post)
        self._outlets: dict[str, Outlet] = {}
        self._outlets_at = 0.0

    def _outlet_map(self) -> dict[str, Outlet]:
        if time.monotonic() - self._outlets_at > 60 or not self._outlets:
            self._outlets = {o.name: o for o in self.store.list_outlets()}
            self._outlets_at = time.monotonic()
        return self._outlets

    def step(self, limit: int = 16) -> int:
        now = self.clock()
        ids = self.store.claim_dirty_stories(self.worker, now, limit, self.settings.lease_s)
        for sid in ids:
            started = time.perf_counter()
            try:
                self.update_story(sid, now)
            except Exception:
                log.exception("story %d failed", sid)
                METRICS.errors.labels(stage="story").inc()
            METRICS.stage_seconds.labels(stage="story").observe(time.perf_counter() - started)
        METRICS.stories_updated.inc(len(ids))
        return len(ids)

    def update_story(self, story_id: int, now: datetime) -> None:
        articles = self.store.story_articles(story_id)
        if not articles:
            return
        r = update_story(articles, self._outlet_map(), now, self.cfg)
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
