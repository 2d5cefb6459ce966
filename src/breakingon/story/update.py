"""One story's update: everything the story stage decides from its member articles.

`update_story(articles, outlets, now, cfg)` returns a `StoryResult`: coverage,
independent reports, importance and its explanation, the breaking flag, sections,
places, languages, the representative article, the final headline and dek, and the
brief. Pure apart from the optional abstractive rewrite (`cfg.llm`): no store, no clock
(`now` is passed in), no web layer. Each article's page kind and places were decided at
ingest (`Article.page_kind`, `Article.places`) and are read, never recomputed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from breakingon.records import UNTITLED, Article, Brief, Outlet, Place
from breakingon.story.breaking import BreakingSettings, breaking_state
from breakingon.story.brief.documents import write_story_brief
from breakingon.story.brief.extractive import Embedder, report_sentences
from breakingon.story.coverage import story_languages, story_places, story_sections
from breakingon.story.headline import (
    brief_dek,
    dek_after,
    headline_problem,
    is_headline_style,
    lead_sentences,
    story_headline,
)
from breakingon.story.rank import (
    Coverage,
    Importance,
    RankSettings,
    independent_reports,
    score_story,
)

if TYPE_CHECKING:
    from breakingon.story.brief.llm import LLMSettings, PostJson


@dataclass(frozen=True, slots=True)
class StorySettings:
    """Settings of the story stage. `sentences` embeds the brief's sentences (the stage
    passes a `SentenceCache` kept across updates; None: the brief writer's default);
    `llm` turns on the optional abstractive rewrite, with `llm_api_key`, asked through
    `llm_post` (the client the stage injects); `brief_language` is the operator's
    preferred brief language (ISO 639-1, "" none: the dominant one)."""

    rank: RankSettings = field(default_factory=RankSettings)
    breaking: BreakingSettings = field(default_factory=BreakingSettings)
    sentences: Embedder | None = None
    llm: LLMSettings | None = None
    llm_api_key: str = ""
    llm_post: PostJson | None = None
    brief_language: str = ""


@dataclass(frozen=True, slots=True)
class StoryResult:
    """What the story stage stores for one story (the related stories aside: finding
    them is a store search, added by the stage)."""

    headline: str  # final: a member's title or a composed clause, never cut
    dek: str  # final: never repeats the headline ("" when nothing is left)
    first_reported: datetime
    last_reported: datetime
    article_count: int
    outlet_count: int
    representative_article_id: int | None
    outlets: tuple[str, ...]
    countries: tuple[str, ...]
    languages: tuple[str, ...]
    sections: tuple[str, ...]
    places: tuple[Place, ...]
    score: float
    score_explanation: str
    breaking_since: datetime | None
    breaking_until: datetime | None
    brief: Brief | None


@dataclass(frozen=True, slots=True)
class KeptBrief:
    """A brief the story stage keeps instead of writing it again (None: the story had
    no brief when it was last written)."""

    brief: Brief | None


def final_headline(
    brief: Brief | None, representative: Article, articles: Sequence[Article]
) -> str:
    """The story's headline: the brief's (the member title closest to the story) when it
    passes `headline_problem` and is written as a headline, else `story_headline` over
    the brief's title and the member titles (the representative article's first; cut
    titles made whole from their own text; a headline proper before a sentence), else
    one composed from a lead sentence (the brief's dek, then the members' leads). Only
    the members in the brief's language are read (all when none is)."""
    members = [representative, *(a for a in articles[:50] if a is not representative)]
    news = [a for a in members if not a.page_kind] or members
    # the brief's headline is a member's title: the brief's language, else that
    # member's, else the story's
    dominant = next(iter(story_languages([a.language for a in news])), "")
    brief_lang = (brief.language if brief is not None else "") or next(
        (a.language for a in news if brief is not None and a.title == brief.headline), dominant
    )
    ok = (
        brief is not None
        and brief.headline
        and headline_problem(brief.headline, brief_lang) is None
    )
    if brief is not None and ok and is_headline_style(brief.headline):
        return brief.headline
    if brief is not None and brief.language:
        # a headline in the brief's language: the members reporting in it
        news = [a for a in news if a.language in (brief.language, "")] or news
    # the brief's title (the one closest to the story) first when it is a sentence: a
    # member title written as a headline goes before it
    titles = [(brief.headline, "")] if brief is not None and ok else []
    languages = [brief_lang] if brief is not None and ok else []
    titles += [(a.title, a.text or a.summary) for a in news]
    languages += [a.language for a in news]

    def leads() -> Iterator[str]:
        if brief is not None:
            yield from (s.text for s in brief.dek)
        for a in news[:12]:
            yield from lead_sentences(a.text or a.summary)

    return story_headline(titles, leads(), languages, dominant)


