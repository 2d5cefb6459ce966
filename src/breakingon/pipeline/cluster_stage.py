"""The clustering stage: one leader at a time, its working set held in the store.

`ClusterStage` holds the online clusterer's working set in memory, rebuilt from the
store whenever this worker (re)takes the clustering lease, so a restart or another
worker rebuilds the same working set and makes the same decisions. Each batch of
decisions, the states of the stories that changed, the new members, any repair merges
and the set-wide state (document frequencies, the working-set head: counters, the
stories changed since the last repair pass, lead counts, matrix rows, live story ids)
commit in one transaction.

The document-frequency table (up to `max_vocabulary` terms, megabytes) is written in
full every `df_checkpoint_every` commits; the commits between write only its change
since the commit before (`cluster_doc_freq.delta.<k>`, k = 1, 2, ...), and a full write
deletes those deltas in its transaction. The head says how many deltas follow the full
copy, so a load applies them in order and gets exactly the table the last commit had.

Repair runs every `repair_every` articles exactly (a batch ends where the pass is due,
as in the batch entry point `cluster-file`, so both give the same stories), and when a
step finds nothing to cluster and articles were added since the last pass, so the
stories of a burst settle once it is over.

English articles' sections are read again here with the MiniLM vector the batch was
embedded with (`tag.sections.classify_many`: lexicons, the feed's section and the label
prototypes): the extraction workers that tag them at ingest load no encoder, and on
short items the lexicons alone are far weaker (docs/signals.md, "Sections"). The new
sections commit with the memberships.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from breakingon.cluster.clusterer import ClusterSettings, StoryClusterer, WorkingSetState
from breakingon.cluster.represent import ClusterInput, Representation, input_from_article, represent
from breakingon.cluster.state import (
    apply_df_delta,
    df_delta_from_text,
    df_delta_to_text,
    df_from_text,
    df_to_text,
    head_from_text,
    head_of,
    head_to_text,
    member_from_bytes,
    member_to_bytes,
    story_from_bytes,
    story_to_bytes,
)
from breakingon.ops.metrics import METRICS
from breakingon.records import Article
from breakingon.settings import Settings
from breakingon.store.base import ClusterStore, LeaseLost, Membership, StoryStateRow
from breakingon.tag.sections import LIVE_MIN_SCORE, classify_many

log = logging.getLogger("breakingon.process")

CLUSTER_LEASE = "cluster-leader"
DF_META = "cluster_doc_freq"
HEAD_META = "cluster_working_set"
DF_CHECKPOINT_EVERY = 20  # commits per full write of the document frequencies
FEED_CACHE_S = 300.0  # how long a feed's sections are taken as read


def df_delta_key(k: int) -> str:
    """The meta key of the k-th document-frequency delta after the full copy (k >= 1)."""
    return f"{DF_META}.delta.{k}"


def _now() -> datetime:
    return datetime.now(UTC)


class ClusterStage:
    """Assigns extracted articles to stories. Only the holder of the lease clusters."""

    def __init__(
        self,
        settings: Settings,
        store: ClusterStore,
        worker: str,
        cfg: ClusterSettings | None = None,
        clock: Callable[[], datetime] = _now,
        df_checkpoint_every: int = DF_CHECKPOINT_EVERY,
    ) -> None:
        self.settings = settings
        self.store = store
        self.worker = worker
        self.cfg = cfg or ClusterSettings()
        self.clock = clock
        self.df_checkpoint_every = max(1, df_checkpoint_every)
        self._clusterer: StoryClusterer | None = None
        self._df_deltas = 0  # deltas stored after the full document-frequency copy
        self._rate = 16.0  # articles/s the embedding step managed lately
        self._feed_sections: dict[int, tuple[str, ...]] = {}
        self._feeds_at = 0.0

    def _allocate(self) -> int:
        return self.store.new_story_id(self.clock())

    def load(self) -> None:
        """Rebuild the working set from the store, as the last leader left it.

        The stories and their members, the document frequencies and the head (see the
        module docstring) were committed together, so the rebuilt set is the one the last
        commit left. A store written before the head existed gives the stories active
        within two windows and fresh counters.
        """
        now = self.clock()
        since = now - timedelta(days=self.cfg.window_days * 2)
        head_text = self.store.get_meta(HEAD_META)
        head = head_from_text(head_text) if head_text else None
        if head is not None and head.oldest_last is not None:
            since = min(since, head.oldest_last)
        stories = [story_from_bytes(b) for _, b in self.store.load_story_states(since)]
        if head is not None:
            live = set(head.story_ids)
            stories = [s for s in stories if s.id in live]  # evicted ones stay out
            if len(stories) != len(live):
                log.warning("clusterer head lists %d stories, %d found", len(live), len(stories))
        # A member's story is the story that lists it (a merge moves members without
        # rewriting their own blobs).
        owner = {k: s.id for s in stories for k in s.members}
        keys = [int(k) for k in owner if k.isdigit()]
        members = [
            replace(m, story_id=owner[m.key])
            for m in (member_from_bytes(b) for _, b in self.store.load_cluster_members(keys))
            if m.key in owner
        ]
        doc_freq, n_docs = self._load_doc_freq(head.df_deltas if head is not None else 0)
        if head is None:
            state = WorkingSetState(
                stories=tuple(stories),
                members=tuple(members),
                doc_freq=doc_freq,
                n_docs=n_docs,
                newest=max((s.last for s in stories if s.last is not None), default=None),
            )
        else:
            state = WorkingSetState(
                stories=tuple(stories),
                members=tuple(members),
                doc_freq=doc_freq,
                n_docs=n_docs,
                newest=head.newest,
                added=head.added,
                dirty=head.dirty,
                leads=head.leads,
                since_repair=head.since_repair,
                capacity=head.capacity,
                free=head.free,
                last_id=head.last_id,
            )
        self._clusterer = StoryClusterer(self.cfg, allocate_id=self._allocate, state=state)
        log.info("clusterer loaded: %d stories, %d members", len(stories), len(members))

    def _load_doc_freq(self, deltas: int) -> tuple[tuple[tuple[str, int], ...], int]:
        """The full copy of the document frequencies with its `deltas` applied in order."""
        text = self.store.get_meta(DF_META)
        full, n_docs = df_from_text(text) if text else ((), 0)
        self._df_deltas = deltas
        if not deltas:
            return full, n_docs
        table = dict(full)
        for k in range(1, deltas + 1):
            delta_text = self.store.get_meta(df_delta_key(k))
            if delta_text is None:
                # Cannot happen with whole commits; if it does, the table is short of
                # some counts: go on with it and write it in full at the next commit.
                log.warning("document-frequency delta %d of %d is missing", k, deltas)
                self._df_deltas = self.df_checkpoint_every
                break
            n_docs = apply_df_delta(table, df_delta_from_text(delta_text))
        return tuple(table.items()), n_docs

    def release(self) -> None:
        """Hand the leader lease back (clean shutdown), so another worker takes over now."""
        self.store.release_lease(CLUSTER_LEASE, self.worker)

    def step(self, limit: int = 64) -> int:
        """Cluster one batch; return how many articles were assigned (0: idle or not leader).

        The slow part (embedding the batch) runs before the decisions; the lease is
        renewed between the two, the batch is sized to take a fraction of the lease,
        and the commit is fenced by the lease, so a slow leader never commits over a
        successor's work.
        """
        now = self.clock()
        held, fresh = self.store.try_lease(CLUSTER_LEASE, self.worker, now, self.settings.lease_s)
        if not held:
            return 0
        if fresh or self._clusterer is None:
            self.load()
        batch = max(4, min(limit, int(self._rate * self.settings.lease_s / 3)))
        cl = self._clusterer
        if cl is not None and self.cfg.repair_every > 0:
            # End the batch where the repair is due, so the pass runs every `repair_every`
            # articles exactly, as in the batch entry point (`cluster-file`).
            batch = max(1, min(batch, self.cfg.repair_every - cl.since_repair))
        articles = self.store.claim_articles(
            "extracted", self.worker, now, batch, self.settings.lease_s
        )
        if not articles:
            self._repair_when_idle()
            return 0
        started = time.perf_counter()
        articles.sort(key=lambda a: (a.published, a.id or 0))
        inputs = [input_from_article(a) for a in articles]
        reps = represent(inputs)
        took = max(1e-3, time.perf_counter() - started)
        self._rate = 0.5 * self._rate + 0.5 * (len(inputs) / took)
        held, fresh = self.store.try_lease(
            CLUSTER_LEASE, self.worker, self.clock(), self.settings.lease_s
        )
        if not held:
            self._clusterer = None
            return 0
        if fresh or self._clusterer is None:
            self.load()  # someone else may have led meanwhile: decide on the stored truth
        try:
            return self._decide_and_commit(articles, inputs, reps, started)
        except Exception:
            self._clusterer = None  # memory may be ahead of the store: rebuild next time
            raise

    def _repair_when_idle(self) -> None:
        """Nothing to cluster: repair once if articles were added since the last pass
        (the lease is held), so a burst's last articles are repaired too."""
        cl = self._clusterer
        if cl is None or self.cfg.repair_every <= 0 or cl.since_repair == 0:
            return
        memberships: list[Membership] = []
        touched: set[int] = set()
        merges: list[tuple[int, int]] = []
        try:
            self._repair(cl, memberships, touched, merges)
            if self._commit(cl, memberships, touched, merges, 0):
                log.info("idle repair: %d merges, %d articles moved", len(merges), len(memberships))
        except Exception:
            self._clusterer = None  # memory may be ahead of the store: rebuild next time
            raise

    def _repair(
        self,
        cl: StoryClusterer,
        memberships: list[Membership],
        touched: set[int],
        merges: list[tuple[int, int]],
    ) -> None:
        """Run a repair pass; add its moves, merges and touched stories to the commit."""
        result = cl.repair()
        merges.extend(result.merges)
        for key, sid in result.moved:
            if key.isdigit():
                memberships.append(Membership(int(key), sid, 0.0, "moved: repair split"))
            touched.add(sid)
        touched.update(sid for pair in result.splits for sid in pair)
        touched.update(dst for _, dst in result.merges)
        touched.update(src for src, _ in result.merges)

    def _feed_hint(self, feed_id: int | None) -> tuple[str, ...]:
        """A feed's own sections (the classifier's strongest prior), cached a while."""
        if feed_id is None:
            return ()
        if time.monotonic() - self._feeds_at > FEED_CACHE_S:
            self._feed_sections.clear()
            self._feeds_at = time.monotonic()
        if feed_id not in self._feed_sections:
            feed = self.store.get_feed(feed_id)
            self._feed_sections[feed_id] = feed.sections if feed is not None else ()
        return self._feed_sections[feed_id]

    def _sections(
        self, articles: list[Article], reps: list[Representation]
    ) -> dict[int, tuple[str, ...]]:
        """English news articles' sections read with their MiniLM vectors, by article
        id, where they differ from the ingest's (none when no section fits)."""
        picked = [
            (a, r) for a, r in zip(articles, reps, strict=True) if r.english and not a.page_kind
        ]
        if not picked:
            return {}
        results = classify_many(
            [(a.title, a.text, self._feed_hint(a.feed_id)) for a, _ in picked],
            np.stack([r.vector for _, r in picked]),
            languages=["en"] * len(picked),
            min_score=LIVE_MIN_SCORE,
        )
        return {
            a.id: res.labels
            for (a, _), res in zip(picked, results, strict=True)
            if a.id is not None and res.labels != a.sections
        }

    def _decide_and_commit(
        self,
        articles: list[Article],
        inputs: list[ClusterInput],
        reps: list[Representation],
        started: float,
    ) -> int:
        cl = self._clusterer
        assert cl is not None
        memberships: list[Membership] = []
        touched: set[int] = set()
        sections = self._sections(articles, reps)
        for item, rep in zip(inputs, reps, strict=True):
            d = cl.add(rep, item.published, item.outlet, item.duplicate_of)
            key = int(item.key)
            memberships.append(
                Membership(key, d.story_id, d.score, d.reason, sections=sections.get(key))
            )
            touched.add(d.story_id)
        merges: list[tuple[int, int]] = []
        if self.cfg.repair_every > 0 and cl.since_repair >= self.cfg.repair_every:
            self._repair(cl, memberships, touched, merges)
        if not self._commit(cl, memberships, touched, merges, len(articles)):
            return 0
        METRICS.articles_clustered.inc(len(articles))
        METRICS.stage_seconds.labels(stage="cluster").observe(time.perf_counter() - started)
        return len(articles)

    def _set_meta(
        self, cl: StoryClusterer, state: WorkingSetState, full: bool
    ) -> tuple[list[tuple[str, str | None]], int]:
        """The set-wide meta rows of a commit, and the deltas stored after it.

        `full`: write the whole document-frequency table (`state` carries it) and delete
        the deltas; else write its change since the last commit as the next delta.
        """
        delta = cl.take_doc_freq_delta()  # taken on a full write too: the next starts there
        meta: list[tuple[str, str | None]] = []
        if full:
            meta.append((DF_META, df_to_text(state.doc_freq, state.n_docs)))
            meta.extend((df_delta_key(k), None) for k in range(1, self._df_deltas + 1))
            deltas = 0
        else:
            deltas = self._df_deltas + 1
            meta.append((df_delta_key(deltas), df_delta_to_text(delta)))
        meta.append((HEAD_META, head_to_text(head_of(state, df_deltas=deltas))))
        return meta, deltas

    def _commit(
        self,
        cl: StoryClusterer,
        memberships: list[Membership],
        touched: set[int],
        merges: list[tuple[int, int]],
        n_articles: int,
    ) -> bool:
        """Commit the working set's change (fenced by the lease); False: lease lost."""
        full = self._df_deltas + 1 >= self.df_checkpoint_every
        state = cl.export_state(doc_freq=full)
        # Every story that changed in any way (joins, repairs, refreshed norms, members
        # aged out of the window), so the stored set is the one in memory.
        changed = cl.take_changed() | touched
        rows = [
            StoryStateRow(s.id, story_to_bytes(s), s.first, s.last)
            for s in state.stories
            if s.id in changed
        ]
        new_keys = {m.article_id for m in memberships}
        member_rows = [
            (int(m.key), member_to_bytes(m))
            for m in state.members
            if m.key.isdigit() and int(m.key) in new_keys
        ]
        meta, deltas = self._set_meta(cl, state, full)
        try:
            self.store.save_clustering(
                memberships,
                rows,
                merges,
                self.clock(),
                members=member_rows,
                lease=(CLUSTER_LEASE, self.worker),
                meta=meta,
            )
        except LeaseLost:
            # Another worker took over while this batch ran: its working set is the
            # truth now. Drop ours; the articles' leases expire and they are redone.
            log.warning("clustering lease lost mid-batch; discarding %d decisions", n_articles)
            self._clusterer = None
            return False
        self._df_deltas = deltas
        return True
