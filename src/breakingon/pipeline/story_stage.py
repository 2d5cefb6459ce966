"""The story stage and the trend stage.

`StoryStage` recomputes a dirty story's coverage, importance, breaking flag, sections,
places, languages and brief; `TrendStage` writes bursting terms every few minutes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from breakingon.crawl.api import ApiClient
from breakingon.extract.pagekind import non_article_kind
from breakingon.ops.metrics import METRICS
from breakingon.records import Article, Brief, Outlet, Place
from breakingon.settings import Settings
from breakingon.store import Store
from breakingon.store.base import StoryUpdate
from breakingon.store.base import Trend as StoredTrend
from breakingon.story.breaking import BreakingSettings, breaking_state
from breakingon.story.brief.extractive import single_source_lead
from breakingon.story.brief.llm import LLMSettings, PostJson
from breakingon.story.rank import (
    Coverage,
    Importance,
    RankSettings,
    independent_reports,
    score_story,
)
from breakingon.story.trends import Mention, extract_terms, find_trends
from breakingon.tag.lang import story_languages
from breakingon.tag.places import geotag

log = logging.getLogger("breakingon.process")

CLUSTER_LEASE = "cluster-leader"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class StorySignals:
    """Settings of the story stage, derived from Settings."""

    rank: RankSettings
    breaking: BreakingSettings


def _aggregate_places(articles: Sequence[Article], limit: int = 6) -> tuple[Place, ...]:
    weight: dict[int, float] = defaultdict(float)
    by_id: dict[int, Place] = {}
    for a in articles:
        # Articles that did not come through the crawler's extraction step (archives)
        # are tagged here.
        places = a.places or geotag(a.title, a.text[:5000], hint_country=a.country)
        for p in places:
            weight[p.geonameid] += p.score or 1.0
            by_id[p.geonameid] = p
    if not weight:
        return ()
    n = max(1, len(articles))
    ranked = sorted(weight, key=lambda g: (-weight[g], g))
    # Two places of one name (Vancouver the city and the island, or BC and WA): keep the
    # one the coverage weighs most; the other is an ambiguity, not a second place.
    seen_names: set[tuple[str, str]] = set()
    unique = []
    for g in ranked:
        name = (by_id[g].name.casefold(), "")
        if name not in seen_names:
            seen_names.add(name)
            unique.append(g)
    out: list[Place] = []
    for g in unique[:limit]:
        share = weight[g] / n
        if share < 0.2 and out:
            break
        p = by_id[g]
        out.append(Place(p.geonameid, p.name, p.country, p.kind, p.lat, p.lon, round(share, 4)))
    return tuple(out)


def _aggregate_sections(articles: Sequence[Article]) -> tuple[str, ...]:
    votes: dict[str, float] = defaultdict(float)
    for a in articles:
        for i, label in enumerate(a.sections):
            votes[label] += 1.0 if i == 0 else 0.5
    if not votes:
        return ()
    top = sorted(votes.items(), key=lambda p: (-p[1], p[0]))
    best = top[0][1]
    return tuple(label for label, v in top[:2] if v >= 0.5 * best)


def _first_sentence(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    for end in (". ", "! ", "? "):
        i = text.find(end)
        if 40 <= i <= limit:
            return text[: i + 1]
    return text[:limit].rsplit(" ", 1)[0] + ("…" if len(text) > limit else "")


class SentenceCache:
    """Embeddings of sentences already seen, so a developing story's brief re-embeds
    only its new articles' sentences (an LRU bounded by `size` sentences)."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._vectors: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        from breakingon.cluster.embed import DIM, embed_texts

        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        fresh = embed_texts(missing) if missing else np.zeros((0, DIM), dtype=np.float32)
        with self._lock:
            for t, v in zip(missing, fresh, strict=True):
                self._vectors[t] = v
            out = np.zeros((len(texts), DIM), dtype=np.float32)
            for i, t in enumerate(texts):
                v = self._vectors.get(t)
                if v is None:  # evicted between the two locks: embed it alone
                    v = embed_texts([t])[0]
                else:
                    self._vectors.move_to_end(t)
                out[i] = v
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return out


MAX_BRIEF_DOCS = 12  # the brief reads the first reports and the latest ones, not all 200


def brief_documents(articles: Sequence[Article]) -> list[Article]:
    """The articles a brief draws on: independent reports first (one per outlet, the
    earliest and the latest), syndicated copies only when nothing else says it."""
    independent = [a for a in articles if a.duplicate_of is None and (a.text or a.title)]
    by_outlet: dict[str, Article] = {}
    for a in sorted(independent, key=lambda a: (a.published, a.id or 0)):
        by_outlet.setdefault(a.outlet, a)
    firsts = list(by_outlet.values())
    if len(firsts) <= MAX_BRIEF_DOCS:
        return firsts
    half = MAX_BRIEF_DOCS // 2
    return firsts[:half] + firsts[-(MAX_BRIEF_DOCS - half) :]


