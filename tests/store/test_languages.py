"""Stories by language on SQLite and PostgreSQL alike: the list filter, search with a
language, the languages the chooser offers, and a brief's language kept in its JSON."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from breakingon.records import (
    Article,
    Brief,
    BriefSection,
    BriefSentence,
    Citation,
    Feed,
    LanguageReport,
)
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import Store
from breakingon.store.base import FeedUpdate, Membership, StoryQuery, StoryUpdate

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
# (headline, the story's languages, the language of its one article)
STORIES = [
    ("Flood in Dresden", ("de", "en"), "de"),
    ("Flood in Lyon", ("fr",), "fr"),
    ("Flood in Leeds", ("en",), "en"),
    ("Flood in Bern", ("de", "fr"), "de"),
    ("Quiet day", (), ""),
]


def _fill(store: Store) -> list[int]:
    url = "https://example.com/feed.xml"
    feed, _ = store.add_feed(Feed(url=url, outlet="Example"), feed_url_key(url))
    assert feed.id is not None
    arts = [
        Article(
            url=f"https://example.com/{i}",
            title=title,
            text=f"{title}. Residents left.",
            published=T0,
            item_key=str(i),
            language=lang,
        )
        for i, (title, _, lang) in enumerate(STORIES)
    ]
    update = FeedUpdate(checked_at=T0, next_check_at=T0, interval_s=900, error_count=0)
    article_ids = store.save_feed_check(feed.id, update, arts, "extracted")
    ids = []
    for i, (aid, (title, langs, _)) in enumerate(zip(article_ids, STORIES, strict=True)):
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
                languages=langs,
                sections=("world",),
                places=(),
                score=float(10 - i),
                score_explanation="",
                breaking_since=None,
                breaking_until=None,
                brief=None,
            ),
            T0,
        )
        ids.append(sid)
    return ids


def test_stories_filter_by_any_member_language(store: Store) -> None:
    ids = _fill(store)
    german = store.list_stories(StoryQuery(language="de"))
    assert [s.id for s in german] == [ids[0], ids[3]]  # score order, both with German
    assert store.count_stories(StoryQuery(language="de")) == 2
    assert [s.id for s in store.list_stories(StoryQuery(language="fr"))] == [ids[1], ids[3]]
    assert store.count_stories(StoryQuery(language="it")) == 0
    assert store.count_stories(StoryQuery()) == 5


def test_search_keeps_to_a_language(store: Store) -> None:
    ids = _fill(store)
    assert store.count_search_stories("flood") == 4
    assert store.count_search_stories("flood", language="de") == 2
    found_fr = store.search_stories("flood", 10, language="fr")
    assert sorted(s.id for s in found_fr) == [ids[1], ids[3]]
    pages = [store.search_stories("flood", 1, k, language="de") for k in (0, 1, 2)]
    assert sorted(p[0].id for p in pages[:2]) == [ids[0], ids[3]] and pages[2] == []
    assert store.count_search_articles("flood", language="de") == 2
    found = store.search_articles("flood", 10, language="fr")
    assert [a.title for a in found] == ["Flood in Lyon"]
    assert store.count_search_articles("flood", language="it") == 0


def test_story_languages_count_live_stories_per_language(store: Store) -> None:
    _fill(store)
    assert store.story_languages() == [("de", 2), ("en", 2), ("fr", 2)]
    assert store.story_languages(limit=1) == [("de", 2)]
    # only the latest `recent` stories: the last two are Bern (de, fr) and the quiet day
    assert store.story_languages(recent=2) == [("de", 1), ("fr", 1)]


def test_a_brief_keeps_its_language_and_other_languages(store: Store) -> None:
    ids = _fill(store)
    cite = (Citation("1", "Example", "https://example.com/0"),)
    brief = Brief(
        headline="Hochwasser in Dresden",
        dek=(BriefSentence("Die Elbe trat über die Ufer.", cite),),
        sections=(BriefSection("What happened", (BriefSentence("Viele flohen.", cite),)),),
        credits=("Example",),
        language="de",
        other_languages=(
            LanguageReport("en", ("Example",), (BriefSentence("The Elbe burst its banks.", cite),)),
        ),
    )
    story = store.get_story(ids[0])
    assert story is not None
    store.save_story(
        StoryUpdate(
            story_id=ids[0],
            headline=story.headline,
            dek=story.dek,
            first_reported=story.first_reported,
            last_reported=story.last_reported,
            article_count=1,
            outlet_count=1,
            representative_article_id=story.representative_article_id,
            outlets=story.outlets,
            countries=(),
            languages=story.languages,
            sections=story.sections,
            places=(),
            score=story.score,
            score_explanation="",
            breaking_since=None,
            breaking_until=None,
            brief=brief,
        ),
        T0,
    )
    assert store.get_brief(ids[0]) == brief
    assert store.brief_versions(ids[0])[0].brief.other_languages == brief.other_languages
