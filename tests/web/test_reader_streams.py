"""The store's reader streams (`ReaderStore`) on SQLite and PostgreSQL over the web
tests' newsroom: which stories each kind of follow holds, the user's states, paging,
unread counts and marking read, never across users."""

from __future__ import annotations

from datetime import timedelta

from webfill import FRANCE, TOKYO, fill_store

from breakingon.records import Follow
from breakingon.store import Store
from breakingon.store.base_accounts import ItemQuery


def _setup(store: Store) -> tuple[dict[str, int], dict[str, Follow], int, int, object]:
    filled = fill_store(store)
    a = store.add_user("alice", "h", None, filled.now)
    b = store.add_user("bob", "h", None, filled.now)
    assert a is not None and b is not None
    follows = {}
    for key, kind, value in [
        ("top", "top", ""),
        ("breaking", "breaking", ""),
        ("science", "section", "science"),
        ("france", "place", str(FRANCE.geonameid)),
        ("tokyo", "place", str(TOKYO.geonameid)),
        ("reuters", "outlet", str(filled.outlets["Reuters"])),
        ("search", "search", "Paris budget"),
        ("chips", "story", str(filled.stories["merged_from"])),
        ("bad", "place", "not-a-number"),
    ]:
        follows[key], _ = store.add_follow(a.id, kind, value, key, filled.now)
    return filled.stories, follows, a.id, b.id, filled.now


def _ids(store: Store, q: ItemQuery) -> list[int]:
    return [i.story.id for i in store.reader_items(q)]


def test_each_kind_of_follow_holds_its_stories(store: Store) -> None:
    stories, f, uid, _, now = _setup(store)

    def of(*keys: str) -> set[int]:
        return set(_ids(store, ItemQuery(uid, now, follows=tuple(f[k] for k in keys), limit=50)))

    listed = {stories[k] for k in ("quake", "paris", "evil", "merged_into")}
    assert of("top") == listed  # fewer than TOP_STREAM listed stories: all of them
    assert of("breaking") == {stories["quake"]}
    assert of("science") == {stories["quake"]}
    assert of("france") == {stories["paris"]}  # a country: every place in it
    assert of("tokyo") == {stories["quake"]}
    assert of("reuters") == {stories["quake"], stories["paris"], stories["merged_into"]}
    assert of("search") == {stories["paris"]}
    assert of("chips") == {stories["merged_into"]}  # followed before the merge
    assert of("bad") == set()
    assert of("science", "france") == {stories["quake"], stories["paris"]}
    assert _ids(store, ItemQuery(uid, now, follows=(), limit=50)) == []


def test_items_carry_state_origin_content_and_page(store: Store) -> None:
    stories, f, uid, other, now = _setup(store)
    everything = tuple(f.values())
    q = ItemQuery(uid, now, follows=everything, limit=50)
    items = store.reader_items(q, content=True)
    by_id = {i.story.id: i for i in items}
    quake = by_id[stories["quake"]]
    assert quake.origin == f["top"].id  # the first follow it belongs to
    assert quake.brief is not None and quake.brief.headline == "Earthquake strikes near Tokyo"
    assert [s.outlet for s in quake.sources] == ["NHK", "Reuters", "Le Monde", "Reuters"]
    members = {a.id for a in store.story_articles(stories["quake"])}
    assert members == {s.article_id for s in quake.sources}
    assert all(s.url.startswith("https://") for s in quake.sources)
    times = [(i.story.first_reported, i.story.id) for i in items]
    assert times == sorted(times, reverse=True)  # newest first

    # Continuation: pages of 2 follow on from the last item, without gaps or repeats.
    seen: list[int] = []
    after = None
    while True:
        page = store.reader_items(ItemQuery(uid, now, follows=everything, after=after, limit=2))
        if not page:
            break
        seen += [i.story.id for i in page]
        after = (page[-1].story.first_reported, page[-1].story.id)
    assert seen == [i.story.id for i in items]
    oldest = store.reader_items(ItemQuery(uid, now, follows=everything, order="oldest", limit=50))
    assert [i.story.id for i in oldest] == seen[::-1]
    by_id_asc = store.reader_item_ids(
        ItemQuery(uid, now, follows=everything, order="id_asc", after=(None, min(seen)), limit=50)
    )
    assert [i for i, _ in by_id_asc] == sorted(seen)[1:]

    store.set_item_states(uid, [stories["quake"]], now, read=True, starred=True)
    unread = _ids(store, ItemQuery(uid, now, follows=everything, read=False, limit=50))
    assert stories["quake"] not in unread and len(unread) == len(seen) - 1
    starred = _ids(store, ItemQuery(uid, now, starred=True, limit=50))
    assert starred == [stories["quake"]]
    # Bob's view is his own: nothing read, nothing starred.
    assert _ids(store, ItemQuery(other, now, starred=True, limit=50)) == []
    bobs = store.reader_items(ItemQuery(other, now, story_ids=(stories["quake"],)))
    assert bobs[0].state.read_at is None and bobs[0].origin is None
    mine = store.reader_items(ItemQuery(uid, now, story_ids=(stories["quake"],)))
    assert mine[0].state.read_at == now and mine[0].state.starred_at == now
    first = min(i.story.first_reported for i in items)
    assert _ids(store, ItemQuery(uid, now, follows=everything, older_than=first, limit=50)) == []
    assert len(
        _ids(store, ItemQuery(uid, now, follows=everything, newer_than=first, limit=50))
    ) == len(seen)


