"""The store contract, run against SQLite and PostgreSQL alike."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from breakingon.records import (
    UNTITLED,
    Article,
    Brief,
    BriefSection,
    BriefSentence,
    Citation,
    Extraction,
    Feed,
    Outlet,
    Place,
)
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import SchemaTooNew, Store, open_store
from breakingon.store.base import (
    FeedUpdate,
    Membership,
    StoryQuery,
    StoryStateRow,
    StoryUpdate,
    Trend,
)

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _feed(store: Store, url: str = "https://example.com/feed.xml", outlet: str = "Example") -> Feed:
    feed, created = store.add_feed(
        Feed(url=url, outlet=outlet, country="GB", sections=("world",)), feed_url_key(url)
    )
    assert created
    return feed


def _update(now: datetime, **kw: object) -> FeedUpdate:
    base: dict[str, object] = dict(
        checked_at=now,
        next_check_at=now + timedelta(minutes=15),
        interval_s=900,
        error_count=0,
        success=True,
    )
    base.update(kw)
    return FeedUpdate(**base)  # type: ignore[arg-type]


def _article(key: str, title: str = "Title", text: str = "Body text.", **kw: object) -> Article:
    return Article(
        url=f"https://example.com/{key}", title=title, text=text, published=T0, item_key=key, **kw
    )  # type: ignore[arg-type]


def test_duplicate_feed_returns_existing(store: Store) -> None:
    feed = _feed(store)
    again, created = store.add_feed(
        Feed(url="HTTPS://WWW.Example.com/feed.xml/#x", outlet="Other"),
        feed_url_key("HTTPS://WWW.Example.com/feed.xml/#x"),
    )
    assert not created and again.id == feed.id
    assert len(store.list_feeds()) == 1
    assert store.stats()["feeds"] == 1


def test_outlet_upsert_keeps_fields(store: Store) -> None:
    oid = store.upsert_outlet(
        Outlet(name="Daily", country="FR", owner="X Group", ownership="Private Media")
    )
    assert store.upsert_outlet(Outlet(name="Daily")) == oid
    o = store.get_outlet(oid)
    assert o is not None and o.country == "FR" and o.owner == "X Group"


def test_feed_check_is_atomic_and_idempotent(store: Store) -> None:
    feed = _feed(store)
    assert feed.id is not None
    ids = store.save_feed_check(
        feed.id,
        _update(T0, etag='"abc"', last_modified="Sat, 01 Nov 2026 10:00:00 GMT"),
        [_article("a"), _article("b")],
        "discovered",
    )
    assert len(ids) == 2
    again = store.save_feed_check(
        feed.id, _update(T0), [_article("a"), _article("c")], "discovered"
    )
    assert len(again) == 1
    f = store.get_feed(feed.id)
    assert f is not None
    assert f.etag == '"abc"'  # verbatim, quotes kept
    assert f.last_modified == "Sat, 01 Nov 2026 10:00:00 GMT"
    assert store.stats()["articles"] == 3


def test_claims_do_not_overlap_and_leases_expire(store: Store) -> None:
    feed = _feed(store)
    assert feed.id is not None
    store.save_feed_check(feed.id, _update(T0), [_article(str(i)) for i in range(10)], "discovered")
    first = store.claim_articles("discovered", "w1", T0, 6, 60)
    second = store.claim_articles("discovered", "w2", T0, 6, 60)
    assert len(first) == 6 and len(second) == 4
    assert not {a.id for a in first} & {a.id for a in second}
    assert store.claim_articles("discovered", "w3", T0 + timedelta(seconds=30), 10, 60) == []
    # the worker died: its leases expire and the work is claimable again
    redo = store.claim_articles("discovered", "w3", T0 + timedelta(seconds=61), 20, 60)
    assert len(redo) == 10


def test_an_article_is_read_with_its_outlets_place(store: Store) -> None:
    """A claimed article carries its outlet's recorded place (its feed's, else its
    source's), read as its country is, for the place tagger's local prior."""
    local, _ = store.add_feed(
        Feed(url="https://dayton.example/feed", outlet="Dayton Daily", country="US",
             place="Dayton, Ohio"),
        feed_url_key("https://dayton.example/feed"),
    )  # fmt: skip
    plain = _feed(store)
    assert local.id is not None and plain.id is not None
    store.save_feed_check(local.id, _update(T0), [_article("d")], "discovered")
    store.save_feed_check(plain.id, _update(T0), [_article("e")], "discovered")
    got = {a.outlet: a for a in store.claim_articles("discovered", "w1", T0, 10, 60)}
    assert (got["Dayton Daily"].country, got["Dayton Daily"].place) == ("US", "Dayton, Ohio")
    assert (got["Example"].country, got["Example"].place) == ("GB", "")


def test_due_feeds_and_lease(store: Store) -> None:
    feed = _feed(store)
    assert [f.id for f in store.claim_due_feeds("w", T0, 10, 60)] == [feed.id]
    assert store.claim_due_feeds("w2", T0, 10, 60) == []
    assert feed.id is not None
    store.save_feed_check(feed.id, _update(T0), [], "discovered")
    assert store.claim_due_feeds("w2", T0 + timedelta(minutes=1), 10, 60) == []
    assert len(store.claim_due_feeds("w2", T0 + timedelta(minutes=16), 10, 60)) == 1


def test_poison_values_are_cleaned(store: Store) -> None:
    feed = _feed(store)
    assert feed.id is not None
    bad = _article("nul", title="Bad\x00title \ud800", text="x" * 500_000)
    [aid] = store.save_feed_check(feed.id, _update(T0), [bad], "extracted")
    art = store.get_article(aid)
    assert art is not None
    assert "\x00" not in art.title and len(art.text) <= 200_000


def _story_update(sid: int, brief: Brief | None, **kw: object) -> StoryUpdate:
    base: dict[str, object] = dict(
        story_id=sid,
        headline="Quake hits city",
        dek="A quake hit.",
        first_reported=T0,
        last_reported=T0 + timedelta(hours=1),
        article_count=2,
        outlet_count=2,
        representative_article_id=None,
        outlets=("A", "B"),
        countries=("GB", "FR"),
        languages=("en",),
        sections=("world", "science"),
        places=(Place(2988507, "Paris", "FR", "city", 48.85, 2.35),),
        score=3.5,
        score_explanation="2 outlets in 2 countries",
        breaking_since=None,
        breaking_until=T0 + timedelta(hours=6),
        brief=brief,
    )
    base.update(kw)
    return StoryUpdate(**base)  # type: ignore[arg-type]


def _brief(text: str) -> Brief:
    s = BriefSentence(text, (Citation("1", "A", "https://a/1"), Citation("2", "B", "https://b/2")))
    return Brief(
        headline="Quake hits city",
        dek=(s,),
        sections=(BriefSection("Details", (s,)),),
        credits=("A", "B"),
    )


def test_clustering_stories_briefs_and_queries(store: Store) -> None:
    feed = _feed(store)
    assert feed.id is not None
    ids = store.save_feed_check(
        feed.id,
        _update(T0),
        [_article("a", "Earthquake strikes Paris"), _article("b")],
        "extracted",
    )
    sid = store.new_story_id(T0)
    store.save_clustering(
        [Membership(ids[0], sid, 0.9, "new"), Membership(ids[1], sid, 0.8, "joined")],
        [StoryStateRow(sid, b"state-bytes", T0, T0)],
        [],
        T0,
    )
    assert store.load_story_states(T0 - timedelta(days=1)) == [(sid, b"state-bytes")]
    assert store.claim_dirty_stories("w", T0, 10, 60) == [sid]
    assert store.claim_dirty_stories("w2", T0, 10, 60) == []
    assert [a.id for a in store.story_articles(sid)] == ids
    store.save_story(_story_update(sid, _brief("One.")), T0)
    store.save_story(_story_update(sid, _brief("One.")), T0)  # unchanged: no new version
    store.save_story(_story_update(sid, _brief("Two.")), T0 + timedelta(hours=1))
    versions = store.brief_versions(sid)
    assert [v.version for v in versions] == [2, 1]
    brief = store.get_brief(sid)
    assert brief is not None and brief.dek[0].text == "Two."
    assert [c.article_id for c in brief.dek[0].citations] == ["1", "2"]
    story = store.get_story(sid)
    assert story is not None and story.countries == ("GB", "FR") and story.places[0].name == "Paris"
    assert [s.id for s in store.list_stories(StoryQuery(section="science"))] == [sid]
    assert store.list_stories(StoryQuery(section="sports")) == []
    assert [s.id for s in store.list_stories(StoryQuery(geonameid=2988507))] == [sid]
    assert [s.id for s in store.list_stories(StoryQuery(country="fr"))] == [sid]
    assert [s.id for s in store.list_stories(StoryQuery(breaking_at=T0))] == [sid]
    assert store.list_stories(StoryQuery(breaking_at=T0 + timedelta(hours=7))) == []
    assert store.count_stories(StoryQuery()) == 1
    assert [s.id for s in store.search_stories("quake", 10)] == [sid]
    assert [a.id for a in store.search_articles("earthquake paris", 10)] == [ids[0]]
    assert store.search_articles("", 10) == []


def test_a_story_without_a_headline_is_kept_out_of_the_lists(store: Store) -> None:
    feed = _feed(store)
    assert feed.id is not None
    ids = store.save_feed_check(
        feed.id, _update(T0), [_article("a", "Earthquake strikes Paris")], "extracted"
    )
    sid = store.new_story_id(T0)
    store.save_clustering([Membership(ids[0], sid, 0.9, "new")], [], [], T0)
    assert store.claim_dirty_stories("w", T0, 10, 60) == [sid]
    assert store.save_story(
        _story_update(sid, None, headline=UNTITLED, dek="A quake hit Paris."), T0, "w"
    )
    story = store.get_story(sid)
    assert story is not None and story.headline == UNTITLED  # its page still answers
    assert store.list_stories(StoryQuery()) == [] and store.count_stories(StoryQuery()) == 0
    assert store.search_stories("quake", 10) == [] and store.count_search_stories("quake") == 0


def test_merge_redirects_readers(store: Store) -> None:
    feed = _feed(store)
    assert feed.id is not None
    ids = store.save_feed_check(feed.id, _update(T0), [_article("a"), _article("b")], "extracted")
    s1, s2 = store.new_story_id(T0), store.new_story_id(T0)
    store.save_clustering([Membership(ids[0], s1), Membership(ids[1], s2)], [], [], T0)
    store.save_clustering([], [], [(s2, s1)], T0)
    assert store.resolve_story_id(s2) == s1
    assert {a.id for a in store.story_articles(s1)} == set(ids)
    assert store.resolve_story_id(999_999) is None


def test_trends_runs_meta(store: Store) -> None:
    store.save_trends([Trend("Paris", 4.0, (1, 2), T0), Trend("Quake", 2.0, (1,), T0)])
    assert [t.term for t in store.get_trends()] == ["Paris", "Quake"]
    rid = store.start_run("crawl", "w1", T0)
    store.finish_run(rid, T0, {"fetched": 3})
    assert store.recent_runs()[0].stats == {"fetched": 3}
    store.set_meta("k", "v1")
    store.set_meta("k", "v2")
    assert store.get_meta("k") == "v2" and store.get_meta("nope") is None


def test_prune_keeps_articles_of_live_stories(store: Store) -> None:
    feed = _feed(store)
    assert feed.id is not None
    ids = store.save_feed_check(
        feed.id, _update(T0), [_article("old"), _article("cited")], "extracted"
    )
    sid = store.new_story_id(T0)
    store.save_clustering([Membership(ids[1], sid)], [], [], T0)
    store.save_story(_story_update(sid, None, last_reported=T0 + timedelta(days=30)), T0)
    assert store.prune(T0 + timedelta(days=1)) == 1
    assert store.get_article(ids[0]) is None and store.get_article(ids[1]) is not None


def test_reopen_and_newer_schema_refused(store_url: str) -> None:
    s = open_store(store_url)
    s.close()
    s = open_store(store_url)  # migrations are idempotent
    engine = sa.create_engine(store_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    s.close()
    with pytest.raises(SchemaTooNew, match="newer"):
        open_store(store_url)


def test_concurrent_writers_never_see_locked(store: Store) -> None:
    feed = _feed(store)
    assert feed.id is not None
    fid = feed.id
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(15):
                store.save_feed_check(fid, _update(T0), [_article(f"{n}-{i}")], "discovered")
                store.set_meta(f"w{n}", str(i))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def reader() -> None:
        try:
            for _ in range(30):
                store.stats()
                store.list_stories(StoryQuery())
        except BaseException as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    threads += [threading.Thread(target=reader) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.stats()["articles"] == 90


def test_story_ids_leave_no_empty_rows(store: Store) -> None:
    a, b = store.new_story_id(T0), store.new_story_id(T0)
    assert b == a + 1
    assert store.stats()["stories"] == 0
    assert store.get_story(a) is None  # allocated, never committed: no half-written story


def test_named_lease(store: Store) -> None:
    assert store.try_lease("cluster", "w1", T0, 60) == (True, True)
    assert store.try_lease("cluster", "w1", T0 + timedelta(seconds=10), 60) == (True, False)
    assert store.try_lease("cluster", "w2", T0 + timedelta(seconds=20), 60) == (False, False)
    # w1 died: its lease expires and w2 takes over (fresh: reload state)
    assert store.try_lease("cluster", "w2", T0 + timedelta(seconds=71), 60) == (True, True)
    store.release_lease("cluster", "w2")
    assert store.try_lease("cluster", "w1", T0 + timedelta(seconds=72), 60)[0]


def test_cluster_members_round_trip(store: Store) -> None:
    feed = _feed(store)
    assert feed.id is not None
    ids = store.save_feed_check(feed.id, _update(T0), [_article("a")], "extracted")
    sid = store.new_story_id(T0)
    store.save_clustering(
        [Membership(ids[0], sid)],
        [StoryStateRow(sid, b"s", T0, T0)],
        [],
        T0,
        members=[(ids[0], b"member")],
    )
    assert store.load_cluster_members(ids) == [(ids[0], b"member")]
    story = store.get_story(sid)
    assert story is not None and story.first_reported == T0


def test_clustering_commit_is_fenced_by_the_lease(store: Store) -> None:
    from breakingon.store.base import LeaseLost

    feed = _feed(store)
    assert feed.id is not None
    ids = store.save_feed_check(feed.id, _update(T0), [_article("a")], "extracted")
    sid = store.new_story_id(T0)
    assert store.try_lease("cluster-leader", "w1", T0, 60)[0]
    assert store.try_lease("cluster-leader", "w2", T0 + timedelta(seconds=61), 60)[0]
    with pytest.raises(LeaseLost):
        store.save_clustering(
            [Membership(ids[0], sid)],
            [],
            [],
            T0 + timedelta(seconds=62),
            lease=("cluster-leader", "w1"),
        )
    art = store.get_article(ids[0])
    assert art is not None and art.story_id is None  # nothing of w1's batch was written
    store.save_clustering(
        [Membership(ids[0], sid)],
        [],
        [],
        T0 + timedelta(seconds=62),
        lease=("cluster-leader", "w2"),
    )
    art = store.get_article(ids[0])
    assert art is not None and art.story_id == sid


def test_top_places_counts_live_stories(store: Store) -> None:
    feed = _feed(store)
    assert feed.id is not None
    ids = store.save_feed_check(
        feed.id, _update(T0), [_article("a"), _article("b"), _article("c")], "extracted"
    )
    sids = [store.new_story_id(T0) for _ in ids]
    store.save_clustering([Membership(a, s) for a, s in zip(ids, sids, strict=True)], [], [], T0)
    paris = Place(2988507, "Paris", "FR", "city", 48.85, 2.35)
    tokyo = Place(1850147, "Tokyo", "JP", "city", 35.7, 139.7)
    store.save_story(_story_update(sids[0], None, places=(paris, tokyo)), T0)
    store.save_story(_story_update(sids[1], None, places=(paris,)), T0)
    later = T0 + timedelta(hours=3)
    store.save_story(_story_update(sids[2], None, places=(tokyo,), last_reported=later), T0)
    top = store.top_places(10)
    assert [(p.geonameid, p.name, p.country, p.kind, n) for p, n in top] == [
        (2988507, "Paris", "FR", "city", 2),
        (1850147, "Tokyo", "JP", "city", 2),
    ]
    assert [(p.name, n) for p, n in store.top_places(10, recent=1)] == [("Tokyo", 1)]
    store.save_clustering([], [], [(sids[2], sids[0])], T0)  # merged stories do not count
    assert [(p.name, n) for p, n in store.top_places(10)] == [("Paris", 2), ("Tokyo", 1)]
    assert [p.name for p, _ in store.top_places(1)] == ["Paris"]
    assert store.top_places(0) == []


def test_save_extracted_stores_a_batch_and_releases_leases(store: Store) -> None:
    feed = _feed(store)
    assert feed.id is not None
    store.save_feed_check(
        feed.id, _update(T0), [_article("a"), _article("b"), _article("c")], "discovered"
    )
    claimed = store.claim_articles("discovered", "w1", T0, 10, 60)
    assert len(claimed) == 3
    paris = Place(2988507, "Paris", "FR", "city", 48.85, 2.35, 0.9)
    first, second = claimed[0], claimed[1]
    assert first.id is not None and second.id is not None
    done = [
        replace(
            first,
            text="Full text of the first article.",
            language="en",
            content_hash="h1",
            sections=("world",),
            places=(paris,),
            page_kind="",
            extraction=Extraction(),
        ),
        replace(
            second,
            text="A copy.",
            duplicate_of=first.id,
            extraction=Extraction.fallback("x"),
            page_kind="cookie consent",
        ),
    ]
    store.save_extracted(done)
    store.save_extracted([])  # an empty batch is a no-op
    one = store.get_article(first.id)
    two = store.get_article(second.id)
    assert one is not None and two is not None
    assert (one.text, one.language, one.content_hash, one.page_kind) == (
        "Full text of the first article.",
        "en",
        "h1",
        "",
    )
    assert one.sections == ("world",) and [p.name for p in one.places] == ["Paris"]
    assert two.duplicate_of == first.id and two.extraction == Extraction.fallback("x")
    assert two.page_kind == "cookie consent"
    assert store.backlog().get("articles_discovered", 0) == 1  # "c" still waits
    # Leases are released: only the unsaved article is still held by w1.
    assert store.claim_articles("discovered", "w2", T0, 10, 60) == []
    later = T0 + timedelta(seconds=61)
    assert [a.item_key for a in store.claim_articles("discovered", "w2", later, 10, 60)] == ["c"]


def test_first_ids_by_content_hash(store: Store) -> None:
    feed = _feed(store)
    assert feed.id is not None
    keys = ["a", "b", "c", "d"]
    store.save_feed_check(feed.id, _update(T0), [_article(k) for k in keys], "discovered")
    claimed = store.claim_articles("discovered", "w1", T0, 10, 60)
    hashes = {"a": "same", "b": "same", "c": "same", "d": "other"}
    # "d" stays discovered: it must not count.
    store.save_extracted(
        [replace(a, content_hash=hashes[a.item_key]) for a in claimed if a.item_key != "d"]
    )
    ids = {a.item_key: a.id for a in claimed}
    found = store.first_ids_by_content_hash(["same", "other", "none", "same", ""])
    assert found == {"same": (ids["a"], ids["b"])}
    assert store.first_ids_by_content_hash([]) == {}
