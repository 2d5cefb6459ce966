"""Retention on SQLite and PostgreSQL: old unreferenced articles go, live stories keep theirs.

Runs against the real store (the `store` fixture of tests/conftest.py, both backends),
through `RetentionStep` and through the runner's processing step.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from breakingon.ops.retention import RetentionStep, retention_cutoff
from breakingon.pipeline.runner import Pipeline
from breakingon.records import Article, Outlet
from breakingon.settings import Settings
from breakingon.store import Store
from breakingon.store.base import Membership, StoryStateRow

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
OLD = NOW - timedelta(days=100)


def _articles(prefix: str, when: datetime, n: int) -> list[Article]:
    return [
        Article(
            url=f"https://example.org/{prefix}/{i}",
            title=f"{prefix} {i}",
            text=f"Body of {prefix} number {i}. " * 10,
            published=when + timedelta(minutes=i),
            item_key=f"https://example.org/{prefix}/{i}",
        )
        for i in range(n)
    ]


def _fill(store: Store) -> dict[str, Any]:
    out = Outlet(name="example.org")
    loose_old = store.save_archive_articles(out, _articles("loose-old", OLD, 5), "clustered")
    fresh = store.save_archive_articles(out, _articles("fresh", NOW, 3), "clustered")
    live_old = store.save_archive_articles(out, _articles("live-old", OLD, 3), "clustered")
    live_new = store.save_archive_articles(out, _articles("live-new", NOW, 1), "clustered")
    dead = store.save_archive_articles(out, _articles("dead", OLD, 4), "clustered")
    live_story = store.new_story_id(NOW)
    dead_story = store.new_story_id(NOW)
    store.save_clustering(
        [Membership(i, live_story) for i in live_old + live_new]
        + [Membership(i, dead_story) for i in dead],
        [
            StoryStateRow(live_story, b"", OLD, NOW),
            StoryStateRow(dead_story, b"", OLD, OLD + timedelta(hours=2)),
        ],
        [],
        NOW,
    )
    return {
        "loose_old": loose_old,
        "fresh": fresh,
        "live": live_old + live_new,
        "dead": dead,
        "live_story": live_story,
        "dead_story": dead_story,
    }


def _count_deletes(store: Store) -> list[int]:
    engine = store._w  # type: ignore[attr-defined]
    seen: list[int] = []

    @sa.event.listens_for(engine, "before_cursor_execute")
    def _spy(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM ARTICLES"):
            seen.append(1)

    return seen


def test_cutoff() -> None:
    assert retention_cutoff(NOW, 0) is None
    assert retention_cutoff(NOW, -3) is None
    assert retention_cutoff(NOW, 30) == NOW - timedelta(days=30)


def test_prunes_old_unreferenced_keeps_live_stories(store: Store) -> None:
    ids = _fill(store)
    deletes = _count_deletes(store)
    step = RetentionStep(
        Settings(retention_days=30), store, "w1", batch=2, every_s=3600, clock=lambda: NOW
    )
    deleted = step.step()
    assert deleted == len(ids["loose_old"]) + len(ids["dead"])
    # 9 rows in batches of at most 2: five delete transactions, never one big one.
    assert len(deletes) == 5
    for i in ids["loose_old"] + ids["dead"]:
        assert store.get_article(i) is None
    for i in ids["fresh"] + ids["live"]:
        assert store.get_article(i) is not None
    live = store.story_articles(ids["live_story"])
    assert {a.id for a in live} == set(ids["live"])  # old articles of a live story stay
    assert (
        store.get_story(ids["dead_story"]) is None or store.story_articles(ids["dead_story"]) == []
    )
    # Not due again until its interval has passed; a forced step finds nothing left.
    assert step.step() == 0
    assert step.step(force=True) == 0
    assert store.get_meta("retention_last_run") is not None


def test_retention_zero_keeps_everything(store: Store) -> None:
    ids = _fill(store)
    before = store.stats()["articles"]
    step = RetentionStep(Settings(retention_days=0), store, "w1", clock=lambda: NOW)
    assert not step.due()
    assert step.step(force=True) == 0
    assert store.stats()["articles"] == before
    assert store.get_article(ids["loose_old"][0]) is not None


def test_other_worker_holding_the_lease_skips(store: Store) -> None:
    _fill(store)
    held, _ = store.try_lease("retention", "other", NOW, 600)
    assert held
    step = RetentionStep(Settings(retention_days=30), store, "w1", clock=lambda: NOW)
    assert step.step() == 0


def test_runner_process_step_prunes(store: Store) -> None:
    out = Outlet(name="example.org")
    old = store.save_archive_articles(out, _articles("loose-old", OLD, 4), "clustered")
    fresh = store.save_archive_articles(out, _articles("fresh", NOW, 2), "clustered")
    settings = replace(Settings(), retention_days=30)
    pipeline = Pipeline(settings, store, "w1", crawl=False, clock=lambda: NOW)
    pipeline.process_step()
    assert all(store.get_article(i) is None for i in old)
    assert all(store.get_article(i) is not None for i in fresh)
    # The next steps do not prune again (bounded to once per interval).
    deletes = _count_deletes(store)
    store.save_archive_articles(out, _articles("late", OLD, 2), "clustered")
    pipeline.process_step()
    assert deletes == []
