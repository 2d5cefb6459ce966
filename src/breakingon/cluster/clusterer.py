"""Online clustering of articles into stories (events), with a periodic repair pass.

`StoryClusterer` holds a bounded WORKING SET of recent stories: unit centroid vectors in
one matrix, summed word and entity weights, first/last time, members and outlets. Each
new article is scored against the whole of each candidate story (centroid cosine + TF-IDF
cosine with an online IDF + entity cosine - a time penalty) and joins the best one at or
above `join_threshold`, or starts a new story with an id from the injected allocator.
Stories not updated within `window_days` of the newest article are evicted, so cost per
article stays flat as the archive grows and old stories are not revived. The working set
exports to / imports from plain frozen records (`WorkingSetState`), so the pipeline can
persist it and a restart or a second worker sees the same stories and makes the same
decisions. `repair()` merges stories that turned out to be one (the older id is kept)
and splits stories that drifted (the larger part keeps the id). Deterministic.
The working set and its scoring are in `cluster_base`, the repair passes in
`cluster_repair`; this module holds the join decision and the state records.

Pure stage: no store, no network, no web. Representations come from `represent`.
"""

from __future__ import annotations

import heapq
import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from breakingon.cluster.repair import RepairPasses
from breakingon.cluster.represent import Representation
from breakingon.cluster.workingset import (
    DIM,
    ClusterSettings,
    Member,
    Story,
    gap_days,
    one_blas_thread,
    tf,
    unit,
)

__all__ = [
    "ClusterSettings",
    "Decision",
    "MemberState",
    "RepairResult",
    "StoryClusterer",
    "StoryState",
    "WorkingSetState",
    "iter_story_members",
]


@dataclass(frozen=True, slots=True)
class Decision:
    """Where one article went, and why (short and human-readable)."""

    article_key: str
    story_id: int
    is_new: bool
    score: float
    reason: str


@dataclass(frozen=True, slots=True)
class StoryState:
    """One story of the working set as a plain record (persistable)."""

    id: int
    vector_sum: bytes  # float32 sum of member unit vectors, little-endian
    count: int
    first: datetime | None
    last: datetime | None
    terms: tuple[tuple[str, float], ...]
    entities: tuple[tuple[str, float], ...]
    outlets: tuple[str, ...]
    members: tuple[str, ...]  # member keys still inside the window
    term_norm: float = 0.0
    entity_norm: float = 0.0
    norm_docs: int = 0
    template: bool = False  # opened by template text: never a candidate, never merged


@dataclass(frozen=True, slots=True)
class MemberState:
    """One article of the working set (needed to split drifted stories)."""

    key: str
    story_id: int
    vector: bytes  # float32 unit vector
    terms: tuple[tuple[str, int], ...]
    entities: tuple[str, ...]
    published: datetime | None
    outlet: str = ""


@dataclass(frozen=True, slots=True)
class WorkingSetState:
    """Everything the clusterer knows, as records: export, persist, import."""

    stories: tuple[StoryState, ...]
    members: tuple[MemberState, ...]
    doc_freq: tuple[tuple[str, int], ...]
    n_docs: int
    newest: datetime | None
    added: int = 0
    dirty: tuple[int, ...] = ()  # stories changed since the last repair pass
    leads: tuple[tuple[str, int], ...] = ()  # lead fingerprint -> articles seen with it


@dataclass(frozen=True, slots=True)
class RepairResult:
    """What a repair pass changed: readers of `from_id` go to `into_id`."""

    merges: tuple[tuple[int, int], ...] = ()  # (from_id, into_id)
    splits: tuple[tuple[int, int], ...] = ()  # (kept_id, new_id)
    moved: tuple[tuple[str, int], ...] = ()  # (article key, new story id)


def _counter(start: int) -> Callable[[], int]:
    it = itertools.count(start)
    return lambda: next(it)


