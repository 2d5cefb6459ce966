"""Checking a stream a reader wants to follow and naming it (Google Reader
subscriptions, /api/me/follows): the section must exist in the taxonomy, the place in
the stories or the gazetteer, the outlet and the story in the store; a search needs a
word. Store reads only, run in a worker thread by the callers.
"""

from __future__ import annotations

from breakingon.records import FollowKind
from breakingon.store.base import Store
from breakingon.web.greader_ids import BadStream, normal_value
from breakingon.web.pages import find_place

TITLE_CAP = 200


def describe(store: Store, kind: FollowKind, value: str) -> tuple[str, str]:
    """(canonical value, display title) of the stream; BadStream when it names nothing."""
    value = normal_value(kind, value)
    title: str | None
    if kind == "top":
        title = "Top stories"
    elif kind == "breaking":
        title = "Breaking news"
    elif kind == "section":
        title = value.title()
    elif kind == "search":
        title = f"Search: {value}"
    elif kind == "place":
        place = find_place(store, int(value))
        title = place.name if place is not None else None
    elif kind == "outlet":
        outlet = store.get_outlet(int(value))
        title = outlet.name if outlet is not None else None
    else:
        resolved = store.resolve_story_id(int(value))
        story = store.get_story(resolved) if resolved is not None else None
        title = story.headline if story is not None else None
    if not title:
        raise BadStream(f"no {kind} {value}")
    return value, title[:TITLE_CAP]