def llm_settings(settings: Settings) -> LLMSettings | None:
    """The optional abstractive writer, on when the operator set BREAKINGON_LLM_URL."""
    if not settings.llm_url:
        return None
    return LLMSettings(enabled=True, endpoint=settings.llm_url, model=settings.llm_model)


def write_story_brief(
    articles: Sequence[Article],
    embedder: SentenceCache | None = None,
    llm: LLMSettings | None = None,
    api_key: str = "",
    post: PostJson | None = None,
) -> Brief | None:
    """The brief of a story with at least two independent outlets (else None).

    The extractive brief is always written; with `llm`, the abstractive rewrite replaces
    it only when every sentence is supported by the sources it cites (asked through
    `post`, the stage's `ApiClient.post_json`).
    """
    from breakingon.story.brief.extractive import BriefSettings, BriefSource, write_brief

    chosen = brief_documents(articles)
    if len({a.outlet for a in chosen}) < 2:
        return None
    docs = [
        BriefSource(
            id=str(a.id),
            title=a.title,
            text=a.text[:20_000],
            outlet=a.outlet,
            url=a.url,
            published=a.published,
            authors=a.authors,
            duplicate_of=None,
        )
        for a in chosen
    ]
    cfg = BriefSettings(embedder=embedder) if embedder is not None else BriefSettings()
    brief: Brief = write_brief(docs, cfg)
    if llm is not None and llm.enabled and post is not None:
        from breakingon.story.brief.llm import rewrite_brief

        outcome = rewrite_brief(docs, brief, llm, {llm.api_key_env: api_key}, cfg, post=post)
        if not outcome.accepted:
            log.info("abstractive brief refused: %s", outcome.reason)
        brief = outcome.brief
    return brief


class StoryStage:
    """Recomputes dirty stories: coverage, importance, breaking, sections, places, brief."""

    def __init__(
        self, settings: Settings, store: Store, worker: str, clock: Callable[[], datetime] = _now
    ) -> None:
        self.settings = settings
        self.store = store
        self.worker = worker
        self.clock = clock
        self.signals = StorySignals(
            rank=RankSettings(),
            breaking=BreakingSettings(
                min_outlets=settings.breaking_min_outlets, window_min=settings.breaking_window_min
            ),
        )
        self._outlets: dict[str, Outlet] = {}
        self._outlets_at = 0.0
        self.sentences = SentenceCache()
        self.llm = llm_settings(settings)
        self.api = ApiClient(user_agent=settings.user_agent) if self.llm is not None else None

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
        outlets = self._outlet_map()
        # Non-article pages (consent walls, players, crawl notices) are no outlet's report:
        # a story of nothing else has no coverage, so no list shows it.
        kinds = [non_article_kind(a.title, a.text) for a in articles]
        news = [a for a, kind in zip(articles, kinds, strict=True) if not kind]
        coverage = Coverage.from_articles(news, outlets)
        reports = independent_reports(coverage)
        importance = score_story(coverage, now, self.signals.rank)
        if not news:
            importance = Importance(0.0, f"not a news report ({kinds[0]}); kept out of the lists")
        flag = breaking_state(coverage, now, self.signals.breaking)
        post = self.api.post_json if self.api is not None else None
        brief = write_story_brief(news, self.sentences, self.llm, self.settings.llm_api_key, post)
        independent = [a for a in articles if a.duplicate_of is None] or list(articles)
        representative = max(
            independent[:5], key=lambda a: (len(a.text) > 400, -a.published.timestamp())
        )
        if brief is not None:
            headline = brief.headline
            dek = " ".join(s.text for s in brief.dek)
        else:
            headline, dek = single_source_lead(
                representative.title, representative.text or representative.summary
            )
        dek = dek or _first_sentence(representative.summary or representative.text)
        countries = tuple(dict.fromkeys(r.country for r in reports if r.country))
        related = self._related(story_id, headline)
        self.store.save_story(
            StoryUpdate(
                story_id=story_id,
                headline=headline or "(untitled)",
                dek=dek,
                first_reported=min(a.published for a in articles),
                last_reported=max(a.published for a in articles),
                article_count=len(articles),
                outlet_count=len(reports),
                representative_article_id=representative.id,
                outlets=tuple(r.outlet for r in reports),
                countries=countries,
                languages=story_languages([a.language for a in articles]),
                sections=_aggregate_sections(articles),
                places=_aggregate_places(articles),
                score=importance.score,
                score_explanation=importance.explanation,
                breaking_since=flag.since if flag.is_breaking else None,
                breaking_until=flag.until if flag.since is not None else None,
                brief=brief,
                related=related,
            ),
            now,
        )

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
        articles = self.store.recent_articles(now - timedelta(hours=51), 20_000)
        mentions = [
            Mention(term, str(a.story_id), a.published)
            for a in articles
            if a.story_id is not None and a.duplicate_of is None
            for term in extract_terms(a.title, a.text[:1500])
        ]
        trends = find_trends(mentions, now)
        self.store.save_trends(
            [
                StoredTrend(t.term, t.score, tuple(int(s) for s in t.story_ids[:10]), now)
                for t in trends
            ]
        )
        return len(trends)
