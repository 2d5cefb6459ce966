"""The parts of the story page built from stored records: the numbered sources, the
coverage box (with its count of outlets and countries per language,
`languages.coverage.language_coverage`, the same count the brief's language is chosen
by), the timeline of the story's development and the disagreement note.

The sources are the page's one list of articles (cited ones first). The timeline does
not repeat it: it tells how the story developed (who reported it first, when new
outlets and countries joined, when the brief was written and updated, the latest
report). All of it is a pass over the story's stored articles and brief versions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from breakingon.languages.coverage import LanguageCoverage, language_coverage
from breakingon.records import Article, Brief, BriefSentence, Outlet
from breakingon.store.base import BriefVersion, ReadStore
from breakingon.web.api import safe_url
from breakingon.web.render import country_name

JOIN_WINDOW = timedelta(hours=1)  # outlets joining within this of each other: one event
JOIN_EVENTS = 6  # a longer story widens the window to its span / this, so its timeline stays short


@dataclass(frozen=True, slots=True)
class Source:
    n: int
    key: str
    title: str
    outlet: str
    url: str
    published: datetime | None


def sources(brief: Brief | None, articles: Sequence[Article]) -> list[Source]:
    """Numbered sources: cited articles first (in order of first citation), then the rest."""
    by_id = {str(a.id): a for a in articles}
    out: list[Source] = []
    seen: set[str] = set()

    def add(key: str, title: str, outlet: str, url: str, published: datetime | None) -> None:
        if key in seen:
            return
        seen.add(key)
        out.append(Source(len(out) + 1, key, title, outlet, safe_url(url), published))

    if brief is not None:
        sentences = list(brief.dek) + [s for sec in brief.sections for s in sec.sentences]
        sentences += disagreement_notes(brief)
        sentences += [s for r in brief.other_languages for s in r.sentences]
        for sent in sentences:
            for cit in sent.citations:
                a = by_id.get(cit.article_id)
                if a is not None:
                    add(cit.article_id, a.title, a.outlet, a.url, a.published)
                else:
                    add(cit.article_id, cit.outlet or cit.url, cit.outlet, cit.url, None)
    for a in articles:
        add(str(a.id), a.title, a.outlet, a.url, a.published)
    return out


def outlet_numbers(found: Sequence[Source]) -> dict[str, int]:
    """Each outlet's first source number (an outlet named in the brief links to it)."""
    out: dict[str, int] = {}
    for src in found:
        if src.outlet:
            out.setdefault(src.outlet, src.n)
    return out


def languages(articles: Sequence[Article]) -> tuple[LanguageCoverage, ...]:
    """The story's independent outlets and their countries per language, most covered
    first (each article's country is its outlet's, as stored)."""
    return language_coverage(articles)


def story_outlets(store: ReadStore, articles: Sequence[Article]) -> dict[int, Outlet]:
    """The outlets of the story's articles by source id (at most 100 looked up)."""
    outlets: dict[int, Outlet] = {}
    for a in articles:
        if a.source_id is not None and a.source_id not in outlets and len(outlets) < 100:
            o = store.get_outlet(a.source_id)
            if o is not None:
                outlets[a.source_id] = o
    return outlets


def coverage(outlets: Mapping[int, Outlet], articles: Sequence[Article]) -> dict[str, Any]:
    names: list[str] = []
    for a in articles:
        if a.outlet and a.outlet not in names:
            names.append(a.outlet)
    ownership: dict[str, int] = {}
    for o in outlets.values():
        if o.ownership:
            ownership[o.ownership] = ownership.get(o.ownership, 0) + 1
    return {
        "outlets": sorted(outlets.values(), key=lambda o: o.name.lower()),
        "outlet_names": names,
        "ownership": sorted(ownership.items()),
    }


# -- the timeline --------------------------------------------------------------------------

EventKind = Literal["first", "joined", "brief", "latest"]


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    kind: EventKind
    text: str
    link: str


def _and(names: Sequence[str], noun: str = "", limit: int = 3) -> str:
    """'A', 'A and B', 'A, B and C', 'A, B, C and 4 more outlets'."""
    if len(names) > limit + 1:
        rest = len(names) - limit
        return ", ".join(names[:limit]) + f" and {rest} more{' ' + noun if noun else ''}"
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _joined_text(outlets: Sequence[str], countries: Sequence[str]) -> str:
    verb = "joins" if len(outlets) == 1 else "join"
    text = f"{_and(outlets, 'outlets')} {verb} the coverage"
    if countries:
        text += f"; first {'report' if len(countries) == 1 else 'reports'} from "
        text += _and(countries, "countries")
    return text + "."


