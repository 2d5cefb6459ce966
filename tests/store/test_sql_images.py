"""Stored lead images on SQLite and PostgreSQL: content-addressed copies, what each URL
gave, the story's choice (and when it is due again), and pruning what no story uses."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from test_store import T0, _article, _feed, _story_update, _update

from breakingon.records import ImageFile, StoryImage
from breakingon.store import Store
from breakingon.store.base import Membership


def _file(tag: bytes) -> ImageFile:
    data = b"\xff\xd8" + tag * 50
    return ImageFile(hashlib.sha256(data).hexdigest(), data, "image/jpeg", 1200, 675)


def _story(store: Store) -> int:
    feed = _feed(store)
    assert feed.id is not None
    arts = [
        _article("a", image="https://example.com/a.jpg"),
        _article("b", image="https://example.com/b.jpg"),
        _article("c"),
    ]
    ids = store.save_feed_check(feed.id, _update(T0), arts, "extracted")
    sid = store.new_story_id(T0)
    store.save_clustering([Membership(i, sid) for i in ids], [], [], T0)
    store.save_story(_story_update(sid, None), T0)
    return sid


def test_the_lead_image_is_chosen_stored_and_pruned(store: Store) -> None:
    sid = _story(store)
    assert [s.id for s in store.stories_needing_image(10)] == [sid]
    cands = store.story_image_candidates(sid)
    assert [c.url for c in cands] == ["https://example.com/a.jpg", "https://example.com/b.jpg"]
    assert all(not c.duplicate and c.outlet for c in cands)

    lead, thumb = _file(b"L"), _file(b"T")
    url = cands[0].url
    assert store.known_image(url) is None
    store.save_image(url, "Example", lead, thumb, T0)
    store.save_image(url, "Example", lead, thumb, T0)  # content-addressed: idempotent
    known = store.known_image(url)
    assert known is not None and known.image_sha256 == lead.sha256 and known.width == 1200
    stored = store.get_image(lead.sha256)
    assert stored is not None and stored.data == lead.data and stored.mime == "image/jpeg"

    story = store.get_story(sid)
    assert story is not None and story.image is None
    image = StoryImage(lead.sha256, thumb.sha256, 1200, 675, "Example", source_url=url)
    later = T0 + timedelta(minutes=5)
    store.set_story_image(sid, image, story.updated_at, later)
    story = store.get_story(sid)
    assert story is not None and story.image == image
    assert story.updated_at == later  # a new image is a change caches must see
    assert store.stories_needing_image(10) == []

    store.save_image_failure("https://example.com/b.jpg", "too_small", T0)
    failed = store.known_image("https://example.com/b.jpg")
    assert failed is not None and (failed.error, failed.image_sha256) == ("too_small", None)

    # An update after the choice makes it due again; the image stays until replaced.
    store.save_story(_story_update(sid, None), T0 + timedelta(hours=2))
    [due] = store.stories_needing_image(10)
    assert due.image == image

    # Retention: images a story names stay; once none does, they and their URL go.
    old = T0 - timedelta(days=365)  # no article is that old: only images can go
    store.prune(old)
    assert store.get_image(lead.sha256) is not None
    store.set_story_image(sid, None, due.updated_at, T0 + timedelta(hours=3))
    store.prune(old)
    assert store.get_image(lead.sha256) is None and store.get_image(thumb.sha256) is None
    assert store.known_image(url) is None  # its copies are gone: fetched again if needed
