"""Search at scale, on SQLite and PostgreSQL alike: results from a bounded candidate set
(the newest matches, window by window, each ranked by relevance and recency), pages
without duplicates or gaps, counts capped at MAX_SEARCH_RESULTS + 1, the language
filter inside the index, and hostile queries that find something or nothing, never an
error."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from breakingon.records import Article, Feed
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import Store, open_store
from breakingon.store import sql_search as search_sql
from breakingon.store.base import (
    MAX_SEARCH_RESULTS,
    SEARCH_WINDOW,
    FeedUpdate,
    Membership,
    StoryUpdate,
)
from breakingon.store.search_rank import Candidate, rank, rank_window, relevance

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _articles(store: Store, items: list[tuple[str, str, datetime, str]]) -> list[int]:
    """Save (title, text, published, language) articles, in order (ids ascend)."""
    url = "https://example.com/feed.xml"
    feed, _ = store.add_feed(Feed(url=url, outlet="Example"), feed_url_key(url))
    assert feed.id is not None
    arts = [
        Article(
            url=f"https://example.com/{i}-{title[:8]}",
            title=title,
            text=text,
            published=when,
            item_key=f"{i}-{title}",
            language=lang,
        )
        for i, (title, text, when, lang) in enumerate(items)
    ]
    update = FeedUpdate(checked_at=T0, next_check_at=T0, interval_s=900, error_count=0)
    return store.save_feed_check(feed.id, update, arts, "extracted")


def _stories(store: Store, items: list[tuple[str, str, datetime, tuple[str, ...]]]) -> list[int]:
    """One story of one article per (headline, dek, last reported, languages)."""
    lang = {i: (langs[0] if langs else "") for i, (_, _, _, langs) in enumerate(items)}
    aids = _articles(store, [(h, d, when, lang[i]) for i, (h, d, when, _) in enumerate(items)])
    ids = []
    for aid, (headline, dek, when, langs) in zip(aids, items, strict=True):
        sid = store.new_story_id(when)
        store.save_clustering([Membership(aid, sid)], [], [], when)
        store.save_story(
            StoryUpdate(
                story_id=sid,
                headline=headline,
                dek=dek,
                first_reported=when,
                last_reported=when,
                article_count=1,
                outlet_count=1,
                representative_article_id=aid,
                outlets=("Example",),
                countries=(),
                languages=langs,
                sections=("world",),
                places=(),
                score=1.0,
                score_explanation="",
                breaking_since=None,
                breaking_until=None,
                brief=None,
            ),
            when,
        )
        ids.append(sid)
    return ids


def test_a_newer_strong_match_leads_and_an_old_one_is_still_found(store: Store) -> None:
    old, body_only, strong, other = _articles(
        store,
        [
            ("Harbour flood closes the old town", "Water rose overnight.", T0, "en"),
            ("Council meets", "The harbour flood was discussed.", T0 + timedelta(days=30), "en"),
            ("Harbour flood: the day after", "Crews pumped water.", T0 + timedelta(days=31), "en"),
            ("Markets calm", "Nothing about water.", T0 + timedelta(days=32), "en"),
        ],
    )
    found = [a.id for a in store.search_articles("harbour flood", 10)]
    # the newest title match first, then the newer mention in the text; the month-old
    # title match is still found: few recent matches, so it is in the same window
    assert found == [strong, body_only, old]
    assert other not in found
    assert store.count_search_articles("harbour flood") == 3
    # relevance, not only age: of two items of the same age, the title match leads
    same_day = T0 + timedelta(days=40)
    mention, title = _articles(
        store,
        [
            ("Weather report", "A tornado was seen.", same_day + timedelta(minutes=5), "en"),
            ("Tornado hits the coast", "Roofs lost.", same_day, "en"),
        ],
    )
    assert [a.id for a in store.search_articles("tornado", 5)] == [title, mention]


def test_stories_rank_by_headline_and_recency_and_only_listed(store: Store) -> None:
    old, dek_only, new = _stories(
        store,
        [
            ("Bridge collapse in the north", "Inquiry opens.", T0, ("en",)),
            ("Transport news", "A bridge collapse delays trains.", T0 + timedelta(days=2), ("en",)),
            ("Bridge collapse: victims named", "Names released.", T0 + timedelta(days=3), ("en",)),
        ],
    )
    # the newest headline match; then the headline match three days old before the dek
    # mention two days newer than it (4 x 1/2.5 against 1.5 x 1/1.5: relevance counts)
    assert [s.id for s in store.search_stories("bridge collapse", 10)] == [new, old, dek_only]
    store.save_clustering([], [], [(new, old)], T0 + timedelta(days=3))  # `new` merged away
    assert [s.id for s in store.search_stories("bridge collapse", 10)] == [old, dek_only]
    assert store.count_search_stories("bridge collapse") == 2


def test_pages_cross_windows_without_duplicates_or_gaps_and_stop_at_the_cap(
    store: Store,
) -> None:
    n = MAX_SEARCH_RESULTS + 50
    items = [
        (f"Storm update {i}", "Wind and rain." + (" Storm again." if i % 3 else ""), T0, "en")
        for i in range(n)
    ]
    items = [(t, x, T0 + timedelta(minutes=i), lang) for i, (t, x, _, lang) in enumerate(items)]
    ids = _articles(store, items)
    assert store.count_search_articles("storm") == MAX_SEARCH_RESULTS + 1  # "1,000+"
    assert store.count_search_articles("storm wind") == MAX_SEARCH_RESULTS + 1
    seen: list[int] = []
    for offset in range(0, MAX_SEARCH_RESULTS + 40, 40):
        seen += [a.id for a in store.search_articles("storm", 40, offset)]
    # the newest MAX_SEARCH_RESULTS matches, each on exactly one page
    assert len(seen) == len(set(seen)) == MAX_SEARCH_RESULTS
    assert set(seen) == set(ids[-MAX_SEARCH_RESULTS:])
    # window by window: every window holds the next SEARCH_WINDOW newest ids
    for w in range(MAX_SEARCH_RESULTS // SEARCH_WINDOW):
        window = seen[w * SEARCH_WINDOW : (w + 1) * SEARCH_WINDOW]
        assert set(window) == set(ids[n - (w + 1) * SEARCH_WINDOW : n - w * SEARCH_WINDOW])
    # past the last result: nothing (the page links stop there too)
    assert store.search_articles("storm", 20, MAX_SEARCH_RESULTS) == []
    assert store.search_articles("storm", 0) == []
    # a page that straddles two windows is the same as the two pages it spans
    straddle = [a.id for a in store.search_articles("storm", 30, SEARCH_WINDOW - 10)]
    assert straddle == seen[SEARCH_WINDOW - 10 : SEARCH_WINDOW + 20]


def test_story_pages_in_small_windows(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_sql, "SEARCH_WINDOW", 4)
    monkeypatch.setattr(search_sql, "MAX_SEARCH_RESULTS", 10)
    monkeypatch.setattr(search_sql, "PG_FINE", 1)  # several windows of buckets on PostgreSQL
    monkeypatch.setattr(search_sql, "PG_PER_COARSE", 2)
    ids = _stories(
        store,
        [
            (f"Election night {i}", "Votes counted.", T0 + timedelta(hours=i), ("en",))
            for i in range(13)
        ],
    )
    assert store.count_search_stories("election") == 11  # stops at the cap + 1
    pages = [[s.id for s in store.search_stories("election", 3, off)] for off in range(0, 12, 3)]
    flat = [i for p in pages for i in p]
    assert len(flat) == len(set(flat)) == 10 and set(flat) == set(ids[-10:])
    assert [len(p) for p in pages] == [3, 3, 3, 1]
    assert set(flat[:4]) == set(ids[-4:])  # the newest window first


def test_language_filter_is_inside_the_index(store: Store) -> None:
    de1, fr1, en1, de2 = _articles(
        store,
        [
            ("Hochwasser in Dresden", "Die Elbe steigt. de facto", T0, "de"),
            ("Inondation à Lyon", "La Saône monte.", T0, "fr"),
            ("Flood in Leeds", "The river Aire rose.", T0, "en"),
            ("Hochwasser in Passau", "Die Donau steigt.", T0 + timedelta(hours=1), "de"),
        ],
    )
    assert [a.id for a in store.search_articles("hochwasser", 10, language="de")] == [de2, de1]
    assert store.search_articles("hochwasser", 10, language="fr") == []
    assert store.count_search_articles("hochwasser", language="de") == 2
    assert store.count_search_articles("steigt", language="en") == 0
    # a language code is no search term: "de" finds the article with the word, not
    # every German one (nor "fr" every French one)
    assert [a.id for a in store.search_articles("de", 10)] == [de1]
    assert store.search_articles("fr", 10) == [] and store.count_search_articles("en") == 0
    assert [a.id for a in store.search_articles("lyon", 10, language="fr")] == [fr1]
    assert store.search_articles("leeds", 10, language="xx") == []
    assert store.search_articles("leeds", 10, language="") == store.search_articles("leeds", 10)
    assert en1 in [a.id for a in store.search_articles("leeds", 10)]
    s_de, s_fr = _stories(
        store,
        [
            ("Sturm über Hamburg", "Bäume fallen.", T0, ("de", "en")),
            ("Tempête sur Brest", "Des arbres tombent.", T0, ("fr",)),
        ],
    )
    assert [s.id for s in store.search_stories("sturm", 5, language="en")] == [s_de]
    assert [s.id for s in store.search_stories("brest", 5, language="fr")] == [s_fr]
    assert store.search_stories("brest", 5, language="de") == []
    assert store.count_search_stories("en") == 0  # "en" is in languages, not the text
    assert store.count_search_stories("hamburg", language="de") == 1


HOSTILE = [
    '"flood" OR quake',
    "flood AND NOT quake",
    "NEAR(flood quake, 2)",
    "flood*",
    "^flood",
    "title:flood",
    "{title text}: flood",
    "language : de",
    "flood & quake | !x <-> y:*",
    "'; DROP TABLE articles; --",
    "\\x00 flood \x00",
    "flood " * 200,
    "x" * 600,
    "🌊 flood 🌊",
    "فيضان",
    "洪水 東京",
    "e\u0301te\u0301 flood",
    "Flood\u200b",
    "~de flood",
    "AND OR NOT NEAR",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_find_something_or_nothing_never_an_error(store: Store, q: str) -> None:
    _articles(store, [("Flood and quake", "A flood, then a quake. de", T0, "de")])
    _stories(store, [("Flood warning", "Rivers rise.", T0, ("en",))])
    for language in (None, "de", "'x", 'd"e'):
        found = store.search_articles(q, 5, 0, language)
        n = store.count_search_articles(q, language)
        assert 0 <= len(found) <= n <= MAX_SEARCH_RESULTS + 1
        stories = store.search_stories(q, 5, 0, language)
        assert 0 <= len(stories) <= store.count_search_stories(q, language)
    # every term of these is a word of both articles (the story's own one too): found
    if q in ("flood*", "^flood", "🌊 flood 🌊", "flood " * 200):
        assert store.count_search_articles(q) == 2 and store.count_search_stories(q) == 1


def test_search_survives_migration_0009(tmp_path: object) -> None:
    """A database of revision 0008 keeps its search through the rebuilt FTS5 tables."""
    from alembic import command

    from breakingon.store.sql import _alembic_config

    url = f"sqlite:///{tmp_path}/old.sqlite"
    engine = sa.create_engine(url)
    cfg = _alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0008")
        conn.exec_driver_sql(
            "INSERT INTO sources (id, name, created_at) VALUES (1, 'Example', '2026-11-01')"
        )
        conn.exec_driver_sql(
            "INSERT INTO articles (id, source_id, item_key, title, text, published, "
            "first_seen, updated_at, language) VALUES (1, 1, 'k', 'Avalanche warning', "
            "'Snow.', '2026-11-01', '2026-11-01', '2026-11-01', 'de')"
        )
    engine.dispose()
    store = open_store(url)
    try:
        assert [a.id for a in store.search_articles("avalanche", 5, language="de")] == [1]
        assert store.count_search_articles("avalanche", language="fr") == 0
    finally:
        store.close()


@pytest.mark.parametrize(
    "top", [0, 1, 2047, 2048, 4095, 6143, 65_535, 65_536, 1_000_000, 3_333_333, 60_000_000]
)
def test_pg_windows_cover_every_id_once_newest_first(top: int) -> None:
    fine, coarse = search_sql.PG_FINE, search_sql.PG_FINE * search_sql.PG_PER_COARSE
    # the buckets named as in the index: PG_BUCKETS
    assert search_sql.PG_BUCKETS == f"(ARRAY[id / {fine}, {search_sql.PG_COARSE} + id / {coarse}])"
    covered: list[int] = []
    for window in search_sql.pg_windows(top):
        assert 0 < len(window) <= 64
        ids: list[int] = []
        for b in window:
            if b >= search_sql.PG_COARSE:
                c = b - search_sql.PG_COARSE
                ids += range(min(top, (c + 1) * coarse - 1), c * coarse - 1, -1)
            else:
                ids += range(min(top, (b + 1) * fine - 1), b * fine - 1, -1)
        assert ids == sorted(ids, reverse=True)
        covered += ids
    assert covered == list(range(top, -1, -1))  # every id once, newest first


def test_rank_is_pure_and_window_by_window() -> None:
    hour = 3600.0
    cands = [
        Candidate(5, "Flood in town", "", 10 * hour),
        Candidate(4, "Weather", "", 10 * hour),
        Candidate(3, "Flood", "", 0.0),  # ten hours older than the window's newest
    ]
    assert rank_window(["flood"], cands) == [5, 3, 4]
    town = Candidate(6, "Town flood warning", "", 0.0)
    assert relevance(["town", "flood"], town) == pytest.approx(4.0)  # all, side by side
    assert relevance(["flood", "town"], town) == pytest.approx(3.0)  # all, not in order
    assert relevance(["flood", "river"], town) == pytest.approx(2.0)  # half of them
    story = Candidate(7, "Warning", "Town flood", 0.0, outlets=10)
    assert relevance(["flood"], story) == pytest.approx(1.5 * (1 + math.log(10) / 10))
    assert relevance(["ete"], Candidate(1, "Été chaud", "", 0.0)) == pytest.approx(3.0)
    # windows never mix: the older window's best comes after the newer window's worst
    assert rank(["flood"], cands, 2) == [5, 4, 3]
    assert rank(["flood"], [], 2) == []
