"""A story's coverage by language, and the language its brief is written in.

`language_coverage(articles)` counts, for each language a member article is written in
(`Article.language`, detected once at ingest), the independent outlets that reported in
it (a syndicated copy of another member adds nothing), their countries and the articles.
The languages come most covered first: most independent outlets, then most articles,
then the language of the earliest report, then the code. Articles of unknown language
("") and non-article pages (`page_kind`) count in no language.

`brief_language(coverage, preferred)` is the rule of docs/briefs.md ("Languages"): the
operator's preferred language (BREAKINGON_BRIEF_LANGUAGE) when at least one independent
outlet reported in it, else the dominant one, the first of `language_coverage`.
Pure: records in, records out. The story stage and the site's coverage panel both count
with it, so the brief's language and the panel agree.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from breakingon.records import Article

__all__ = ["LanguageCoverage", "brief_language", "language_coverage", "writing_order"]


@dataclass(frozen=True, slots=True)
class LanguageCoverage:
    """The reporting of a story in one language."""

    code: str  # ISO 639-1
    outlets: tuple[str, ...]  # independent outlets reporting in it, earliest report first
    countries: tuple[str, ...]  # their countries (ISO 3166 alpha-2), first seen first
    articles: int  # member articles in it (syndicated copies included)
    first: datetime  # its earliest report


def language_coverage(
    articles: Sequence[Article], outlet_countries: Mapping[str, str] | None = None
) -> tuple[LanguageCoverage, ...]:
    """The story's languages, most covered first (see the module's rule). A country is the
    article's, else its outlet's from `outlet_countries` (outlet name -> ISO code)."""
    countries_of = outlet_countries or {}
    members = {a.id for a in articles if a.id is not None}
    outlets: dict[str, dict[str, None]] = {}
    countries: dict[str, dict[str, None]] = {}
    count: dict[str, int] = {}
    first: dict[str, datetime] = {}
    for a in sorted(articles, key=lambda a: (a.published, a.id or 0)):
        lang = a.language
        if not lang or a.page_kind:
            continue
        count[lang] = count.get(lang, 0) + 1
        first.setdefault(lang, a.published)
        outlets.setdefault(lang, {})
        countries.setdefault(lang, {})
        if a.duplicate_of is not None and a.duplicate_of in members:
            continue  # a syndicated copy: its original speaks for it
        name = a.outlet or f"article {a.id}"
        outlets[lang].setdefault(name, None)
        country = (a.country or countries_of.get(a.outlet, "")).upper()
        if country:
            countries[lang].setdefault(country, None)
    out = [
        LanguageCoverage(
            lang, tuple(outlets[lang]), tuple(countries[lang]), count[lang], first[lang]
        )
        for lang in count
    ]
    out.sort(key=lambda c: (-len(c.outlets), -c.articles, c.first, c.code))
    return tuple(out)


def brief_language(coverage: Sequence[LanguageCoverage], preferred: str = "") -> str:
    """The language a story's brief is written in: `preferred` when an independent outlet
    reported in it, else the most covered one; "" when no member's language is known."""
    if preferred and any(c.code == preferred and c.outlets for c in coverage):
        return preferred
    return coverage[0].code if coverage else ""


def writing_order(coverage: Sequence[LanguageCoverage], preferred: str = "") -> list[str]:
    """The languages in the order a brief tries them: `brief_language` first, then the
    others most covered first (the next one stands in when a language gives no
    sentence, so a preference never leaves a story without a brief)."""
    chosen = brief_language(coverage, preferred)
    return [chosen, *(c.code for c in coverage if c.code != chosen)] if chosen else []
