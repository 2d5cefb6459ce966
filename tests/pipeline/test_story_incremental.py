"""The incremental story stage over a real store (SQLite and PostgreSQL): new members
coalesce into one update, a brief whose basis is unchanged is kept and gives the same
story as a full update, a deferred brief is written when due."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from test_process import QUAKE, T0, _add

from breakingon.pipeline.cluster_stage import ClusterStage
from breakingon.pipeline.story_stage import StoryStage
from breakingon.settings import Settings
from breakingon.store import Store
from breakingon.story.refresh import BriefRefresh, cited_ids

SETTINGS = Settings(lease_s=60)


def _drain(stage: ClusterStage | StoryStage) -> int:
    total = 0
    while (n := stage.step()) > 0:
        total += n
    return total


def _story_of(store: Store, article_id: int) -> int:
    art = store.get_article(article_id)
    assert art is not None and art.story_id is not None
    return art.story_id


def _saved(store: Store, sid: int) -> tuple[object, ...]:
    """Everything the stage stores for a story but the time of the update."""
    s = store.get_story(sid)
    assert s is not None
    return (replace(s, updated_at=None), store.get_brief(sid), len(store.brief_versions(sid)))


def test_many_new_members_coalesce_into_one_update(store: Store) -> None:
    ids = [
        _add(store, o, c, t, x, T0 + timedelta(minutes=10 * i))
        for i, (o, c, t, x) in enumerate(QUAKE)
    ]
    now = T0 + timedelta(minutes=40)
    assert _drain(ClusterStage(SETTINGS, store, "w1", clock=lambda: now)) == 3
    [sid] = {_story_of(store, a) for a in ids}
    stage = StoryStage(SETTINGS, store, "w1", clock=lambda: now)
    assert stage.step() == 1  # three new members, one update
    assert stage.briefs_written == 1 and len(store.brief_versions(sid)) == 1
    story = store.get_story(sid)
    assert story is not None and story.article_count == 3 and story.outlet_count == 3
    assert _drain(stage) == 0  # nothing left dirty


def test_a_kept_brief_stores_what_a_full_update_stores(store: Store) -> None:
    ids = [
        _add(store, o, c, t, x, T0 + timedelta(minutes=10 * i))
        for i, (o, c, t, x) in enumerate(QUAKE)
    ]
    at = [T0 + timedelta(minutes=40)]
    cluster = ClusterStage(SETTINGS, store, "w1", clock=lambda: at[0])
    stage = StoryStage(SETTINGS, store, "w1", clock=lambda: at[0])
    _drain(cluster)
    _drain(stage)
    [sid] = {_story_of(store, a) for a in ids}
    # a later report of an outlet already in the story: the brief reads the same reports
    outlet, country, title, text = QUAKE[0]
    later = _add(store, outlet, country, title + " as rescuers dig", text, T0 + timedelta(hours=1))
    at[0] = T0 + timedelta(hours=1, minutes=5)
    _drain(cluster)
    assert _story_of(store, later) == sid
    assert _drain(stage) == 1
    assert stage.briefs_kept == 1 and stage.briefs_written == 1
    incremental = _saved(store, sid)
    # a fresh stage (no memory of the brief) writes it again from all members
    fresh = StoryStage(SETTINGS, store, "w2", clock=lambda: at[0])
    store.mark_stories_dirty([sid])
    assert _drain(fresh) == 1 and fresh.briefs_written == 1
    assert _saved(store, sid) == incremental
    story = store.get_story(sid)
    assert story is not None and story.article_count == 4


def test_a_deferred_brief_is_written_when_due(store: Store) -> None:
    # the first two reports, then the third outlet's: a third more reports, which this
    # stage (growth 1.0) defers for max_age_s
    ids = [
        _add(store, o, c, t, x, T0 + timedelta(minutes=10 * i))
        for i, (o, c, t, x) in enumerate(QUAKE[:2])
    ]
    at = [T0 + timedelta(minutes=30)]
    cluster = ClusterStage(SETTINGS, store, "w1", clock=lambda: at[0])
    stage = StoryStage(SETTINGS, store, "w1", clock=lambda: at[0], refresh=BriefRefresh(1.0, 300.0))
    _drain(cluster)
    _drain(stage)
    [sid] = {_story_of(store, a) for a in ids}
    third = _add(store, *QUAKE[2], T0 + timedelta(minutes=31))
    at[0] = T0 + timedelta(minutes=32)
    _drain(cluster)
    assert _story_of(store, third) == sid
    assert _drain(stage) == 1 and stage.briefs_deferred == 1 and stage.pending() == 1
    story = store.get_story(sid)
    assert story is not None and story.outlet_count == 3  # the signals are current
    assert str(third) not in cited_ids(store.get_brief(sid))  # the brief waits
    assert len(store.brief_versions(sid)) == 1
    at[0] = T0 + timedelta(minutes=34)  # not yet due
    assert _drain(stage) == 0
    at[0] = T0 + timedelta(minutes=35, seconds=1)  # written at 30:00, due at 35:00
    assert _drain(stage) == 1 and stage.briefs_written == 2 and stage.pending() == 0
    [newest, _] = store.brief_versions(sid)
    assert newest.article_count == 3


def test_flush_writes_deferred_briefs_now(store: Store) -> None:
    ids = [
        _add(store, o, c, t, x, T0 + timedelta(minutes=10 * i))
        for i, (o, c, t, x) in enumerate(QUAKE[:2])
    ]
    at = [T0 + timedelta(minutes=30)]
    cluster = ClusterStage(SETTINGS, store, "w1", clock=lambda: at[0])
    stage = StoryStage(
        SETTINGS, store, "w1", clock=lambda: at[0], refresh=BriefRefresh(1.0, 3600.0)
    )
    _drain(cluster)
    _drain(stage)
    _add(store, *QUAKE[2], T0 + timedelta(minutes=31))
    at[0] = T0 + timedelta(minutes=32)
    _drain(cluster)
    assert _drain(stage) == 1 and stage.pending() == 1
    [sid] = {_story_of(store, a) for a in ids}
    assert stage.flush() == 1 and stage.pending() == 0
    assert store.backlog()["stories_dirty"] == 1
    assert _drain(stage) == 1 and stage.briefs_written == 2
    assert len(store.brief_versions(sid)) == 2


def test_a_step_embeds_its_briefs_sentences_in_one_batch(store: Store, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The stage embeds the sentences of every brief a step writes in one call to the
    encoder before writing them (`StoryStage._embed_ahead`), and the story it stores is
    the one a stage that embeds brief by brief stores."""
    import breakingon.cluster.embed as embed_module

    ids = [
        _add(store, o, c, t, x, T0 + timedelta(minutes=10 * i))
        for i, (o, c, t, x) in enumerate(QUAKE)
    ]
    now = T0 + timedelta(minutes=40)
    _drain(ClusterStage(SETTINGS, store, "w1", clock=lambda: now))
    [sid] = {_story_of(store, a) for a in ids}
    real = embed_module.embed_texts
    calls: list[int] = []

    def counted(texts, *a, **k):  # type: ignore[no-untyped-def]
        calls.append(len(texts))
        return real(texts, *a, **k)

    monkeypatch.setattr(embed_module, "embed_texts", counted)
    ahead = StoryStage(SETTINGS, store, "w1", clock=lambda: now)
    assert ahead.step() == 1 and ahead.briefs_written == 1
    assert len(calls) == 1 and calls[0] > 10  # every sentence, in the one batch ahead
    batched = _saved(store, sid)[:2]
    calls.clear()
    one_by_one = StoryStage(SETTINGS, store, "w2", clock=lambda: now)
    monkeypatch.setattr(one_by_one, "_embed_ahead", lambda prepared: None)
    store.mark_stories_dirty([sid])
    assert one_by_one.step() == 1 and len(calls) == 1  # embedded inside the brief writer
    assert _saved(store, sid)[:2] == batched
