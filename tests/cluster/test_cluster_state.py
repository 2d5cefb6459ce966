"""The whole working set survives export/import and a change of clustering leader.

(a) pure: a clusterer exported part-way and imported into a fresh one makes the same
decisions and repairs as the one that ran on, across repair passes and evictions.
(b) the pipeline: a new `ClusterStage` that loads from the store after another leader
clustered part of a stream ends with the story memberships of one uninterrupted run.
(c) the document frequencies, stored as a full copy and the deltas after it, load as
exactly the leader's table (across full writes and the vocabulary cap); old stores load.
(d) a stage repairs once when a burst is over, not again while idle.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from breakingon.cluster.clusterer import (
    ClusterSettings,
    Decision,
    DocFreqDelta,
    RepairResult,
    StoryClusterer,
    StoryState,
)
from breakingon.cluster.represent import Representation
from breakingon.cluster.state import (
    WorkingSetHead,
    apply_df_delta,
    df_delta_from_text,
    df_delta_to_text,
    df_to_text,
    head_from_text,
    head_to_text,
    story_from_bytes,
    story_to_bytes,
)
from breakingon.pipeline.cluster_stage import DF_META, HEAD_META, ClusterStage, df_delta_key
from breakingon.records import Article, Feed
from breakingon.settings import Settings
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import Store
from breakingon.store.base import FeedUpdate

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)

# Small cadences so a short stream crosses evictions and repair passes. A strict join
# leaves one event in several stories (the repair merges them); joining everything
# makes stories the repair splits.
BASE = ClusterSettings(evict_every=5, repair_every=7, window_days=1.0, boilerplate_repeats=3)
MERGING = replace(BASE, join_threshold=0.8, join_floor=0.8)
SPLITTING = replace(BASE, join_threshold=-10.0)


def _stream(n: int) -> list[tuple[Representation, datetime]]:
    """Reports of a few events (close vectors, shared names) and some template text."""
    rng = np.random.default_rng(3)
    events = [rng.standard_normal(384) for _ in range(6)]
    out = []
    for i in range(n):
        e = i % 6 if i % 5 else (i // 5) % 6  # uneven event sizes
        v = events[e] + 0.6 * rng.standard_normal(384)
        v = (v / np.linalg.norm(v)).astype(np.float32)
        v.setflags(write=False)
        terms = (("storm", 1), (f"ev{e}", 2), (f"w{i}", 1))
        ents = (f"e:place{e}", f"#{e + 10}")
        lead = "same-opening" if i % 9 == 4 else ""  # a template seen again and again
        out.append((Representation(f"k{i}", v, terms, ents, lead), T0 + timedelta(hours=2 * i)))
    return out


def _feed(
    cl: StoryClusterer, items: list[tuple[Representation, datetime]]
) -> list[Decision | RepairResult]:
    trail: list[Decision | RepairResult] = []
    for rep, when in items:
        trail.append(cl.add(rep, when, outlet=f"o{int(rep.key[1:]) % 4}"))
        if cl.since_repair >= cl.settings.repair_every:
            trail.append(cl.repair())
    return trail


@pytest.mark.parametrize("cut", [3, 17, 30])
@pytest.mark.parametrize(("cfg", "repair"), [(MERGING, "merges"), (SPLITTING, "splits")])
def test_an_imported_working_set_decides_and_repairs_like_the_original(
    cut: int, cfg: ClusterSettings, repair: str
) -> None:
    stream = _stream(48)
    whole = StoryClusterer(cfg)
    expected = _feed(whole, stream)
    first = StoryClusterer(cfg)
    head = _feed(first, stream[:cut])
    state = first.export_state()
    # A fresh clusterer (default allocator, as the exporter had) from the state alone.
    restored = StoryClusterer(cfg, state=state)
    assert restored.export_state() == state
    assert head + _feed(restored, stream[cut:]) == expected
    assert restored.export_state() == whole.export_state()
    assert any(isinstance(t, RepairResult) and getattr(t, repair) for t in expected[cut:])
    assert any(isinstance(t, Decision) and "template" in t.reason for t in expected)


def test_story_blobs_keep_norm_age_and_row_and_old_blobs_still_decode() -> None:
    story = StoryState(
        id=3,
        vector_sum=np.ones(384, dtype="<f4").tobytes(),
        count=2,
        first=T0,
        last=T0,
        terms=(("storm", 2.0),),
        entities=(("e:place", 2.0),),
        outlets=("o1",),
        members=("1", "2"),
        term_norm=1.5,
        entity_norm=1.2,
        norm_docs=40,
        slot=5,
    )
    assert story_from_bytes(story_to_bytes(story)) == story
    old = json.loads(zlib.decompress(story_to_bytes(story)))
    del old["nd"], old["slot"]
    blob = zlib.compress(json.dumps(old).encode("utf-8"))
    assert story_from_bytes(blob) == replace(story, norm_docs=0, slot=-1)


# ----- (b) a new leader over a real store ------------------------------------------------

EVENTS = [
    ("Izmir", "earthquake", "Kosger", "rescuers searched collapsed buildings"),
    ("Boston", "fraud trial", "Hale", "jurors heard from the bank's auditors"),
    ("Lagos", "flood", "Sanwo-Olu", "families waited on rooftops for boats"),
    ("Osaka", "train crash", "Yamamoto", "investigators examined the signals"),
]
TEMPLATE = (  # one opening of more than 40 words: a lead fingerprint shared by every copy
    "Members of the regional council met on the first floor of the old town hall on "
    "Monday evening to hear the budget committee present its plans for the coming year, "
    "including new bus routes, a second library branch, repairs to the river path and "
    "longer opening hours at the public pool in the summer months."
)


def _articles() -> list[tuple[str, str, str, datetime]]:
    """(outlet, title, text, published): four events told by three outlets, a template."""
    out = []
    for i in range(30):
        if i % 8 == 5:
            out.append(("Town Crier", f"Council notes {i}", f"{TEMPLATE} Item {i}.", T0))
            continue
        place, kind, name, detail = EVENTS[i % 4]
        outlet = ("Daily Planet", "Le Quotidien", "Rhein Zeitung")[i % 3]
        title = f"{kind.capitalize()} in {place}: update {i // 4}"
        text = (
            f"The {kind} in {place} dominated the day as officials gave an update. {name} said "
            f"that {detail}, and that more would be known by evening. Report {i} from {outlet}."
        )
        out.append((outlet, title, text, T0 + timedelta(minutes=20 * i)))
    return out


def _fill(store: Store) -> list[int]:
    ids = []
    for n, (outlet, title, text, at) in enumerate(_articles()):
        url = f"https://{outlet.lower().replace(' ', '')}.example/feed"
        feed, _ = store.add_feed(Feed(url=url, outlet=outlet, country="US"), feed_url_key(url))
        assert feed.id is not None
        art = Article(
            url=f"https://{outlet.lower().replace(' ', '')}.example/a{n}",
            title=title,
            text=text,
            published=at,
            item_key=f"a{n}",
            language="en",
        )
        update = FeedUpdate(
            checked_at=at,
            next_check_at=at + timedelta(minutes=15),
            interval_s=900,
            error_count=0,
            success=True,
        )
        ids.extend(store.save_feed_check(feed.id, update, [art], "extracted"))
    return ids


def _memberships(store: Store, ids: list[int]) -> list[int | None]:
    return [a.story_id if (a := store.get_article(i)) else None for i in ids]


def _stage(store: Store, worker: str, at: datetime) -> ClusterStage:
    cfg = ClusterSettings(repair_every=6, evict_every=5, boilerplate_repeats=3)
    return ClusterStage(Settings(lease_s=60), store, worker, cfg=cfg, clock=lambda: at)


def test_a_new_leader_continues_like_one_uninterrupted_run(
    store: Store, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from breakingon.store import open_store

    end = T0 + timedelta(hours=12)
    reference = open_store(f"sqlite:///{tmp_path_factory.mktemp('ref') / 'ref.sqlite'}")
    try:
        ref_ids = _fill(reference)
        one = _stage(reference, "w1", end)
        while one.step(limit=4) > 0:
            pass
        expected = _memberships(reference, ref_ids)
    finally:
        reference.close()

    ids = _fill(store)
    leader = _stage(store, "w1", end)
    done = 0
    while done < 12:  # 12 articles (past two repair passes), then w1 dies holding the lease
        n = leader.step(limit=4)
        assert 0 < n <= 4  # a batch ends where a repair pass is due (every 6)
        done += n
    assert done == 12
    successor = _stage(store, "w2", end + timedelta(minutes=5))  # after w1's lease ran out
    while successor.step(limit=4) > 0:
        pass
    assert [i - ids[0] for i in ids] == [i - ref_ids[0] for i in ref_ids]
    got = _memberships(store, ids)
    assert None not in got
    assert got == expected


# ----- the document frequencies: a full copy every few commits, deltas between -------------


def test_a_delta_applied_to_the_last_table_gives_the_new_one_across_a_vocabulary_cap() -> None:
    cl = StoryClusterer(replace(BASE, max_vocabulary=12))
    stream = _stream(40)
    table: dict[str, int] = {}
    n_docs = 0
    pruned = False
    for lo in range(0, 40, 6):
        for rep, when in stream[lo : lo + 6]:
            cl.add(rep, when)
        delta = cl.take_doc_freq_delta()
        pruned = pruned or bool(delta.dropped)
        n_docs = apply_df_delta(table, df_delta_from_text(df_delta_to_text(delta)))
        assert table == dict(cl.ws.df)
        assert n_docs == cl.ws.n_docs
    assert pruned  # the cap dropped terms that an earlier delta had written
    assert cl.take_doc_freq_delta() == DocFreqDelta(n_docs=cl.ws.n_docs)  # nothing since


def _df_stage(store: Store, worker: str, every: int) -> ClusterStage:
    cfg = ClusterSettings(repair_every=6, evict_every=5, boilerplate_repeats=3, max_vocabulary=60)
    return ClusterStage(
        Settings(lease_s=60), store, worker, cfg=cfg, clock=lambda: T0, df_checkpoint_every=every
    )


def test_the_stored_doc_freqs_are_the_leaders_after_every_commit(store: Store) -> None:
    _fill(store)
    leader = _df_stage(store, "w1", every=3)
    deltas_seen: list[int] = []
    dropped = False
    while leader.step(limit=4) > 0:
        cl = leader._clusterer
        assert cl is not None
        head_text = store.get_meta(HEAD_META)
        assert head_text is not None
        k = head_from_text(head_text).df_deltas
        deltas_seen.append(k)
        for j in range(1, 3):  # the deltas the head names exist, the older ones are gone
            text = store.get_meta(df_delta_key(j))
            assert (text is not None) == (j <= k)
            dropped = dropped or bool(text and df_delta_from_text(text).dropped)
        # What a new leader loads is the table in the leader's memory, exactly.
        reader = _df_stage(store, "reader", every=3)
        reader.load()
        assert reader._clusterer is not None
        assert dict(reader._clusterer.ws.df) == dict(cl.ws.df)
        assert reader._clusterer.ws.n_docs == cl.ws.n_docs
    assert deltas_seen[:4] == [1, 2, 0, 1]  # across full writes
    assert dropped  # and across the vocabulary cap


def test_a_store_with_only_the_full_doc_freqs_still_loads(store: Store) -> None:
    table = (("quake", 3), ("storm", 1))
    store.set_meta(DF_META, df_to_text(table, 7))
    stage = _df_stage(store, "w1", every=3)
    stage.load()
    assert stage._clusterer is not None
    assert dict(stage._clusterer.ws.df) == dict(table)
    assert stage._clusterer.ws.n_docs == 7
    old_head = json.loads(zlib.decompress(base64.b64decode(head_to_text(_head()))))
    del old_head["df_deltas"]  # a head written before the deltas
    text = base64.b64encode(zlib.compress(json.dumps(old_head).encode("utf-8"))).decode("ascii")
    assert head_from_text(text) == _head()


def _head() -> WorkingSetHead:
    return WorkingSetHead((1, 2), T0, 5, 2, (2,), (("x", 1),), 64, (3,), 2, T0)


# ----- repair once a burst is over ----------------------------------------------------------


def test_a_stage_repairs_once_when_its_burst_is_over_and_not_again_while_idle(
    store: Store,
) -> None:
    ids = _fill(store)
    # A strict join leaves each event in several stories; repair_every is never reached.
    cfg = replace(MERGING, repair_every=1000, window_days=7.0)
    stage = ClusterStage(Settings(lease_s=60), store, "w1", cfg=cfg, clock=lambda: T0)
    assert stage.step(limit=4) == 4
    cl = stage._clusterer
    assert cl is not None
    passes: list[RepairResult] = []
    run = cl.repair

    def counted() -> RepairResult:
        passes.append(run())
        return passes[-1]

    cl.repair = counted  # type: ignore[method-assign]
    while stage.step(limit=4) > 0:
        assert stage._clusterer is cl
    assert len(passes) == 1  # the step that found nothing to cluster repaired
    assert passes[0].merges
    assert cl.since_repair == 0
    for _ in range(3):
        assert stage.step(limit=4) == 0
    assert len(passes) == 1  # idle and nothing new: no second pass
    # The repair was committed: the store holds the repaired stories and the counter.
    got = _memberships(store, ids)
    assert got == [cl.story_of(str(i)) for i in ids]
    merged = {src for src, _ in passes[0].merges}
    assert not merged & set(got)
    head_text = store.get_meta(HEAD_META)
    assert head_text is not None and head_from_text(head_text).since_repair == 0
