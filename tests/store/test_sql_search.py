"""Full-text search with counts and pages, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from breakingon.records import Article, Feed
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import Store
from breakingon.store.base import FeedUpdate, Membership, StoryQuery, StoryUpdate, search_terms

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def _fill(store: Store, n: int) -> tuple[list[int], list[int]]:
    """`n` flood stories (one article each, scores 1..n) and one quake story."""
    url = "https://example.com/feed.xml"
    feed, _ = store.add_feed(Feed(url=url, outlet="Example"), feed_url_key(url))
    assert feed.id is not None
    titles = [f"River flood number {i} in town" for i in range(n)] + ["Quake hits city"]
    arts = [
        Article(
            url=f"https://example.com/{i}",
            title=t,
            text=f"{t}. Residents left.",
            published=T0,
            item_key=str(i),
        )
        for i, t in enumerate(titles)
    ]
    update = FeedUpdate(checked_at=T0, next_check_at=T0, interval_s=900, error_count=0)
    article_ids = store.save_feed_check(feed.id, update, arts, "extracted")
    story_ids = []
    for i, (aid, title) in enumerate(zip(article_ids, titles, strict=True)):
        sid = store.new_story_id(T0)
        store.save_clustering([Membership(aid, sid)], [], [], T0)
        store.save_story(
            StoryUpdate(
                story_id=sid,
                headline=title,
                dek="Residents left.",
                first_reported=T0,
                last_reported=T0 + timedelta(minutes=i),
                article_count=1,
                outlet_count=1,
                representative_article_id=aid,
                outlets=("Example",),
                countries=(),
                languages=("en",),
                sections=("world",),
                places=(),
                score=float(i + 1),
                score_explanation="",
                breaking_since=None,
                breaking_until=None,
                brief=None,
            ),
            T0,
        )
        story_ids.append(sid)
    return story_ids, article_ids


def test_search_pages_and_counts_agree(store: Store) -> None:
    story_ids, article_ids = _fill(store, 7)
    assert store.count_search_stories("flood") == 7
    assert store.count_search_articles("FLOOD town") == 7
    assert store.count_search_stories("quake") == 1
    seen = []
    for offset in range(0, 9, 3):
        page = store.search_stories("flood", 3, offset)
        assert len(page) == min(3, 7 - offset)
        seen += [s.id for s in page]
    assert sorted(seen) == sorted(story_ids[:7])  # every match once, none twice
    arts = [a.id for off in (0, 4) for a in store.search_articles("flood", 4, off)]
    assert sorted(arts) == sorted(article_ids[:7])
    # A story merged into another leaves the search and its count together.
    store.save_clustering([], [], [(story_ids[0], story_ids[1])], T0)
    assert store.count_search_stories("flood") == 6
    assert story_ids[0] not in [s.id for s in store.search_stories("flood", 100)]
    assert len(store.search_stories("flood", 100)) == 6
    # The lists' count agrees with the search's for the same live stories.
    assert store.count_stories(StoryQuery(section="world")) == 7  # 6 floods + the quake
    # Nothing to search for, or nothing found: zero, never an error.
    for q in ("", "   ", "!!! ???", "nosuchword"):
        assert store.count_search_stories(q) == 0 and store.search_stories(q, 5) == []
        assert store.count_search_articles(q) == 0 and store.search_articles(q, 5) == []
    # Query syntax of either backend is not interpreted: quotes, operators, NEAR, '&'.
    for hostile in ('"flood" OR quake', "flood & quake | !x", "NEAR(flood quake)", "flood*"):
        assert store.count_search_stories(hostile) >= 0
        store.search_stories(hostile, 5)


def test_search_terms_are_alphanumeric_words() -> None:
    assert search_terms('  Flood-warning, "Paris" & l\'été ') == ["floodwarning", "paris", "lété"]
    assert search_terms("a " * 30) == ["a"] * 12
    assert search_terms("!!! ...") == []
