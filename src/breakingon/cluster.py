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

Pure stage: no store, no network, no web. Representations come from `represent`.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from breakingon.linkage import average_link, gap_cut
from breakingon.represent import Representation

DIM = 384
Vector = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    """Parameters of the clusterer: ONE set for every data set and for production.

    Chosen by a grid search on the three shared dev sets (see docs/clustering.md).
    """

    w_embed: float = 0.40
    w_lexical: float = 0.30
    w_entity: float = 0.30
    join_threshold: float = 0.38  # a sure join
    join_floor: float = 0.20  # a join when the best story is clearly ahead of the rest:
    join_margin: float = 0.04  # best - runner-up >= margin,
    margin_min_stories: int = 10  # among at least this many other stories (evidence)
    merge_threshold: float = 0.60
    split_threshold: float = 0.25  # a drifted part is split off when its link falls below
    # Neighbour-profile split (repair): members of a story are compared by the overlap of
    # their `split_neighbors` nearest fellow members (second-order similarity); groups
    # whose average link falls below `split_profile_link` are separate events. Each group
    # is then cut where the members' own pair scores average below `split_pair_link`
    # (a story that gathered unrelated reports of one theme).
    split_profile: bool = True
    split_neighbors: int = 8
    split_profile_link: float = 0.35
    split_pair_link: float = 0.22
    # Gap cut (fourth round): a part whose two halves (each >= split_gap_min members)
    # score across below split_gap_ratio x the looser half's own mean is two events.
    split_gap_ratio: float = 0.6
    split_gap_min: int = 2
    split_min_members: int = 2
    split_max_members: int = 128  # the most recent members a split considers (cost bound)
    window_days: float = 7.0  # stories idle longer than this are evicted
    grace_days: float = 1.0  # no time penalty within this gap
    decay_per_day: float = 0.03  # score penalty per day of gap beyond the grace
    # The same opening words in this many articles that are not marked as syndicated
    # copies: template text (crawl notices, consent walls), not news; such an article
    # starts its own story instead of gluing unrelated stories together.
    boilerplate_repeats: int = 3
    top_k: int = 24  # candidates by embedding cosine that get the full score
    max_stories: int = 50_000  # hard bound of the working set (undated streams)
    max_story_terms: int = 300
    max_story_entities: int = 200
    max_vocabulary: int = 300_000
    evict_every: int = 64
    repair_every: int = 200  # batch runs: articles between two repair passes


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


@dataclass(slots=True)
class _Member:
    key: str
    story_id: int
    vector: Vector
    terms: tuple[tuple[str, int], ...]
    entities: tuple[str, ...]
    published: datetime | None
    outlet: str


@dataclass(slots=True)
class _Story:
    id: int
    slot: int
    vector_sum: Vector
    count: int
    first: datetime | None
    last: datetime | None
    terms: dict[str, float] = field(default_factory=dict)
    entities: dict[str, float] = field(default_factory=dict)
    outlets: dict[str, None] = field(default_factory=dict)
    members: dict[str, None] = field(default_factory=dict)
    term_norm: float = 0.0  # IDF-weighted norms, computed when the story last changed
    entity_norm: float = 0.0
    norm_docs: int = 0  # documents seen when the norms were computed
    template: bool = False  # opened by template text: kept out of joins and merges


@lru_cache(maxsize=1)
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def _one_blas_thread() -> Any:
    """A matrix-vector product over the working set is memory-bound: one BLAS thread is
    ~8x faster than OpenBLAS's spinning threads on a busy 2-core machine (measured)."""
    return _blas().limit(limits=1, user_api="blas")


def _counter(start: int) -> Callable[[], int]:
    it = itertools.count(start)
    return lambda: next(it)


def _tf(count: int) -> float:
    return 1.0 + math.log(count)


def _gap_days(a: datetime | None, b: datetime | None) -> float:
    if a is None or b is None:
        return 0.0
    return abs((a - b).total_seconds()) / 86400.0


def _unit(v: Vector) -> Vector:
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n > 0 else v.astype(np.float32)


