"""The clusterer's working set: settings, story and member records, TF-IDF scoring.

`WorkingSet` holds what every part of the clusterer reads and writes: the recent stories
(unit centroid rows in one matrix, summed word and entity weights, first/last time,
members, outlets), their members, the online document frequencies, and the bookkeeping
that keeps the matrix rows and cached norms in step with the sums. It is one object that
the others are handed: `StoryClusterer` (`breakingon.cluster.clusterer`) decides joins on
it, `RepairPasses` (`breakingon.cluster.repair`) merges and splits its stories.

Pure: no store, no network, no web.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from breakingon.cluster.records import DocFreqDelta
from breakingon.cluster.represent import Representation

DIM = 384
Vector = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    """Parameters of the clusterer: ONE set for every data set and for production.

    Chosen by a grid search on the three shared dev sets (see docs/research/clustering.md).
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
    split_pair_link: float = 0.20
    # Gap cut: a part whose two halves (each >= split_gap_min members)
    # score across below split_gap_ratio x the looser half's own mean is two events.
    split_gap_ratio: float = 0.7
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


@dataclass(slots=True)
class Member:
    key: str
    story_id: int
    vector: Vector
    terms: tuple[tuple[str, int], ...]
    entities: tuple[str, ...]
    published: datetime | None
    outlet: str
    xvector: Vector = field(default_factory=lambda: np.zeros(DIM, np.float32))
    language: str = "en"


@dataclass(slots=True)
class Story:
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
    xvector_sum: Vector = field(default_factory=lambda: np.zeros(DIM, np.float32))
    languages: dict[str, int] = field(default_factory=dict)  # members per language

    @property
    def english(self) -> bool:
        """Whether every member is in English (the story is then compared with MiniLM)."""
        return all(lang == "en" for lang, n in self.languages.items() if n > 0)

    def share(self, language: str) -> float:
        """The fraction of the story's members in `language` (its words are comparable)."""
        total = sum(n for n in self.languages.values() if n > 0)
        return self.languages.get(language, 0) / total if total else 1.0


def language_weighted(settings: ClusterSettings, emb: Any, lex: Any, ent: Any, share: Any) -> Any:
    """The join score's weighted sum when only `share` (0..1) of the other side's words
    are in the same language: words of another language cannot overlap, so their weight
    goes to the embedding and entity signals in proportion. `share` 1 is the plain sum."""
    s = settings
    total = s.w_embed + s.w_lexical + s.w_entity
    lex_weight = s.w_lexical * share
    return (s.w_embed * emb + lex_weight * lex + s.w_entity * ent) * (
        total / (s.w_embed + lex_weight + s.w_entity)
    )


def join_score(
    settings: ClusterSettings, emb: float, lex: float, ent: float, share: float, gap: float
) -> float:
    """The score an article gets against a story: the language-weighted sum of the
    embedding, word and entity cosines, less the time penalty for a gap of `gap` days
    beyond the grace period."""
    penalty = settings.decay_per_day * max(0.0, gap - settings.grace_days)
    return float(language_weighted(settings, emb, lex, ent, share)) - penalty


@lru_cache(maxsize=1)
def _blas() -> Any:
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_blas_thread() -> Any:
    """A matrix-vector product over the working set is memory-bound: one BLAS thread is
    ~8x faster than OpenBLAS's spinning threads on a busy 2-core machine (measured)."""
    return _blas().limit(limits=1, user_api="blas")


def tf(count: int) -> float:
    return 1.0 + math.log(count)


def gap_days(a: datetime | None, b: datetime | None) -> float:
    if a is None or b is None:
        return 0.0
    return abs((a - b).total_seconds()) / 86400.0


def unit(v: Vector) -> Vector:
    n = float(np.linalg.norm(v))
    return (v / n).astype(np.float32) if n > 0 else v.astype(np.float32)


