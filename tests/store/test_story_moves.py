"""A story an article leaves (a repair split) is recomputed, not left with a stale count."""

from __future__ import annotations

from test_store import T0, _article, _feed, _story_update, _update

from breakingon.store import Store
from breakingon.store.base import Membership


def test_story_an_article_leaves_is_marked_dirty(store: Store) -> None:
    feed = _feed(store)
    assert feed.id is not None
    ids = store.save_feed_check(
        feed.id, _update(T0), [_article("a"), _article("b"), _article("c")], "extracted"
    )
    s1 = store.new_story_id(T0)
    store.save_clustering([Membership(i, s1) for i in ids], [], [], T0)
    assert store.claim_dirty_stories("w", T0, 10, 60) == [s1]
    store.save_story(_story_update(s1, None), T0)
    assert store.claim_dirty_stories("w", T0, 10, 60) == []
    # the repair pass splits the third article off into a story of its own
    s2 = store.new_story_id(T0)
    store.save_clustering([Membership(ids[2], s2)], [], [], T0)
    assert sorted(store.claim_dirty_stories("w", T0, 10, 60)) == sorted([s1, s2])
    assert [a.id for a in store.story_articles(s1)] == ids[:2]
