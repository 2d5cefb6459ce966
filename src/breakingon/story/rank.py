"""Story importance: a deterministic score and a one-line explanation an editor can read.

`score_story(coverage, now, cfg)` weighs what a news editor weighs: how many
*independent* outlets report the story (syndicated copies of one wire text count
once), how widely they spread across countries and ownership types, how fast
coverage grows (the last `recent_h` hours against before), how recent it is
(exponential decay) and an operator-set weight per source.

Independent sources are distinct owners (the outlet data's `owner`, else the outlet):
two mastheads of one group are one voice. A story of one source only is capped below
any developing story of two or more (a report in the last `recent_h` hours), unless it
is breaking; the explanation says which rule placed it.

Pure: takes records and plain values, never reads the clock (`now` is passed in),
never touches the store, the network or the web layer.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from breakingon.records import Article, Outlet


@dataclass(frozen=True, slots=True)
class CoverageItem:
    """One member article of a story, reduced to what the signals need."""

    outlet: str
    published: datetime  # UTC-aware
    country: str = ""  # ISO alpha-2 ("" unknown)
    ownership: str = ""  # public, private, state, nonprofit, ... ("" unknown)
    weight: float = 1.0  # operator weight of the source (1.0 neutral)
    article_id: str = ""
    copy_of: str = ""  # article id of the first copy when this is a syndicated copy
    owner: str = ""  # the outlet's owner from the outlet data ("" unknown: the outlet)


@dataclass(frozen=True, slots=True)
class Coverage:
    """A story's coverage: its member articles, in any order."""

    items: tuple[CoverageItem, ...]

    @classmethod
    def from_articles(
        cls, articles: Iterable[Article], outlets: Mapping[str, Outlet] | None = None
    ) -> Coverage:
        """Build coverage from stored articles; `outlets` (by name) adds ownership and weight."""
        outlets = outlets or {}
        items = []
        for a in articles:
            o = outlets.get(a.outlet)
            items.append(
                CoverageItem(
                    outlet=a.outlet,
                    published=a.published,
                    country=a.country or (o.country if o else ""),
                    ownership=o.ownership if o else "",
                    weight=o.weight if o else 1.0,
                    article_id="" if a.id is None else str(a.id),
                    copy_of="" if a.duplicate_of is None else str(a.duplicate_of),
                    owner=o.owner if o else "",
                )
            )
        return cls(tuple(items))


@dataclass(frozen=True, slots=True)
class Report:
    """The first independent report of one outlet (syndicated copies removed)."""

    outlet: str
    published: datetime
    country: str
    ownership: str
    weight: float
    owner: str = ""

    @property
    def source(self) -> str:
        """The independent source: the owner when the outlet data names one."""
        return (self.owner or self.outlet).strip().casefold()


@dataclass(frozen=True, slots=True)
class RankSettings:
    """Weights of the importance score (documented in docs/signals.md)."""

    recent_h: float = 3.0  # the "last hours" window of the growth term and the explanation
    half_life_h: float = 8.0  # recency decay of the score, from the latest report
    w_outlets: float = 1.0
    w_countries: float = 0.6
    w_ownership: float = 0.3
    w_growth: float = 0.5
    max_weight: float = 5.0  # operator weights are clamped to [0, max_weight]
    multi_floor: float = 1.0  # added before decay for >= 2 independent sources (or breaking)
    single_share: float = 0.5  # one source scores below this share of a developing story's least
    w_breaking: float = 1.0  # added before decay while the story is breaking

    @property
    def single_cap(self) -> float:
        """What a one-source story never reaches: a share of the least a developing story
        of two or more sources scores (the floor alone, decayed over `recent_h`)."""
        decay: float = 0.5 ** (self.recent_h / self.half_life_h)
        return self.single_share * self.multi_floor * decay


@dataclass(frozen=True, slots=True)
class Importance:
    score: float
    explanation: str


def independent_reports(coverage: Coverage, until: datetime | None = None) -> tuple[Report, ...]:
    """One report per outlet that reported independently, earliest first.

    A syndicated copy (`copy_of` set) adds nothing when its first copy is in the
    story; when the first copy is missing, the earliest copy stands for it once.
    Items published after `until` are ignored.
    """
    items = sorted(
        (i for i in coverage.items if until is None or i.published <= until),
        key=lambda i: (i.published, i.outlet, i.article_id),
    )
    present = {i.article_id for i in items if i.article_id and not i.copy_of}
    seen_origins: set[str] = set()
    by_outlet: dict[str, Report] = {}
    for i in items:
        if i.copy_of:
            if i.copy_of in present or i.copy_of in seen_origins:
                continue
            seen_origins.add(i.copy_of)
        if i.outlet not in by_outlet:
            by_outlet[i.outlet] = Report(
                i.outlet, i.published, i.country, i.ownership, i.weight, i.owner
            )
    return tuple(sorted(by_outlet.values(), key=lambda r: (r.published, r.outlet)))