def timeline(
    story_id: int,
    articles: Sequence[Article],
    numbers: Mapping[str, int],
    outlets: Mapping[int, Outlet],
    versions: Sequence[BriefVersion],
    reported: int = 0,
) -> list[Event]:
    """The story's development, oldest first: the first report, outlets (and countries)
    joining (those within `JOIN_WINDOW`, or a `JOIN_EVENTS`th of the story's span when
    that is longer, of each other as one event), the brief written
    and updated (consecutive updates as one event), and the latest report. `reported`
    is the story's stored article count, when more than the articles passed in."""
    events: list[Event] = []
    ordered = sorted(articles, key=lambda a: (a.published, a.id or 0))
    span = ordered[-1].published - ordered[0].published if ordered else timedelta(0)
    window = max(JOIN_WINDOW, span / JOIN_EVENTS)
    seen_outlets: set[str] = set()
    seen_countries: set[str] = set()
    group: tuple[datetime, list[str], list[str], str] | None = None

    def country_of(a: Article) -> str:
        o = outlets.get(a.source_id) if a.source_id is not None else None
        return (o.country if o is not None and o.country else a.country).upper()

    def close_group() -> None:
        nonlocal group
        if group is not None:
            start, names, countries, link = group
            events.append(Event(start, "joined", _joined_text(names, countries), link))
            group = None

    for a in ordered:
        name = a.outlet or "An outlet"
        country = country_of(a)
        link = f"#src-{numbers[str(a.id)]}" if str(a.id) in numbers else ""
        if not seen_outlets:
            where = f" ({country_name(country)})" if country else ""
            events.append(Event(a.published, "first", f"First reported by {name}{where}.", link))
        elif name not in seen_outlets:
            if group is not None and a.published - group[0] > window:
                close_group()
            if group is None:
                group = (a.published, [], [], link)
            group[1].append(name)
            if country and country not in seen_countries:
                group[2].append(country_name(country))
        seen_outlets.add(name)
        if country:
            seen_countries.add(country)
    close_group()
    events.extend(_brief_events(story_id, versions))
    if len(ordered) > 1:
        last = ordered[-1]
        link = f"#src-{numbers[str(last.id)]}" if str(last.id) in numbers else ""
        n = max(len(ordered), reported)
        text = f"Latest report, from {last.outlet or 'an outlet'} ({n:,} reports so far)."
        events.append(Event(last.published, "latest", text, link))
    events.sort(key=lambda e: (e.at, e.kind == "latest"))
    return _merge_briefs(events, story_id)


def _brief_events(story_id: int, versions: Sequence[BriefVersion]) -> list[Event]:
    out = []
    for v in sorted(versions, key=lambda v: v.version):
        link = f"/story/{story_id}/changes#v{v.version}"
        if v.version == 1:
            text = f"Brief written from {v.article_count:,} articles."
        else:
            text = f"Brief updated (version {v.version}, from {v.article_count:,} articles)."
        out.append(Event(v.created_at, "brief", text, link))
    return out


def _merge_briefs(events: list[Event], story_id: int) -> list[Event]:
    """Consecutive brief updates (nothing else between them) as one event."""
    out: list[Event] = []
    run: list[Event] = []

    def flush() -> None:
        if len(run) <= 2:
            out.extend(run)
        else:
            first, last = run[0], run[-1]
            v1 = first.link.rsplit("#v", 1)[-1]
            v2 = last.link.rsplit("#v", 1)[-1]
            text = f"Brief updated {len(run)} times (versions {v1} to {v2})."
            out.append(Event(last.at, "brief", text, f"/story/{story_id}/changes"))
        run.clear()

    for e in events:
        if e.kind == "brief" and not e.text.startswith("Brief written"):
            run.append(e)
            continue
        flush()
        out.append(e)
    flush()
    return out


# -- the disagreement note -----------------------------------------------------------------


def disagreement_notes(brief: Brief | None) -> list[BriefSentence]:
    """The brief's notes of where reports differ (`Brief.disagreements`), each cited."""
    if brief is None:
        return []
    return [note for note in brief.disagreements if note.text.strip()]
