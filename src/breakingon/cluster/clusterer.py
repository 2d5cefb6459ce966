"""Online clustering of articles into stories (events), with a periodic repair pass.

`StoryClusterer` holds a bounded WORKING SET of recent stories (`WorkingSet`: unit
centroid vectors in one matrix, summed word and entity weights, first/last time, members
and outlets, the online IDF). Each new article is scored against the whole of each
candidate story (centroid cosine + TF-IDF cosine with an online IDF + entity cosine - a
time penalty) and joins the best one at or above `join_threshold`, or starts a new story
with an id from the injected allocator. Stories not updated within `window_days` of the
newest article are evicted, so cost per article stays flat as the archive grows and old
stories are not revived. The working set exports to / imports from plain frozen records
(`WorkingSetState`), so the pipeline can persist it and a restart or a second worker sees
the same stories and makes the same decisions. `repair()` hands the working set to
`RepairPasses` (`breakingon.cluster.repair`), which merges stories that turned out to be
one (the older id is kept) and splits stories that drifted (the larger part keeps the
id). Deterministic. The clusterer is composed of the two: this module holds the join
decision, eviction and the state export and import.

Pure stage: no store, no network, no web. Representations come from `represent`.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from breakingon.cluster.records import (
    Decision,
    DocFreqDelta,
    MemberState,
    RepairResult,
    StoryState,
    WorkingSetState,
)
from breakingon.cluster.repair import RepairPasses
from breakingon.cluster.represent import Representation
from breakingon.cluster.workingset import (
    DIM,
    ClusterSettings,
    Member,
    Story,
    WorkingSet,
    gap_days,
    join_score,
    one_blas_thread,
    tf,
    unit,
)

__all__ = [
    "ClusterSettings",
    "Decision",
    "DocFreqDelta",
    "MemberState",
    "RepairResult",
    "StoryClusterer",
    "StoryState",
    "WorkingSetState",
]


def _counter(start: int) -> Callable[[], int]:
    it = itertools.count(start)
    return lambda: next(it)


class StoryClusterer:
    """The online clusterer. Not thread-safe: one writer feeds it, in order.

    Composed of a `WorkingSet` (`self.ws`) and the `RepairPasses` over it.
    """

    def __init__(
        self,
        settings: ClusterSettings | None = None,
        allocate_id: Callable[[], int] | None = None,
        state: WorkingSetState | None = None,
    ) -> None:
        self.ws = WorkingSet(
            settings,
            allocate_id
            or _counter(
                1 + max(state.last_id, max((st.id for st in state.stories), default=0))
                if state is not None
                else 1
            ),
        )
        self.settings = self.ws.settings
        self._repair = RepairPasses(self.ws)
        self._newest: datetime | None = None
        self._added = 0
        self._since_repair = 0  # articles added since the last repair pass
        self._leads: Counter[str] = Counter()
        if state is not None:
            self._load(state)

    # ----- public API -------------------------------------------------------------
    @property
    def story_count(self) -> int:
        return len(self.ws.stories)

    @property
    def member_count(self) -> int:
        return len(self.ws.members)

    @property
    def since_repair(self) -> int:
        """Articles added since the last repair pass (callers repair on a cadence)."""
        return self._since_repair

    def take_changed(self) -> set[int]:
        """Ids of the stories changed in any way since the last call (for a caller that
        persists the working set: it writes those), and reset."""
        return self.ws.take_changed()

    def take_doc_freq_delta(self) -> DocFreqDelta:
        """How the document frequencies changed since the last call or the import (for
        a caller that persists the table as a full copy and deltas), and reset."""
        return self.ws.take_df_delta()

    def story_of(self, key: str) -> int | None:
        """The story of an article still in the working set, else None."""
        m = self.ws.members.get(key)
        return None if m is None else m.story_id

    def add(
        self,
        rep: Representation,
        published: datetime | None = None,
        outlet: str = "",
        duplicate_of: str | None = None,
    ) -> Decision:
        """Assign one article to a story (joining or starting one) and return why."""
        s = self.settings
        when = published if published is not None else self._newest
        if when is not None and (self._newest is None or when > self._newest):
            self._newest = when
        self.ws.count_doc(rep)
        self._added += 1
        self._since_repair += 1
        if self._added % s.evict_every == 0:
            self.evict()

        if rep.key in self.ws.members:  # already clustered: idempotent
            sid = self.ws.members[rep.key].story_id
            return Decision(rep.key, sid, False, 1.0, "joined: article already clustered")

        if duplicate_of is not None and duplicate_of in self.ws.members:
            sid = self.ws.members[duplicate_of].story_id
            self._join(sid, rep, when, outlet)
            return Decision(rep.key, sid, False, 1.0, f"joined: syndicated copy of {duplicate_of}")

        seen = self._count_lead(rep.lead)
        if seen >= s.boilerplate_repeats or rep.non_article:
            sid = self._new_story(rep, when, outlet)
            self.ws.stories[sid].template = True
            reason = (
                f"new: not an article ({rep.non_article}), kept apart"
                if rep.non_article
                else f"new: template text (same opening seen {seen} times), kept apart"
            )
            return Decision(rep.key, sid, True, 0.0, reason)

        best, runner_up = self._best_candidate(rep, when)
        if best is not None:
            score, sid, emb, lex, ent, shared = best
            sure = score >= s.join_threshold
            clear = (
                score >= s.join_floor
                and score - runner_up >= s.join_margin
                and len(self.ws.stories) > s.margin_min_stories
            )
            if sure or clear:
                self._join(sid, rep, when, outlet)
                names = ", ".join(shared) if shared else "none"
                rule = (
                    f">= {s.join_threshold:.2f}"
                    if sure
                    else f">= {s.join_floor:.2f}, {score - runner_up:.2f} ahead of the next story"
                )
                reason = (
                    f"joined: score {score:.2f} {rule} (cosine {emb:.2f} to centroid, "
                    f"words {lex:.2f}, entities {ent:.2f}: {names})"
                )
                return Decision(rep.key, sid, False, round(score, 4), reason)
        sid = self._new_story(rep, when, outlet)
        if best is None:
            return Decision(rep.key, sid, True, 0.0, "new: no candidate story in the window")
        reason = (
            f"new: best candidate story {best[1]} scored {best[0]:.2f} < {s.join_threshold:.2f}"
            f" (cosine {best[2]:.2f}, words {best[3]:.2f}, entities {best[4]:.2f})"
        )
        return Decision(rep.key, sid, True, round(best[0], 4), reason)

    def pair_score(self, a: Representation, b: Representation) -> float:
        """The score `b` gets against a story of `a` alone: the join decision's score
        (same signals, weights and online IDF; no time gap), for `breakingon pair-score`.
        Changes nothing in the working set."""
        if a.english and b.english:
            emb = float(np.dot(a.vector, b.vector))
        else:
            emb = float(np.dot(self.ws.x_of(a), self.ws.x_of(b)))
        a_terms = {t: tf(c) for t, c in a.terms}
        b_terms = {t: tf(c) for t, c in b.terms}
        lex = self.ws.cosine(b_terms, a_terms)
        ent = self.ws.cosine(dict.fromkeys(b.entities, 1.0), dict.fromkeys(a.entities, 1.0))
        share = 1.0 if a.language == b.language else 0.0
        return join_score(self.settings, emb, lex, ent, share, 0.0)

    def count_documents(self, reps: Sequence[Representation]) -> None:
        """Count articles into the online document frequencies without clustering them
        (a batch scorer learns its IDF from the whole file first)."""
        for rep in reps:
            self.ws.count_doc(rep)

    def repair(self) -> RepairResult:
        """Merge stories that are one event, then split stories that drifted.

        Merges keep the older story's id (earliest first report, then lowest id); a split
        keeps the id on the larger part and gives the far part a new id.
        """
        self._since_repair = 0
        return self._repair.run()

    def export_state(self, doc_freq: bool = True) -> WorkingSetState:
        """The whole working set as plain records (sorted, so it is deterministic).

        With `doc_freq=False` the document-frequency table is left out (empty; `n_docs`
        is kept): for a caller that persists it as a delta and need not copy and sort
        the whole vocabulary.
        """
        stories = tuple(
            StoryState(
                id=st.id,
                vector_sum=st.vector_sum.astype("<f4").tobytes(),
                count=st.count,
                first=st.first,
                last=st.last,
                terms=tuple(st.terms.items()),
                entities=tuple(st.entities.items()),
                outlets=tuple(st.outlets),
                members=tuple(st.members),
                term_norm=st.term_norm,
                entity_norm=st.entity_norm,
                norm_docs=st.norm_docs,
                template=st.template,
                slot=st.slot,
                xvector_sum=st.xvector_sum.astype("<f4").tobytes(),
                languages=tuple(sorted(st.languages.items())),
            )
            for st in sorted(self.ws.stories.values(), key=lambda x: x.id)
        )
        members = tuple(
            MemberState(
                key=m.key,
                story_id=m.story_id,
                vector=m.vector.astype("<f4").tobytes(),
                terms=m.terms,
                entities=m.entities,
                published=m.published,
                outlet=m.outlet,
                xvector=m.xvector.astype("<f4").tobytes(),
                language=m.language,
            )
            for m in self.ws.members.values()
        )
        return WorkingSetState(
            stories=stories,
            members=members,
            doc_freq=tuple(sorted(self.ws.df.items())) if doc_freq else (),
            n_docs=self.ws.n_docs,
            newest=self._newest,
            added=self._added,
            dirty=tuple(sorted(self.ws.dirty)),
            leads=tuple(sorted(self._leads.items())),
            since_repair=self._since_repair,
            capacity=int(self.ws.unit_rows.shape[0]),
            free=tuple(self.ws.free),
            last_id=self.ws.last_id,
        )

    # ----- deciding ---------------------------------------------------------------
    def _count_lead(self, lead: str) -> int:
        if not lead:
            return 0
        self._leads[lead] += 1
        if len(self._leads) > self.settings.max_vocabulary:
            for k in [k for k, c in self._leads.items() if c <= 1]:
                del self._leads[k]
        return self._leads[lead]

    def _shared_entities(self, a: Mapping[str, float], b: Mapping[str, float]) -> list[str]:
        shared = sorted(
            ((self.ws.idf(e) * b[e], e) for e in a if e in b), key=lambda x: (-x[0], x[1])
        )
        return [e[2:].title() if e.startswith("e:") else e[1:] for _, e in shared[:3]]

    def _best_candidate(
        self, rep: Representation, when: datetime | None
    ) -> tuple[tuple[float, int, float, float, float, list[str]] | None, float]:
        """The best story (score, id, cosine, words, entities, shared names) and the
        runner-up's score (0.0 when there is none)."""
        if not self.ws.stories:
            return None, 0.0
        s = self.settings
        with one_blas_thread():
            cos = self.ws.cosines(rep)
        live = self.ws.live_slots()
        k = min(s.top_k, live.size)
        order = live[np.argpartition(-cos[live], k - 1)[:k]] if k < live.size else live
        best: tuple[float, int, float, float, float, list[str]] | None = None
        a_terms = {t: tf(c) for t, c in rep.terms}
        a_ents = dict.fromkeys(rep.entities, 1.0)
        a_terms_n, a_ents_n = self.ws.norm(a_terms), self.ws.norm(a_ents)
        runner_up = 0.0
        for slot in order:
            sid = int(self.ws.slot_story[slot])
            st = self.ws.stories[sid]
            if st.template:
                continue  # template text is not news: nothing joins it
            if st.norm_docs * 1.1 < self.ws.n_docs:
                # The IDF moved >10% in document count since the norms were computed:
                # refresh (amortized O(log N) times per story, so cost stays flat).
                self.ws.refresh_norms(st)
            emb = float(cos[slot])
            lex = self.ws.cosine(a_terms, st.terms, st.term_norm, a_terms_n)
            ent = self.ws.cosine(a_ents, st.entities, st.entity_norm, a_ents_n)
            score = join_score(s, emb, lex, ent, st.share(rep.language), gap_days(when, st.last))
            if best is None or (score, -sid) > (best[0], -best[1]):
                if best is not None:
                    runner_up = max(runner_up, best[0])
                best = (score, sid, emb, lex, ent, [])
            else:
                runner_up = max(runner_up, score)
        if best is not None:
            best[5].extend(self._shared_entities(a_ents, self.ws.stories[best[1]].entities))
        return best, runner_up

    # ----- the add path -------------------------------------------------------------
    def _member(self, rep: Representation, sid: int, when: datetime | None, outlet: str) -> Member:
        return Member(
            rep.key,
            sid,
            rep.vector,
            rep.terms,
            rep.entities,
            when,
            outlet,
            self.ws.x_of(rep),
            rep.language,
        )

    def _new_story(self, rep: Representation, when: datetime | None, outlet: str) -> int:
        sid = self.ws.open_story(when, when).id
        self._join(sid, rep, when, outlet)
        return sid

    def _join(self, sid: int, rep: Representation, when: datetime | None, outlet: str) -> None:
        st = self.ws.stories[sid]
        self.ws.dirty.add(sid)
        m = self._member(rep, sid, when, outlet)
        self.ws.members[rep.key] = m
        st.members[rep.key] = None
        st.count += 1
        if outlet:
            st.outlets[outlet] = None
        if when is not None:
            st.first = when if st.first is None or when < st.first else st.first
            st.last = when if st.last is None or when > st.last else st.last
        self.ws.add_stats(st, m)
        self.ws.refresh_row(st)

    def evict(self) -> None:
        """Drop stories idle past the window (and members older than it); cap the set.

        Runs every `evict_every` adds; the pipeline may also call it after loading state.
        """
        s = self.settings
        if self._newest is not None:
            horizon = self._newest - timedelta(days=s.window_days)
            old = [
                st.id
                for st in self.ws.stories.values()
                if st.last is not None and st.last < horizon
            ]
            for sid in old:
                self.ws.drop_story(sid)
            stale = [
                m.key
                for m in self.ws.members.values()
                if m.published is not None and m.published < horizon
            ]
            for key in stale:
                self.ws.drop_member(key)
        excess = len(self.ws.stories) - s.max_stories
        if excess > 0:
            floor = datetime.min.replace(tzinfo=None)

            def idle_key(st: Story) -> tuple[float, int]:
                last = st.last.replace(tzinfo=None) if st.last is not None else floor
                return ((last - floor).total_seconds(), st.id)

            for st in heapq.nsmallest(excess, self.ws.stories.values(), key=idle_key):
                self.ws.drop_story(st.id)

    def _load(self, state: WorkingSetState) -> None:
        self.ws.df = Counter(dict(state.doc_freq))
        self.ws.n_docs = state.n_docs
        self.ws.df_touched = set()
        self._newest = state.newest
        self._added = state.added
        self.ws.dirty = set(state.dirty)
        self._leads = Counter(dict(state.leads))
        self._since_repair = state.since_repair
        ws = self.ws
        ws.last_id = max(state.last_id, max((ss.id for ss in state.stories), default=0))
        layout = _has_row_layout(state)
        if layout:  # the exporter's matrix rows: the same rows, the same products
            ws.unit_rows = np.zeros((state.capacity, DIM), dtype=np.float32)
            ws.xunit_rows = np.zeros((state.capacity, DIM), dtype=np.float32)
            ws.english_rows = np.zeros(state.capacity, dtype=bool)
            ws.slot_story = np.full(state.capacity, -1, dtype=np.int64)
            ws.free = list(state.free)
        for ss in state.stories:
            st = Story(
                ss.id,
                ss.slot if layout else ws.take_slot(),
                np.frombuffer(ss.vector_sum, dtype="<f4").astype(np.float32),
                ss.count,
                ss.first,
                ss.last,
                dict(ss.terms),
                dict(ss.entities),
                dict.fromkeys(ss.outlets),
                dict.fromkeys(ss.members),
                ss.term_norm,
                ss.entity_norm,
                ss.norm_docs,
                ss.template,
                _vector(ss.xvector_sum),
                # A story saved before languages were kept was compared with MiniLM.
                dict(ss.languages) if ss.languages else {"en": ss.count},
            )
            self.ws.stories[st.id] = st
            self.ws.slot_story[st.slot] = st.id
            self.ws.unit_rows[st.slot] = unit(st.vector_sum)  # norms come from the state
            self.ws.xunit_rows[st.slot] = unit(st.xvector_sum)
            self.ws.english_rows[st.slot] = st.english
        for ms in state.members:
            vec = np.frombuffer(ms.vector, dtype="<f4").astype(np.float32)
            vec.setflags(write=False)
            xvec = _vector(ms.xvector)
            xvec.setflags(write=False)
            self.ws.members[ms.key] = Member(
                ms.key,
                ms.story_id,
                vec,
                ms.terms,
                ms.entities,
                ms.published,
                ms.outlet,
                xvec,
                ms.language,
            )


def _vector(raw: bytes) -> npt.NDArray[np.float32]:
    """A persisted float32 vector; zeros for a record written before it existed."""
    if not raw:
        return np.zeros(DIM, dtype=np.float32)
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def _has_row_layout(state: WorkingSetState) -> bool:
    """Whether the state carries a whole, consistent matrix row layout (every story its
    own row, the free rows the rest; else rows are assigned afresh, as for old states)."""
    if state.capacity <= 0:
        return False
    rows = [ss.slot for ss in state.stories] + list(state.free)
    return sorted(rows) == list(range(state.capacity))
