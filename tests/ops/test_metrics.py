"""/metrics backlog gauges tell the truth when work is done: a real store (SQLite and
PostgreSQL) goes from 50 extracted articles to none (all clustered), and every known
backlog kind is reported on each scrape, 0 when empty, never its last value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client.parser import text_string_to_metric_families

from breakingon.ops.metrics import render
from breakingon.records import Article, Feed
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import Store
from breakingon.store.base import BACKLOG_KINDS, FeedUpdate, Membership

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _backlog(body: bytes) -> dict[str, float]:
    out: dict[str, float] = {}
    for family in text_string_to_metric_families(body.decode()):
        if family.name == "breakingon_backlog":
            for sample in family.samples:
                out[sample.labels["kind"]] = sample.value
    return out


def test_backlog_gauges_drop_to_zero_when_a_state_empties(store: Store) -> None:
    url = "https://news.example/rss"
    feed, _ = store.add_feed(Feed(url=url, outlet="News"), feed_url_key(url))
    assert feed.id is not None
    update = FeedUpdate(
        checked_at=NOW,
        next_check_at=NOW + timedelta(hours=1),
        interval_s=3600,
        error_count=0,
        success=True,
    )
    articles = [
        Article(
            url=f"{url}/{n}",
            title=f"Story {n}",
            text="A quake struck.",
            published=NOW,
            item_key=str(n),
        )
        for n in range(50)
    ]
    ids = store.save_feed_check(feed.id, update, articles, "extracted")
    first = _backlog(render(store))
    assert first["articles_extracted"] == 50
    assert set(BACKLOG_KINDS) <= set(first)  # every kind, even the empty ones
    assert first["articles_clustered"] == 0 and first["articles_discovered"] == 0

    sid = store.new_story_id(NOW)
    store.save_clustering([Membership(a, sid, 0.9, "test") for a in ids], [], [], NOW)
    after = _backlog(render(store))
    assert after["articles_extracted"] == 0  # was stuck at 50 before
    assert after["articles_clustered"] == 50
    assert after["stories_dirty"] == 1
    assert store.backlog()["articles_extracted"] == 0  # the store reports it too


def test_a_kind_the_store_stops_reporting_reads_zero() -> None:
    class Ops:
        def __init__(self) -> None:
            self.kinds = {"articles_extracted": 7, "articles_quarantined": 3}

        def backlog(self) -> dict[str, int]:
            return dict(self.kinds)

        def stats(self) -> dict[str, int]:
            return {"stories": 0, "articles": 0, "feeds": 0}

    ops = Ops()
    assert _backlog(render(ops))["articles_quarantined"] == 3  # type: ignore[arg-type]
    ops.kinds = {}
    after = _backlog(render(ops))  # type: ignore[arg-type]
    assert after["articles_quarantined"] == 0 and after["articles_extracted"] == 0
