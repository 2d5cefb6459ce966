"""What a story's coverage says about it: its places, sections and languages.

Pure: member articles in, tuples out. Each article's places, sections and language were
tagged once at ingest; these only add them up over the story.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from breakingon.records import Article, Place


def story_places(articles: Sequence[Article], limit: int = 6) -> tuple[Place, ...]:
    """The places most of the coverage is about, each with its share of the articles."""
    weight: dict[int, float] = defaultdict(float)
    by_id: dict[int, Place] = {}
    for a in articles:
        for p in a.places:
            weight[p.geonameid] += p.score or 1.0
            by_id[p.geonameid] = p
    if not weight:
        return ()
    n = max(1, len(articles))
    ranked = sorted(weight, key=lambda g: (-weight[g], g))
    # Two places of one name (Vancouver the city and the island, or BC and WA): keep the
    # one the coverage weighs most; the other is an ambiguity, not a second place.
    seen_names: set[str] = set()
    unique = []
    for g in ranked:
        name = by_id[g].name.casefold()
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


def story_sections(articles: Sequence[Article]) -> tuple[str, ...]:
    """At most two sections: an article's first section is a vote, its others half one.
    A non-article page (`page_kind`: navigation, a consent wall) has no vote."""
    votes: dict[str, float] = defaultdict(float)
    for a in articles:
        if a.page_kind:
            continue
        for i, label in enumerate(a.sections):
            votes[label] += 1.0 if i == 0 else 0.5
    if not votes:
        return ()
    top = sorted(votes.items(), key=lambda p: (-p[1], p[0]))
    best = top[0][1]
    return tuple(label for label, v in top[:2] if v >= 0.5 * best)


def story_languages(article_languages: Sequence[str]) -> tuple[str, ...]:
    """Distinct languages of a story's coverage, most frequent first (ties by code)."""
    counts: dict[str, int] = {}
    for lang in article_languages:
        if lang:
            counts[lang] = counts.get(lang, 0) + 1
    return tuple(sorted(counts, key=lambda k: (-counts[k], k)))
