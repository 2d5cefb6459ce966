"""An empty front page says why it has no story: no sources, no feed fetched yet, no
article yet, or nothing clustered yet (on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient
from webfill import make_settings

from breakingon.records import Article, Feed
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import Store
from breakingon.store.base import FeedUpdate
from breakingon.web import create_app
from breakingon.web.empty import why_no_stories

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)


def _check(success: bool, at: datetime) -> FeedUpdate:
    return FeedUpdate(
        checked_at=at,
        next_check_at=at + timedelta(minutes=5),
        interval_s=300,
        error_count=0 if success else 1,
        success=success,
        last_error=None if success else "dns: no such host",
    )


def test_the_empty_front_page_says_why(store: Store) -> None:
    app = create_app(make_settings(), store, cache_ttl_s=0.0)
    with TestClient(app) as client:
        front = client.get("/").text
        assert "No stories yet. No sources yet" in front and "add-catalogue" in front
    url = "https://news.example/rss"
    feed, _ = store.add_feed(Feed(url=url, outlet="News"), feed_url_key(url))
    assert feed.id is not None
    assert "1 feed waiting for a first check" in why_no_stories(store)
    store.save_feed_check(feed.id, _check(False, T0), [], "discovered")
    assert "no fetch of 1 feed has succeeded" in why_no_stories(store)
    store.save_feed_check(feed.id, _check(True, T0 + timedelta(minutes=5)), [], "discovered")
    assert why_no_stories(store) == "Feeds are fetched, but they hold no articles yet."
    article = Article(url=f"{url}/1", title="Quake", text="A quake.", published=T0, item_key="1")
    store.save_feed_check(
        feed.id, _check(True, T0 + timedelta(minutes=10)), [article], "discovered"
    )
    assert why_no_stories(store) == "1 article fetched; nothing clustered into stories yet."
    with TestClient(create_app(make_settings(), store, cache_ttl_s=0.0)) as client:
        assert "nothing clustered into stories yet" in client.get("/").text