def _cut(weights: dict[str, float], cap: int) -> dict[str, float]:
    if len(weights) <= cap:
        return weights
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:cap]
    return dict(ranked)


class StoryClusterer:
    """The online clusterer. Not thread-safe: one writer feeds it, in order."""

    def __init__(
        self,
        settings: ClusterSettings | None = None,
        allocate_id: Callable[[], int] | None = None,
        state: WorkingSetState | None = None,
    ) -> None:
        self.settings = settings or ClusterSettings()
        self._allocate = allocate_id or _counter(
            1 + max((st.id for st in state.stories), default=0) if state is not None else 1
        )
        self._stories: dict[int, _Story] = {}
        self._members: dict[str, _Member] = {}
        self._df: Counter[str] = Counter()
        self._n_docs = 0
        self._newest: datetime | None = None
        self._added = 0
        self._unit_rows = np.zeros((64, DIM), dtype=np.float32)
        self._slot_story = np.full(64, -1, dtype=np.int64)
        self._free: list[int] = list(range(63, -1, -1))
        self._dirty: set[int] = set()  # stories changed since the last repair pass
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
        if seen >= s.boilerplate_repeats:
            sid = self._new_story(rep, when, outlet)
            self._stories[sid].template = True
            reason = f"new: template text (same opening seen {seen} times), kept apart"
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

    # ----- scoring ----------------------------------------------------------------
    def _idf(self, term: str) -> float:
        return math.log((1.0 + self._n_docs) / (1.0 + self._df.get(term, 0))) + 1.0

    def _count_lead(self, lead: str) -> int:
        if not lead:
            return 0
        self._leads[lead] += 1
        if len(self._leads) > self.settings.max_vocabulary:
            for k in [k for k, c in self._leads.items() if c <= 1]:
                del self._leads[k]
        return self._leads[lead]

    def _count_doc(self, rep: Representation) -> None:
        self._n_docs += 1
        self._df.update(t for t, _ in rep.terms)
        self._df.update(rep.entities)
        if len(self._df) > self.settings.max_vocabulary:
            for term in [t for t, c in self._df.items() if c <= 1]:
                del self._df[term]

    def _norm(self, a: Mapping[str, float]) -> float:
        return math.sqrt(sum((w * self._idf(t)) ** 2 for t, w in a.items()))

    def _cosine(
        self,
        a: Mapping[str, float],
        b: Mapping[str, float],
        b_norm: float | None = None,
        a_norm: float | None = None,
    ) -> float:
        """TF-IDF cosine of two weight maps, with the online IDF.

        `b_norm` is the story's norm cached when it last changed (the IDF drifts slowly;
        recomputing every candidate's norm per article would cost O(story vocabulary)).
        `a_norm`, when given, is `a`'s norm under the current IDF (computed once by a
        caller that compares `a` with many maps).
        """
        dot = 0.0
        small, large = (a, b) if len(a) <= len(b) else (b, a)
        for t, w in small.items():
            lw = large.get(t)
            if lw is not None:
                idf = self._idf(t)
                dot += w * lw * idf * idf
        if dot == 0.0:
            return 0.0
        a_n = self._norm(a) if a_norm is None else a_norm
        b_n = self._norm(b) if b_norm is None else b_norm
        return min(1.0, dot / (a_n * b_n)) if a_n > 0 and b_n > 0 else 0.0

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
        with _one_blas_thread():
            cos = self._unit_rows @ np.asarray(rep.vector, dtype=np.float32)
        live = np.flatnonzero(self._slot_story >= 0)
        k = min(s.top_k, live.size)
        order = live[np.argpartition(-cos[live], k - 1)[:k]] if k < live.size else live
        best: tuple[float, int, float, float, float, list[str]] | None = None
        a_terms = {t: _tf(c) for t, c in rep.terms}
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
            gap = _gap_days(when, st.last)
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

    # ----- working-set bookkeeping ------------------------------------------------
    def _take_slot(self) -> int:
        if not self._free:
            n = self._unit_rows.shape[0]
            self._unit_rows = np.vstack([self._unit_rows, np.zeros((n, DIM), np.float32)])
            self._slot_story = np.concatenate([self._slot_story, np.full(n, -1, np.int64)])
            self._free = list(range(2 * n - 1, n - 1, -1))
        return self._free.pop()

    def _refresh_row(self, st: _Story) -> None:
        self._unit_rows[st.slot] = _unit(st.vector_sum)
        self._refresh_norms(st)

    def _refresh_norms(self, st: _Story) -> None:
        st.term_norm = self._norm(st.terms)
        st.entity_norm = self._norm(st.entities)
        st.norm_docs = self._n_docs

    def _add_stats(self, st: _Story, m: _Member, sign: float = 1.0) -> None:
        st.vector_sum = (st.vector_sum + sign * m.vector).astype(np.float32)
        for t, c in m.terms:
            st.terms[t] = st.terms.get(t, 0.0) + sign * _tf(c)
        for e in m.entities:
            st.entities[e] = st.entities.get(e, 0.0) + sign * 1.0
        if sign < 0:
            st.terms = {t: w for t, w in st.terms.items() if w > 1e-9}
            st.entities = {e: w for e, w in st.entities.items() if w > 1e-9}
        cap = self.settings
        if len(st.terms) > cap.max_story_terms * 3 // 2:
            st.terms = _cut(st.terms, cap.max_story_terms)
        if len(st.entities) > cap.max_story_entities * 3 // 2:
            st.entities = _cut(st.entities, cap.max_story_entities)

    def _member(self, rep: Representation, sid: int, when: datetime | None, outlet: str) -> _Member:
        return _Member(rep.key, sid, rep.vector, rep.terms, rep.entities, when, outlet)

    def _new_story(self, rep: Representation, when: datetime | None, outlet: str) -> int:
        sid = int(self._allocate())
        if sid in self._stories:
            raise ValueError(f"allocator returned story id {sid} that is already in use")
        st = _Story(sid, self._take_slot(), np.zeros(DIM, np.float32), 0, when, when)
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

    def _drop_story(self, sid: int) -> None:
        st = self._stories.pop(sid)
        for key in st.members:
            self._members.pop(key, None)
        self._unit_rows[st.slot] = 0.0
        self._slot_story[st.slot] = -1
        self._free.append(st.slot)

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

            def idle_key(st: _Story) -> tuple[float, int]:
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
            st = _Story(
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
            self._unit_rows[st.slot] = _unit(st.vector_sum)  # norms come from the state
        for ms in state.members:
            vec = np.frombuffer(ms.vector, dtype="<f4").astype(np.float32)
            vec.setflags(write=False)
            self._members[ms.key] = _Member(
                ms.key, ms.story_id, vec, ms.terms, ms.entities, ms.published, ms.outlet
            )

    # ----- repair -----------------------------------------------------------------
    def _story_pair_score(
        self, a: _Story, b: _Story, emb: float, norms: dict[int, tuple[float, float]]
    ) -> float:
        """Story-vs-story score with fresh norms; `norms` caches them per story for the
        duration of one pass (the IDF does not move within a pass)."""
        s = self.settings
        for st in (a, b):
            if st.id not in norms:
                norms[st.id] = (self._norm(st.terms), self._norm(st.entities))
        (a_tn, a_en), (b_tn, b_en) = norms[a.id], norms[b.id]
        lex = self._cosine(a.terms, b.terms, b_tn, a_tn)
        ent = self._cosine(a.entities, b.entities, b_en, a_en)
        gap = 0.0
        if a.first and a.last and b.first and b.last:
            gap = max(0.0, _gap_days(max(a.first, b.first), min(a.last, b.last)))
            if max(a.first, b.first) <= min(a.last, b.last):
                gap = 0.0
        penalty = s.decay_per_day * max(0.0, gap - s.grace_days)
        return s.w_embed * emb + s.w_lexical * lex + s.w_entity * ent - penalty

    @staticmethod
    def _age_key(st: _Story) -> tuple[int, float, int]:
        if st.first is None:
            return (1, 0.0, st.id)
        return (0, st.first.timestamp(), st.id)

    def _merge_pass(self, touched: set[int]) -> tuple[tuple[int, int], ...]:
        """Merge candidates: each story changed since the last pass against its `top_k`
        nearest stories by centroid cosine, so the cost follows activity, not archive."""
        s = self.settings
        dirty = sorted(d for d in touched if d in self._stories)
        if not dirty or len(self._stories) < 2:
            return ()
        live = np.flatnonzero(self._slot_story >= 0)
        # Embedding cosine bounds the full score (lexical and entity cosines are <= 1):
        # only pairs that could reach the threshold get the costlier full score.
        floor = (s.merge_threshold - s.w_lexical - s.w_entity) / s.w_embed
        seen: set[tuple[int, int]] = set()
        pairs: list[tuple[float, int, int]] = []
        norms: dict[int, tuple[float, float]] = {}
        for start in range(0, len(dirty), 512):
            block = dirty[start : start + 512]
            rows = self._unit_rows[[self._stories[d].slot for d in block]]
            with _one_blas_thread():
                sims = rows @ self._unit_rows[live].T
            k = min(s.top_k + 1, live.size)
            for r, sid in enumerate(block):
                top = np.argpartition(-sims[r], k - 1)[:k] if k < live.size else range(live.size)
                for c in top:
                    other = int(self._slot_story[live[c]])
                    emb = float(sims[r, c])
                    if other == sid or emb < floor:
                        continue
                    pair = (min(sid, other), max(sid, other))
                    if pair in seen:
                        continue
                    seen.add(pair)
                    a, b = self._stories[pair[0]], self._stories[pair[1]]
                    if a.template or b.template:
                        continue
                    score = self._story_pair_score(a, b, emb, norms)
                    if score >= s.merge_threshold:
                        pairs.append((score, pair[0], pair[1]))
        pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
        merges: list[tuple[int, int]] = []
        for _, a_id, b_id in pairs:
            if a_id not in self._stories or b_id not in self._stories:
                continue  # one side already merged this pass: re-checked next pass
            a, b = self._stories[a_id], self._stories[b_id]
            if self._split_would_undo(a, b):
                continue  # the split pass would cut them apart again (no id churn)
            keep, gone = (a, b) if self._age_key(a) <= self._age_key(b) else (b, a)
            self._absorb(keep, gone)
            merges.append((gone.id, keep.id))
        # Report each merged id with its final destination (no chains for readers).
        into = dict(merges)

        def final(sid: int) -> int:
            while sid in into:
                sid = into[sid]
            return sid

        return tuple((gone, final(keep)) for gone, keep in merges)

    def _split_would_undo(self, a: _Story, b: _Story) -> bool:
        """Whether the split pass would cut the union of two stories apart again along
        their old border (every group inside one of them): merging them would only
        churn ids, pass after pass."""
        keys = sorted(a.members.keys() | b.members.keys())
        parts = [set(p) for p in self._split_parts(keys)]
        if not parts:
            return False
        rest = set(keys).difference(*parts)
        groups = [*parts, rest] if rest else parts
        a_keys, b_keys = a.members.keys(), b.members.keys()
        return all(g <= a_keys or g <= b_keys for g in groups)

    def _absorb(self, keep: _Story, gone: _Story) -> None:
        keep.vector_sum = (keep.vector_sum + gone.vector_sum).astype(np.float32)
        for t, w in gone.terms.items():
            keep.terms[t] = keep.terms.get(t, 0.0) + w
        for e, w in gone.entities.items():
            keep.entities[e] = keep.entities.get(e, 0.0) + w
        keep.terms = _cut(keep.terms, self.settings.max_story_terms)
        keep.entities = _cut(keep.entities, self.settings.max_story_entities)
        keep.count += gone.count
        keep.outlets.update(gone.outlets)
        for key in gone.members:
            keep.members[key] = None
            self._members[key].story_id = keep.id
        if gone.first is not None and (keep.first is None or gone.first < keep.first):
            keep.first = gone.first
        if gone.last is not None and (keep.last is None or gone.last > keep.last):
            keep.last = gone.last
        gone.members.clear()
        self._drop_story(gone.id)
        self._refresh_row(keep)
        self._dirty.add(keep.id)  # look again next pass: it may now reach others

    def _split_pass(
        self, check: Sequence[int]
    ) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[str, int], ...]]:
        splits: list[tuple[int, int]] = []
        moved: list[tuple[str, int]] = []
        for sid in check:
            st = self._stories[sid]
            keys = sorted(st.members)
            if len(keys) < 2:
                continue
            for part in self._split_parts(keys):
                self._split_off(st, part, splits, moved)
        return tuple(splits), tuple(moved)

    def _split_parts(self, keys: list[str]) -> list[list[str]]:
        """The groups of members to move out of a story (the largest group stays)."""
        s = self.settings
        if s.split_profile and len(keys) >= s.split_min_members:
            recent = sorted(keys, key=lambda k: (self._member_time(k), k))[-s.split_max_members :]
            groups = self._profile_groups(sorted(recent))
            if len(groups) > 1:
                return groups[1:]
            return []
        if s.split_profile or len(keys) < 3:
            return []
        part = self._far_part(keys)
        return [] if part is None else [part]

    def _member_time(self, key: str) -> float:
        when = self._members[key].published
        return 0.0 if when is None else when.timestamp()

    def _member_scores(self, keys: Sequence[str]) -> npt.NDArray[np.float64]:
        """Pair scores between members (the join score, member against member)."""
        s = self.settings
        ms = [self._members[k] for k in keys]
        vecs = np.stack([m.vector for m in ms]).astype(np.float64)
        lex = self._weight_cosines([{t: _tf(c) for t, c in m.terms} for m in ms])
        ent = self._weight_cosines([dict.fromkeys(m.entities, 1.0) for m in ms])
        score = s.w_embed * (vecs @ vecs.T) + s.w_lexical * lex + s.w_entity * ent
        times = [m.published for m in ms]
        if any(t is not None for t in times):
            for i, j in itertools.combinations(range(len(ms)), 2):
                gap = _gap_days(times[i], times[j])
                if gap > s.grace_days:
                    penalty = s.decay_per_day * (gap - s.grace_days)
                    score[i, j] -= penalty
                    score[j, i] -= penalty
        return score

    def _weight_cosines(self, maps: Sequence[Mapping[str, float]]) -> npt.NDArray[np.float64]:
        """TF-IDF cosines (online IDF) between all pairs of weight maps (sparse product)."""
        from scipy import sparse

        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for i, mp in enumerate(maps):
            for t, w in mp.items():
                rows.append(i)
                cols.append(vocab.setdefault(t, len(vocab)))
                vals.append(w * self._idf(t))
        data = np.asarray(vals, dtype=np.float64)
        norms = np.zeros(len(maps))
        np.add.at(norms, np.asarray(rows, dtype=np.int64), data * data)
        norms = np.sqrt(norms)
        norms[norms == 0] = 1.0
        data /= norms[np.asarray(rows, dtype=np.int64)]
        mat = sparse.csr_matrix((data, (rows, cols)), shape=(len(maps), max(1, len(vocab))))
        out: npt.NDArray[np.float64] = np.asarray((mat @ mat.T).toarray(), dtype=np.float64)
        return out

    def _profile_groups(self, keys: list[str]) -> list[list[str]]:
        """Groups of members that are separate events, largest first (ties: the group
        holding the lowest key first).

        Each member's profile is its pair scores to its `split_neighbors` nearest fellow
        members (itself included); two members are alike when their profiles overlap
        (cosine). Two events of one kind told with the same names (two pirate attacks,
        two signings) each keep their own nearest neighbours, so average link over the
        profiles separates them where the pair scores themselves do not. Each such group
        is then cut by average link over the pair scores themselves at `split_pair_link`,
        which separates reports that only share a theme (a congress story that gathered
        every congress report) and whose profiles, in a small story, are all alike.
        """
        s = self.settings
        score = self._member_scores(keys)
        n = len(keys)
        k = min(n, s.split_neighbors + 1)
        profile = np.zeros_like(score)
        for i in range(n):
            order = np.argsort(-score[i], kind="stable")[:k]  # ties: lower index first
            profile[i, order] = np.clip(score[i, order], 0.0, None)
        norms = np.linalg.norm(profile, axis=1)
        norms[norms == 0] = 1.0
        profile /= norms[:, None]
        parts: list[list[str]] = []
        for group in average_link(profile @ profile.T, s.split_profile_link):
            sub = score[np.ix_(group, group)]
            for part in average_link(sub, s.split_pair_link):
                cut = gap_cut(sub[np.ix_(part, part)], s.split_gap_ratio, s.split_gap_min)
                parts.extend([keys[group[part[i]]] for i in piece] for piece in cut)
        parts.sort(key=lambda p: (-len(p), min(p)))
        return parts

    def _split_off(
        self,
        st: _Story,
        part: Sequence[str],
        splits: list[tuple[int, int]],
        moved: list[tuple[str, int]],
    ) -> None:
        """Move `part`'s members out of `st` into a new story."""
        sid = st.id
        new_id = int(self._allocate())
        if new_id in self._stories:
            raise ValueError(f"allocator returned story id {new_id} that is already in use")
        first_member = self._members[part[0]]
        new = _Story(new_id, self._take_slot(), np.zeros(DIM, np.float32), 0, None, None)
        self._stories[new_id] = new
        self._slot_story[new.slot] = new_id
        for key in part:
            m = self._members[key]
            self._add_stats(st, m, sign=-1.0)
            st.members.pop(key)
            st.count -= 1
            m.story_id = new_id
            new.members[key] = None
            new.count += 1
            if m.outlet:
                new.outlets[m.outlet] = None
            if m.published is not None:
                new.first = m.published if new.first is None else min(new.first, m.published)
                new.last = m.published if new.last is None else max(new.last, m.published)
            self._add_stats(new, m)
            moved.append((key, new_id))
        if new.first is None:
            new.first, new.last = first_member.published, first_member.published
        self._refresh_row(st)
        self._refresh_row(new)
        self._dirty.update((sid, new_id))
        splits.append((sid, new_id))

    def _far_part(self, keys: list[str]) -> list[str] | None:
        """Two-means on member vectors seeded by the farthest member; the smaller part
        is returned when the two parts are linked by less than `split_threshold`."""
        s = self.settings
        vecs = np.stack([self._members[k].vector for k in keys])
        centroid = _unit(vecs.sum(axis=0))
        far = int(np.argmin(vecs @ centroid))
        assign = np.zeros(len(keys), dtype=bool)
        assign[far] = True
        for _ in range(5):
            if assign.all() or not assign.any():
                return None
            ca = _unit(vecs[~assign].sum(axis=0))
            cb = _unit(vecs[assign].sum(axis=0))
            new_assign = (vecs @ cb) > (vecs @ ca)
            if np.array_equal(new_assign, assign):
                break
            assign = new_assign
        if assign.all() or not assign.any():
            return None
        if assign.sum() > (~assign).sum():
            assign = ~assign
        ca = _unit(vecs[~assign].sum(axis=0))
        cb = _unit(vecs[assign].sum(axis=0))
        # The link between parts: embedding cosine of their centroids, weighted like a join.
        link = s.w_embed * float(ca @ cb) + (s.w_lexical + s.w_entity) * self._part_overlap(
            [keys[i] for i in np.flatnonzero(~assign)], [keys[i] for i in np.flatnonzero(assign)]
        )
        if link >= s.split_threshold:
            return None
        return [keys[i] for i in np.flatnonzero(assign)]

    def _part_overlap(self, a_keys: Sequence[str], b_keys: Sequence[str]) -> float:
        def weights(keys: Sequence[str]) -> dict[str, float]:
            out: dict[str, float] = {}
            for k in keys:
                m = self._members[k]
                for t, c in m.terms:
                    out[t] = out.get(t, 0.0) + _tf(c)
                for e in m.entities:
                    out[e] = out.get(e, 0.0) + 1.0
            return out

        return self._cosine(weights(a_keys), weights(b_keys))


def iter_story_members(state: WorkingSetState) -> Iterable[tuple[int, str]]:
    """(story id, article key) pairs of a state, for the store to mirror memberships."""
    for st in state.stories:
        for key in st.members:
            yield st.id, key