def update_story(
    articles: Sequence[Article],
    outlets: Mapping[str, Outlet],
    now: datetime,
    cfg: StorySettings | None = None,
    *,
    kept: KeptBrief | None = None,
) -> StoryResult:
    """The update of a story with these member articles (at least one).

    With `kept`, the brief is not written again: `kept.brief` (the one written for the
    same `brief_basis`, or one the caller chose to keep a while) stands, and everything
    else (coverage, rank, breaking, sections, places, languages, headline, dek) is
    computed from the articles as always. With the basis unchanged the result equals a
    full update's."""
    if not articles:
        raise ValueError("a story without articles has nothing to update")
    cfg = cfg or StorySettings()
    # Non-article pages (consent walls, players, crawl notices) are no outlet's report:
    # a story of nothing else has no coverage, so no list shows it.
    news = [a for a in articles if not a.page_kind]
    coverage = Coverage.from_articles(news, outlets)
    reports = independent_reports(coverage)
    flag = breaking_state(coverage, now, cfg.breaking)
    importance = score_story(coverage, now, cfg.rank, flag.reason if flag.is_breaking else "")
    if not news:
        importance = Importance(
            0.0, f"not a news report ({articles[0].page_kind}); kept out of the lists"
        )
    if kept is not None:
        brief = kept.brief
    else:
        brief = write_story_brief(
            news, cfg.sentences, cfg.llm, cfg.llm_api_key, cfg.llm_post, cfg.brief_language
        )
    independent = [a for a in articles if a.duplicate_of is None] or list(articles)
    representative = max(
        independent[:5], key=lambda a: (len(a.text) > 400, -a.published.timestamp())
    )
    headline = final_headline(brief, representative, articles) or UNTITLED
    if headline == UNTITLED and news:
        # nothing in it reads as a headline: no report a reader could be shown by title
        importance = Importance(0.0, "no headline could be written; kept out of the lists")
    if brief is not None and brief.dek:
        dek = brief_dek(brief.dek, headline)
    else:
        # the outlet's lead sentence; its next one when the headline shows the first
        body = representative.text or representative.summary
        # never an unchecked sentence: a wall's "you agree to our Terms" is no lead
        lang = representative.language
        lead = (
            [x.text for x in report_sentences(body, lang=lang)[:2]]
            or [x.text for x in report_sentences(representative.summary, lang=lang)[:2]]
            or [""]
        )
        dek = dek_after(lead[0], headline) or (lead[1] if len(lead) > 1 else "")
    return StoryResult(
        headline=headline,
        dek=dek,
        first_reported=min(a.published for a in articles),
        last_reported=max(a.published for a in articles),
        article_count=len(articles),
        outlet_count=len(reports),
        representative_article_id=representative.id,
        outlets=tuple(r.outlet for r in reports),
        countries=tuple(dict.fromkeys(r.country for r in reports if r.country)),
        languages=story_languages([a.language for a in articles]),
        sections=story_sections(news),
        places=story_places(articles),
        score=importance.score,
        score_explanation=importance.explanation,
        breaking_since=flag.since if flag.is_breaking else None,
        breaking_until=flag.until if flag.since is not None else None,
        brief=brief,
    )