class StoryClusterer(RepairPasses):
    """The online clusterer. Not thread-safe: one writer feeds it, in order."""

    def __init__(
        self,
        settings: ClusterSettings | None = None,
        allocate_id: Callable[[], int] | None = None,
        state: WorkingSetState | None = None,
    ) -> None:
        super().__init__(
            settings,
            allocate_id
            or _counter(
                1 + max((st.id for st in state.stories), default=0) if state is not None else 1
            ),
        )
        self._newest: datetime | None = None
        self._added = 0
        self._leads: Counter[str] = Counter()
        if state is not None:
            self._load(state)

    # ----- public API -------------------------------------------------------------
    @property
    def story_count(self) -> int:
        return len(self._stories)

    @property
    def member_count(self) -> int:
        return len(self._members)

    def story_of(self, key: str) -> int | None:
        """The story of an article still in the working set, else None."""
        m = self._members.get(key)
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
        self._count_doc(rep)
        self._added += 1
        if self._added % s.evict_every == 0:
            self.evict()

        if rep.key in self._members:  # already clustered: idempotent
            sid = self._members[rep.key].story_id
            return Decision(rep.key, sid, False, 1.0, "joined: article already clustered")

        if duplicate_of is not None and duplicate_of in self._members:
            sid = self._members[duplicate_of].story_id
            self._join(sid, rep, when, outlet)
            return Decision(rep.key, sid, False, 1.0, f"joined: syndicated copy of {duplicate_of}")

        seen = self._count_lead(rep.lead)
        if seen >= s.boilerplate_repeats or rep.non_article:
            sid = self._new_story(rep, when, outlet)
            self._stories[sid].template = True
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
                and len(self._stories) > s.margin_min_stories
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

    def repair(self) -> RepairResult:
        """Merge stories that are one event, then split stories that drifted.

        Merges keep the older story's id (earliest first report, then lowest id); a split
        keeps the id on the larger part and gives the far part a new id.
        """
        touched = set(self._dirty)
        self._dirty.clear()
        merges = self._merge_pass(touched)
        check = sorted((touched | {into for _, into in merges}) & self._stories.keys())
        splits, moved = self._split_pass(check)
        return RepairResult(merges=merges, splits=splits, moved=moved)

    def export_state(self) -> WorkingSetState:
        """The whole working set as plain records (sorted, so it is deterministic)."""
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
            )
            for st in sorted(self._stories.values(), key=lambda x: x.id)
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
            )
            for m in self._members.values()
        )
        return WorkingSetState(
            stories=stories,
            members=members,
            doc_freq=tuple(sorted(self._df.items())),
            n_docs=self._n_docs,
            newest=self._newest,
            added=self._added,
            dirty=tuple(sorted(self._dirty)),
            leads=tuple(sorted(self._leads.items())),
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
            ((self._idf(e) * b[e], e) for e in a if e in b), key=lambda x: (-x[0], x[1])
        )
        return [e[2:].title() if e.startswith("e:") else e[1:] for _, e in shared[:3]]

    def _best_candidate(
        self, rep: Representation, when: datetime | None
    ) -> tuple[tuple[float, int, float, float, float, list[str]] | None, float]:
        """The best story (score, id, cosine, words, entities, shared names) and the
        runner-up's score (0.0 when there is none)."""
        if not self._stories:
            return None, 0.0
        s = self.settings
        with one_blas_thread():
            cos = self._unit_rows @ np.asarray(rep.vector, dtype=np.float32)
        live = np.flatnonzero(self._slot_story >= 0)
        k = min(s.top_k, live.size)
        order = live[np.argpartition(-cos[live], k - 1)[:k]] if k < live.size else live
        best: tuple[float, int, float, float, float, list[str]] | None = None
        a_terms = {t: tf(c) for t, c in rep.terms}
        a_ents = dict.fromkeys(rep.entities, 1.0)
        a_terms_n, a_ents_n = self._norm(a_terms), self._norm(a_ents)
        runner_up = 0.0
        for slot in order:
            sid = int(self._slot_story[slot])
            st = self._stories[sid]
            if st.template:
                continue  # template text is not news: nothing joins it
            if st.norm_docs * 1.1 < self._n_docs:
                # The IDF moved >10% in document count since the norms were computed:
                # refresh (amortized O(log N) times per story, so cost stays flat).
                self._refresh_norms(st)
            emb = float(cos[slot])
            lex = self._cosine(a_terms, st.terms, st.term_norm, a_terms_n)
            ent = self._cosine(a_ents, st.entities, st.entity_norm, a_ents_n)
            gap = gap_days(when, st.last)
            penalty = s.decay_per_day * max(0.0, gap - s.grace_days)
            score = s.w_embed * emb + s.w_lexical * lex + s.w_entity * ent - penalty
            if best is None or (score, -sid) > (best[0], -best[1]):
                if best is not None:
                    runner_up = max(runner_up, best[0])
                best = (score, sid, emb, lex, ent, [])
            else:
                runner_up = max(runner_up, score)
        if best is not None:
            best[5].extend(self._shared_entities(a_ents, self._stories[best[1]].entities))
        return best, runner_up

    # ----- the add path -------------------------------------------------------------
    def _member(self, rep: Representation, sid: int, when: datetime | None, outlet: str) -> Member:
        return Member(rep.key, sid, rep.vector, rep.terms, rep.entities, when, outlet)

    def _new_story(self, rep: Representation, when: datetime | None, outlet: str) -> int:
        sid = int(self._allocate())
        if sid in self._stories:
            raise ValueError(f"allocator returned story id {sid} that is already in use")
        st = Story(sid, self._take_slot(), np.zeros(DIM, np.float32), 0, when, when)
        self._stories[sid] = st
        self._slot_story[st.slot] = sid
        self._join(sid, rep, when, outlet)
        return sid

    def _join(self, sid: int, rep: Representation, when: datetime | None, outlet: str) -> None:
        st = self._stories[sid]
        self._dirty.add(sid)
        m = self._member(rep, sid, when, outlet)
        self._members[rep.key] = m
        st.members[rep.key] = None
        st.count += 1
        if outlet:
            st.outlets[outlet] = None
        if when is not None:
            st.first = when if st.first is None or when < st.first else st.first
            st.last = when if st.last is None or when > st.last else st.last
        self._add_stats(st, m)
        self._refresh_row(st)

    def evict(self) -> None:
        """Drop stories idle past the window (and members older than it); cap the set.

        Runs every `evict_every` adds; the pipeline may also call it after loading state.
        """
        s = self.settings
        if self._newest is not None:
            horizon = self._newest - timedelta(days=s.window_days)
            old = [
                st.id for st in self._stories.values() if st.last is not None and st.last < horizon
            ]
            for sid in old:
                self._drop_story(sid)
            stale = [
                m.key
                for m in self._members.values()
                if m.published is not None and m.published < horizon
            ]
            for key in stale:
                m = self._members.pop(key)
                self._stories[m.story_id].members.pop(key, None)
        excess = len(self._stories) - s.max_stories
        if excess > 0:
            floor = datetime.min.replace(tzinfo=None)

            def idle_key(st: Story) -> tuple[float, int]:
                last = st.last.replace(tzinfo=None) if st.last is not None else floor
                return ((last - floor).total_seconds(), st.id)

            for st in heapq.nsmallest(excess, self._stories.values(), key=idle_key):
                self._drop_story(st.id)

    def _load(self, state: WorkingSetState) -> None:
        self._df = Counter(dict(state.doc_freq))
        self._n_docs = state.n_docs
        self._newest = state.newest
        self._added = state.added
        self._dirty = set(state.dirty)
        self._leads = Counter(dict(state.leads))
        for ss in state.stories:
            st = Story(
                ss.id,
                self._take_slot(),
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
            )
            self._stories[st.id] = st
            self._slot_story[st.slot] = st.id
            self._unit_rows[st.slot] = unit(st.vector_sum)  # norms come from the state
        for ms in state.members:
            vec = np.frombuffer(ms.vector, dtype="<f4").astype(np.float32)
            vec.setflags(write=False)
            self._members[ms.key] = Member(
                ms.key, ms.story_id, vec, ms.terms, ms.entities, ms.published, ms.outlet
            )


def iter_story_members(state: WorkingSetState) -> Iterable[tuple[int, str]]:
    """(story id, article key) pairs of a state, for the store to mirror memberships."""
    for st in state.stories:
        for key in st.members:
            yield st.id, key
