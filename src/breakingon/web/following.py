"""What a reader can follow on the site, and what is new in each followed stream.

`follow_target(store, kind, value)` checks a follow request against the store (a known
section, place, outlet or story; a search query) and gives the stored value and the
title the store keeps (never one the form sent). `new_in(store, follow, now)` lists the
stories of a followed stream with reports since the reader's last visit of /following
(`last_seen_at`, else when they began following). Reads only; no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlencode

from breakingon.records import FOLLOW_KINDS, Follow, Story
from breakingon.store.base import StoryQuery, WebStore
from breakingon.web.pages import find_place, place_query
from breakingon.web.params import SECTIONS, ParamError, parse_id, parse_query_text

NEW_LIMIT = 10  # stories listed per followed stream


@dataclass(frozen=True, slots=True)
class Followed:
    """One followed stream on /following: the follow, its page and what is new there."""

    follow: Follow
    url: str
    since: datetime
    new: list[Story]


def follow_target(store: WebStore, kind: str, value: str) -> tuple[str, str]:
    """(value, title) of a stream that exists; ParamError (400) otherwise."""
    if kind not in FOLLOW_KINDS:
        raise ParamError("kind", f"one of {', '.join(FOLLOW_KINDS)}")
    if kind == "top":
        return "", "Top stories"
    if kind == "breaking":
        return "", "Breaking"
    if kind == "section":
        if value not in SECTIONS:
            raise ParamError("value", f"a section: {', '.join(SECTIONS)}")
        return value, value.title()
    if kind == "search":
        q = parse_query_text(value)
        return q, f"Search: {q}"
    ident = parse_id("value", value)
    if ident is None:
        raise ParamError("value", "an id is required")
    if kind == "place":
        place = find_place(store, ident)
        if place is None:
            raise ParamError("value", "unknown place")
        return str(ident), place.name
    if kind == "outlet":
        outlet = store.get_outlet(ident)
        if outlet is None:
            raise ParamError("value", "unknown outlet")
        return str(ident), outlet.name
    story = store.get_story(ident)
    if story is None or story.merged_into is not None:
        raise ParamError("value", "unknown story")
    return str(ident), story.headline or f"Story {ident}"


def stream_url(kind: str, value: str) -> str:
    """The site page of a (followed) stream."""
    if kind == "section":
        return f"/section/{value}"
    if kind in ("place", "outlet", "story"):
        return f"/{kind}/{value}"
    if kind == "search":
        return "/search?" + urlencode({"q": value})
    return "/"


def new_in(store: WebStore, f: Follow, now: datetime) -> Followed:
    """The stories of followed stream `f` with reports since the last visit."""
    since = f.last_seen_at or f.created_at
    new: list[Story] = []
    if f.kind == "top":
        new = store.list_stories(StoryQuery(since=since, limit=NEW_LIMIT))
    elif f.kind == "breaking":
        new = store.list_stories(StoryQuery(since=since, breaking_at=now, limit=NEW_LIMIT))
    elif f.kind == "section":
        new = store.list_stories(StoryQuery(section=f.value, since=since, limit=NEW_LIMIT))
    elif f.kind == "outlet" and f.value.isdigit():
        q = StoryQuery(source_id=int(f.value), since=since, order="recent", limit=NEW_LIMIT)
        new = store.list_stories(q)
    elif f.kind == "place" and f.value.isdigit():
        place = find_place(store, int(f.value))
        if place is not None:
            new = store.list_stories(replace(place_query(place, NEW_LIMIT), since=since))
    elif f.kind == "search":
        found = store.search_stories(f.value, 50)
        new = [s for s in found if s.last_reported >= since][:NEW_LIMIT]
    elif f.kind == "story" and f.value.isdigit():
        s = store.get_story(int(f.value))
        if s is not None and (s.updated_at or s.last_reported) > since:
            new = [s]
    return Followed(f, stream_url(f.kind, f.value), since, new)
