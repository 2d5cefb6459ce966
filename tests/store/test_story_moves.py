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


def test_counts_agree_with_the_lists(store: Store) -> None:
    """/status and stats count exactly the stories the lists show: not a story of
    non-news pages (no outlet's report), not one whose articles all moved away."""
    from breakingon.store.base import StoryQuery

    feed = _feed(store)
    assert feed.id is not None
    ids = store.save_feed_check(
        feed.id, _update(T0), [_article(k) for k in ("a", "b", "c", "d")], "extracted"
    )
    news, walls, emptied = (store.new_story_id(T0) for _ in range(3))
    store.save_clustering(
        [Membership(ids[0], news), Membership(ids[1], walls), Membership(ids[2], emptied)],
        [], [], T0,
    )  # fmt: skip
    assert sorted(store.claim_dirty_stories("w", T0, 10, 60)) == sorted([news, walls, emptied])
    store.save_story(_story_update(news, None), T0)
    store.save_story(_story_update(walls, None, outlet_count=0, outlets=()), T0)  # a consent wall
    store.save_story(_story_update(emptied, None), T0)
    # the repair pass moves the only article of `emptied` into `news`
    store.save_clustering([Membership(ids[2], news)], [], [], T0)
    assert sorted(store.claim_dirty_stories("w", T0, 10, 60)) == [news]  # emptied: nothing to do
    listed = [s.id for s in store.list_stories(StoryQuery(limit=50))]
    assert listed == [news]
    assert store.stats()["stories"] == store.count_stories(StoryQuery()) == len(listed) == 1
    assert [s.id for s in store.search_stories("quake", 10)] in ([], [news])


def test_a_stale_update_never_overwrites_a_fresher_one(store: Store) -> None:
    """Worker A's lease runs out during a slow update; clustering moves articles away and
    worker B takes the story and saves the fresh counts. A's late save is dropped (seen
    in the three-worker PostgreSQL run: a story left with article_count 8 for 4 members)."""
    from datetime import timedelta

    feed = _feed(store)
    assert feed.id is not None
    ids = store.save_feed_check(
        feed.id, _update(T0), [_article(k) for k in ("a", "b", "c", "d")], "extracted"
    )
    s1 = store.new_story_id(T0)
    store.save_clustering([Membership(i, s1) for i in ids], [], [], T0)
    assert store.claim_dirty_stories("A", T0, 10, 8) == [s1]
    stale = _story_update(s1, None, article_count=4)  # A read four members
    # meanwhile two of them move to another story, and A's lease runs out
    s2 = store.new_story_id(T0)
    store.save_clustering([Membership(ids[2], s2), Membership(ids[3], s2)], [], [], T0)
    later = T0 + timedelta(seconds=9)
    assert sorted(store.claim_dirty_stories("B", later, 10, 8)) == sorted([s1, s2])
    assert store.save_story(_story_update(s1, None, article_count=2), later, "B")
    assert not store.save_story(stale, later, "A")  # too late: B's result stands
    story = store.get_story(s1)
    assert story is not None and story.article_count == 2
    # a worker that still holds its claim saves as before; then nothing is left to do
    assert store.save_story(_story_update(s2, None, article_count=2), later, "B")
    assert store.claim_dirty_stories("C", later + timedelta(seconds=60), 10, 8) == []