def cut(weights: dict[str, float], cap: int) -> dict[str, float]:
    if len(weights) <= cap:
        return weights
    ranked = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[:cap]
    return dict(ranked)


class WorkingSet:
    """Stories and members of the recent window, and the online IDF over what was seen.

    `dirty` holds the stories changed since the last repair pass (decision state, part
    of the exported working set); `changed` the stories changed in any way since the
    owner last took them (`take_changed`), so a caller that persists the set can write
    just those. `df_touched` holds the terms whose document frequency changed (or that
    the vocabulary cap dropped) since `take_df_delta`, so the table can be persisted as
    a delta at a cost of O(terms touched).
    """

    def __init__(self, settings: ClusterSettings | None, allocate_id: Callable[[], int]) -> None:
        self.settings = settings or ClusterSettings()
        self.allocate = allocate_id
        self.stories: dict[int, Story] = {}
        self.members: dict[str, Member] = {}
        self.df: Counter[str] = Counter()
        self.n_docs = 0
        self.df_touched: set[str] = set()  # terms counted or dropped since `take_df_delta`
        self.unit_rows = np.zeros((64, DIM), dtype=np.float32)
        self.xunit_rows = np.zeros((64, DIM), dtype=np.float32)  # multilingual centroids
        self.english_rows = np.zeros(64, dtype=bool)  # the story is all in English
        self.slot_story = np.full(64, -1, dtype=np.int64)
        self.free: list[int] = list(range(63, -1, -1))
        self.dirty: set[int] = set()  # stories changed since the last repair pass
        self.changed: set[int] = set()  # stories changed since `take_changed`
        self.last_id = 0  # the highest story id this set has used

    # ----- scoring ----------------------------------------------------------------
    def idf(self, term: str) -> float:
        return math.log((1.0 + self.n_docs) / (1.0 + self.df.get(term, 0))) + 1.0

    def count_doc(self, rep: Representation) -> None:
        self.n_docs += 1
        words = [t for t, _ in rep.terms]
        self.df.update(words)
        self.df.update(rep.entities)
        self.df_touched.update(words)
        self.df_touched.update(rep.entities)
        if len(self.df) > self.settings.max_vocabulary:
            dropped = [t for t, c in self.df.items() if c <= 1]
            for term in dropped:
                del self.df[term]
            self.df_touched.update(dropped)

    def take_df_delta(self) -> DocFreqDelta:
        """The change of the document frequencies since the last call (or since the
        table was loaded), and reset: O(terms touched), not O(vocabulary)."""
        touched = sorted(self.df_touched)
        self.df_touched = set()
        df = self.df
        return DocFreqDelta(
            n_docs=self.n_docs,
            counts=tuple((t, df[t]) for t in touched if t in df),
            dropped=tuple(t for t in touched if t not in df),
        )

    def norm(self, a: Mapping[str, float]) -> float:
        return math.sqrt(sum((w * self.idf(t)) ** 2 for t, w in a.items()))

    def cosine(
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
                idf = self.idf(t)
                dot += w * lw * idf * idf
        if dot == 0.0:
            return 0.0
        a_n = self.norm(a) if a_norm is None else a_norm
        b_n = self.norm(b) if b_norm is None else b_norm
        return min(1.0, dot / (a_n * b_n)) if a_n > 0 and b_n > 0 else 0.0

    # ----- working-set bookkeeping ------------------------------------------------
    def take_slot(self) -> int:
        if not self.free:
            n = self.unit_rows.shape[0]
            self.unit_rows = np.vstack([self.unit_rows, np.zeros((n, DIM), np.float32)])
            self.xunit_rows = np.vstack([self.xunit_rows, np.zeros((n, DIM), np.float32)])
            self.english_rows = np.concatenate([self.english_rows, np.zeros(n, bool)])
            self.slot_story = np.concatenate([self.slot_story, np.full(n, -1, np.int64)])
            self.free = list(range(2 * n - 1, n - 1, -1))
        return self.free.pop()

    def open_story(self, first: datetime | None, last: datetime | None) -> Story:
        """A new, empty story with an id from the allocator and a free matrix row."""
        sid = int(self.allocate())
        if sid in self.stories:
            raise ValueError(f"allocator returned story id {sid} that is already in use")
        self.last_id = max(self.last_id, sid)
        st = Story(sid, self.take_slot(), np.zeros(DIM, np.float32), 0, first, last)
        self.stories[sid] = st
        self.slot_story[st.slot] = sid
        self.changed.add(sid)
        return st

    def refresh_row(self, st: Story) -> None:
        self.unit_rows[st.slot] = unit(st.vector_sum)
        self.xunit_rows[st.slot] = unit(st.xvector_sum)
        self.english_rows[st.slot] = st.english
        self.refresh_norms(st)

    def cosines(self, rep: Representation, rows: Any = None) -> Any:
        """Embedding cosine of an article to the stories of matrix rows `rows` (all rows
        when None): MiniLM's between an English article and an all-English story, the
        multilingual space's otherwise (docs/clustering.md, "Languages")."""
        sel = slice(None) if rows is None else rows
        x = self.xunit_rows[sel] @ np.asarray(self.x_of(rep), dtype=np.float32)
        if not rep.english:
            return x
        m = self.unit_rows[sel] @ np.asarray(rep.vector, dtype=np.float32)
        return np.where(self.english_rows[sel], m, x)

    @staticmethod
    def x_of(rep: Representation) -> Vector:
        return rep.xvector if rep.xvector is not None else np.zeros(DIM, np.float32)

    def refresh_norms(self, st: Story) -> None:
        st.term_norm = self.norm(st.terms)
        st.entity_norm = self.norm(st.entities)
        st.norm_docs = self.n_docs
        self.changed.add(st.id)

    def add_stats(self, st: Story, m: Member, sign: float = 1.0) -> None:
        st.vector_sum = (st.vector_sum + sign * m.vector).astype(np.float32)
        st.xvector_sum = (st.xvector_sum + sign * m.xvector).astype(np.float32)
        st.languages[m.language] = st.languages.get(m.language, 0) + int(sign)
        if st.languages[m.language] <= 0:
            del st.languages[m.language]
        for t, c in m.terms:
            st.terms[t] = st.terms.get(t, 0.0) + sign * tf(c)
        for e in m.entities:
            st.entities[e] = st.entities.get(e, 0.0) + sign * 1.0
        if sign < 0:
            st.terms = {t: w for t, w in st.terms.items() if w > 1e-9}
            st.entities = {e: w for e, w in st.entities.items() if w > 1e-9}
        cap = self.settings
        if len(st.terms) > cap.max_story_terms * 3 // 2:
            st.terms = cut(st.terms, cap.max_story_terms)
        if len(st.entities) > cap.max_story_entities * 3 // 2:
            st.entities = cut(st.entities, cap.max_story_entities)

    def drop_member(self, key: str) -> None:
        """Forget one member (older than the window); its story keeps its sums."""
        m = self.members.pop(key)
        self.stories[m.story_id].members.pop(key, None)
        self.changed.add(m.story_id)

    def drop_story(self, sid: int) -> None:
        st = self.stories.pop(sid)
        for key in st.members:
            self.members.pop(key, None)
        self.unit_rows[st.slot] = 0.0
        self.xunit_rows[st.slot] = 0.0
        self.english_rows[st.slot] = False
        self.slot_story[st.slot] = -1
        self.free.append(st.slot)
        self.changed.discard(sid)

    def live_slots(self) -> npt.NDArray[np.intp]:
        return np.flatnonzero(self.slot_story >= 0)

    def take_changed(self) -> set[int]:
        """The stories changed since the last call (ids still in the set), and reset."""
        out = self.changed & self.stories.keys()
        self.changed = set()
        return out