def _plural(n: int, word: str) -> str:
    if word == "country":
        return f"{n} {'country' if n == 1 else 'countries'}"
    return f"{n} {word}{'' if n == 1 else 's'}"


def _hours(h: float) -> str:
    return f"{h:g} hour" if h == 1 else f"{h:g} hours"


def independent_sources(reports: Iterable[Report]) -> int:
    """How many independent sources these reports come from (distinct owners)."""
    return len({r.source for r in reports})


def score_story(
    coverage: Coverage, now: datetime, cfg: RankSettings | None = None, breaking: str = ""
) -> Importance:
    """Importance of a story at `now`, with a human-readable explanation.

    raw = w_outlets*ln(1+weighted outlets) + w_countries*ln(1+countries)
          + w_ownership*ln(1+ownership types) + w_growth*growth
    where growth = max(0, ln(1+recent outlets) - ln(1+earlier outlets)) and
    recency = 0.5 ** (hours since the latest report / half_life_h). With two or more
    independent sources, or when `breaking` (the breaking rule that fired) is given:
    score = recency * (multi_floor + raw), plus recency * w_breaking while breaking. With
    one source:
    score = single_cap * (1 - exp(-recency * raw)), always below `single_cap`, itself
    below the least a developing story of two sources can score.
    """
    cfg = cfg or RankSettings()
    reports = independent_reports(coverage, until=now)
    if not reports:
        return Importance(0.0, "no reports yet")
    sources = independent_sources(reports)
    weighted = sum(min(max(r.weight, 0.0), cfg.max_weight) for r in reports)
    countries = {r.country for r in reports if r.country}
    owners = {r.ownership for r in reports if r.ownership}
    cut = now - timedelta(hours=cfg.recent_h)
    recent = [r for r in reports if r.published > cut]
    earlier = len(reports) - len(recent)
    growth = max(0.0, math.log1p(len(recent)) - math.log1p(earlier))
    latest = max(r.published for r in reports)
    age_h = max(0.0, (now - latest).total_seconds() / 3600.0)
    recency = 0.5 ** (age_h / cfg.half_life_h)
    raw = (
        cfg.w_outlets * math.log1p(weighted)
        + cfg.w_countries * math.log1p(len(countries))
        + cfg.w_ownership * math.log1p(len(owners))
        + cfg.w_growth * growth
    )
    text = _explain(reports, recent, earlier, countries, coverage, cfg, age_h)
    if sources >= 2 or breaking:
        bonus = cfg.w_breaking if breaking else 0.0
        score = round(recency * (cfg.multi_floor + bonus + raw), 6)
        if breaking:
            one = "one source, but " if sources < 2 else ""
            text += f"; {one}breaking ({breaking})"
    else:
        score = round(cfg.single_cap * (1.0 - math.exp(-recency * raw)), 6)
        text += "; one independent source: ranked below developing stories of two or more"
    if sources < len(reports) and sources >= 2:
        text += f"; from {_plural(sources, 'independent owner')}"
    return Importance(score, text)


def _explain(
    reports: Sequence[Report],
    recent: Sequence[Report],
    earlier: int,
    countries: set[str],
    coverage: Coverage,
    cfg: RankSettings,
    age_h: float,
) -> str:
    window = _hours(cfg.recent_h)
    if recent:
        rc = {r.country for r in recent if r.country}
        text = f"{_plural(len(recent), 'outlet')}"
        if rc:
            text += f" in {_plural(len(rc), 'country')}"
        text += f" in the last {window}"
        if earlier:
            # "up from" only when coverage grows; a story that is cooling says so plainly
            text += f", up from {earlier}" if len(recent) > earlier else f", after {earlier} before"
        if earlier:
            total = _plural(len(reports), "outlet")
            text += f" ({total} in {_plural(len(countries), 'country')} in all)"
    else:
        text = f"{_plural(len(reports), 'outlet')}"
        if countries:
            text += f" in {_plural(len(countries), 'country')}"
        text += f"; none in the last {window}, latest {age_h:.0f} h ago"
    copies = sum(1 for i in coverage.items if i.copy_of)
    if copies:
        text += f"; {copies} syndicated {'copy' if copies == 1 else 'copies'} counted once"
    boosted = sorted({r.outlet for r in reports if r.weight != 1.0})
    if boosted:
        text += "; operator weight on " + ", ".join(boosted[:3])
    return text