def test_unread_counts_and_mark_read(store: Store) -> None:
    stories, f, uid, other, now = _setup(store)
    everything = list(f.values())
    counts = store.unread_counts(uid, everything, now)
    assert counts.follows[f["reuters"].id][0] == 3
    assert counts.follows[f["breaking"].id][0] == 1
    assert f["bad"].id not in counts.follows
    assert counts.total[0] == 4  # each story once
    assert counts.kinds["place"][0] == 2 and counts.kinds["top"][0] == 4
    assert counts.total[1] is not None

    paris = store.get_story(stories["paris"])
    assert paris is not None
    # Mark the Reuters stream read up to (not including) the Paris story's first report.
    n = store.mark_read(uid, [f["reuters"]], paris.first_reported, now)
    assert n == 2  # quake and the chip story, reported earlier
    assert store.mark_read(uid, [f["reuters"]], paris.first_reported, now) == 0  # idempotent
    after = store.unread_counts(uid, everything, now)
    assert after.follows[f["reuters"].id][0] == 1 and after.total[0] == 2
    assert store.unread_counts(other, everything, now).total[0] == 4  # bob is untouched
    store.set_item_states(uid, [stories["paris"]], now, starred=True)
    assert store.mark_read(uid, everything, None, now + timedelta(1)) == 2
    assert store.unread_counts(uid, everything, now).total[0] == 0
    state = store.item_states(uid, [stories["paris"]])[stories["paris"]]
    assert state.read_at == now + timedelta(1) and state.starred_at == now  # star kept
    assert store.unread_counts(uid, [], now).total == (0, None)


def test_origins_apart_from_the_filter_and_counts(store: Store) -> None:
    stories, f, uid, _, now = _setup(store)
    everything = tuple(f.values())
    # Items asked for by id, named after the user's follows (two searches in one statement).
    other, _ = store.add_follow(uid, "search", "earthquake Tokyo", "quake search", now)
    q = ItemQuery(
        uid,
        now,
        follows=(f["search"],),
        origins=(other, f["search"]),
        limit=10,
    )
    (paris,) = store.reader_items(q)
    assert paris.story.id == stories["paris"] and paris.origin == f["search"].id
    q = ItemQuery(uid, now, story_ids=(stories["quake"],), origins=(other, *everything))
    (quake,) = store.reader_items(q)
    assert quake.origin == other.id
    assert store.count_reader_items(ItemQuery(uid, now, follows=everything, limit=1)) == 4
    store.set_item_states(uid, [stories["quake"]], now, read=True)
    unread = ItemQuery(uid, now, follows=everything, read=False, after=(None, 1), limit=1)
    assert store.count_reader_items(unread) == 3  # the limit and `after` play no part
    assert store.count_reader_items(ItemQuery(uid, now, follows=())) == 0
