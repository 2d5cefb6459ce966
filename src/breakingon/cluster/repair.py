"""The clusterer's repair pass: merge stories that are one event, split ones that drifted.

`RepairPasses` is handed the `WorkingSet` the clusterer keeps and works on it: the merge
pass compares each story changed since the last pass with its nearest stories and merges
pairs that score as one event (unless the split would cut them apart again); the split
pass regroups a changed story's members by neighbour profiles, pair links and the gap cut
(docs/clustering.md, "Repair"). Deterministic.

Pure: no store, no network, no web.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from breakingon.cluster.linkage import average_link, gap_cut
from breakingon.cluster.records import RepairResult
from breakingon.cluster.workingset import (
    Story,
    WorkingSet,
    cut,
    gap_days,
    join_score,
    language_weighted,
    one_blas_thread,
    tf,
    unit,
)


class RepairPasses:
    """Merge and split passes over a working set (called by `StoryClusterer.repair`)."""

    def __init__(self, ws: WorkingSet) -> None:
        self.ws = ws
        self.settings = ws.settings

    def run(self) -> RepairResult:
        """Merge stories that are one event, then split stories that drifted, among the
        stories changed since the last pass (and those the merges grew)."""
        ws = self.ws
        touched = set(ws.dirty)
        ws.dirty.clear()
        merges = self._merge_pass(touched)
        check = sorted((touched | {into for _, into in merges}) & ws.stories.keys())
        splits, moved = self._split_pass(check)
        return RepairResult(merges=merges, splits=splits, moved=moved)

    def _story_pair_score(
        self, a: Story, b: Story, emb: float, norms: dict[int, tuple[float, float]]
    ) -> float:
        """Story-vs-story score with fresh norms; `norms` caches them per story for the
        duration of one pass (the IDF does not move within a pass)."""
        s = self.settings
        for st in (a, b):
            if st.id not in norms:
                norms[st.id] = (self.ws.norm(st.terms), self.ws.norm(st.entities))
        (a_tn, a_en), (b_tn, b_en) = norms[a.id], norms[b.id]
        lex = self.ws.cosine(a.terms, b.terms, b_tn, a_tn)
        ent = self.ws.cosine(a.entities, b.entities, b_en, a_en)
        share = _language_overlap(a.languages, b.languages)
        gap = 0.0
        if a.first and a.last and b.first and b.last:
            gap = max(0.0, gap_days(max(a.first, b.first), min(a.last, b.last)))
            if max(a.first, b.first) <= min(a.last, b.last):
                gap = 0.0
        return join_score(s, emb, lex, ent, share, gap)

    @staticmethod
    def _age_key(st: Story) -> tuple[int, float, int]:
        if st.first is None:
            return (1, 0.0, st.id)
        return (0, st.first.timestamp(), st.id)

    def _merge_pass(self, touched: set[int]) -> tuple[tuple[int, int], ...]:
        """Merge candidates: each story changed since the last pass against its `top_k`
        nearest stories by centroid cosine, so the cost follows activity, not archive."""
        s = self.settings
        dirty = sorted(d for d in touched if d in self.ws.stories)
        if not dirty or len(self.ws.stories) < 2:
            return ()
        live = self.ws.live_slots()
        # Embedding cosine bounds the full score (lexical and entity cosines are <= 1):
        # only pairs that could reach the threshold get the costlier full score. With no
        # word overlap possible (two languages) the embedding and entities carry it all.
        total = s.w_embed + s.w_lexical + s.w_entity
        floor = min(
            (s.merge_threshold - s.w_lexical - s.w_entity) / s.w_embed,
            (s.merge_threshold * (s.w_embed + s.w_entity) / total - s.w_entity) / s.w_embed,
        )
        seen: set[tuple[int, int]] = set()
        pairs: list[tuple[float, int, int]] = []
        norms: dict[int, tuple[float, float]] = {}
        for start in range(0, len(dirty), 512):
            block = dirty[start : start + 512]
            slots = [self.ws.stories[d].slot for d in block]
            with one_blas_thread():
                sims = self.ws.xunit_rows[slots] @ self.ws.xunit_rows[live].T
                both = self.ws.english_rows[slots][:, None] & self.ws.english_rows[live][None, :]
                if both.any():
                    minilm = self.ws.unit_rows[slots] @ self.ws.unit_rows[live].T
                    sims = np.where(both, minilm, sims)
            k = min(s.top_k + 1, live.size)
            for r, sid in enumerate(block):
                top = np.argpartition(-sims[r], k - 1)[:k] if k < live.size else range(live.size)
                for c in top:
                    other = int(self.ws.slot_story[live[c]])
                    emb = float(sims[r, c])
                    if other == sid or emb < floor:
                        continue
                    pair = (min(sid, other), max(sid, other))
                    if pair in seen:
                        continue
                    seen.add(pair)
                    a, b = self.ws.stories[pair[0]], self.ws.stories[pair[1]]
                    if a.template or b.template:
                        continue
                    score = self._story_pair_score(a, b, emb, norms)
                    if score >= s.merge_threshold:
                        pairs.append((score, pair[0], pair[1]))
        pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
        merges: list[tuple[int, int]] = []
        for _, a_id, b_id in pairs:
            if a_id not in self.ws.stories or b_id not in self.ws.stories:
                continue  # one side already merged this pass: re-checked next pass
            a, b = self.ws.stories[a_id], self.ws.stories[b_id]
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

    def _split_would_undo(self, a: Story, b: Story) -> bool:
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

    def _absorb(self, keep: Story, gone: Story) -> None:
        keep.vector_sum = (keep.vector_sum + gone.vector_sum).astype(np.float32)
        keep.xvector_sum = (keep.xvector_sum + gone.xvector_sum).astype(np.float32)
        for lang, n in gone.languages.items():
            keep.languages[lang] = keep.languages.get(lang, 0) + n
        for t, w in gone.terms.items():
            keep.terms[t] = keep.terms.get(t, 0.0) + w
        for e, w in gone.entities.items():
            keep.entities[e] = keep.entities.get(e, 0.0) + w
        keep.terms = cut(keep.terms, self.settings.max_story_terms)
        keep.entities = cut(keep.entities, self.settings.max_story_entities)
        keep.count += gone.count
        keep.outlets.update(gone.outlets)
        for key in gone.members:
            keep.members[key] = None
            self.ws.members[key].story_id = keep.id
        if gone.first is not None and (keep.first is None or gone.first < keep.first):
            keep.first = gone.first
        if gone.last is not None and (keep.last is None or gone.last > keep.last):
            keep.last = gone.last
        gone.members.clear()
        self.ws.drop_story(gone.id)
        self.ws.refresh_row(keep)
        self.ws.dirty.add(keep.id)  # look again next pass: it may now reach others

    def _split_pass(
        self, check: Sequence[int]
    ) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[str, int], ...]]:
        splits: list[tuple[int, int]] = []
        moved: list[tuple[str, int]] = []
        for sid in check:
            st = self.ws.stories[sid]
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
        when = self.ws.members[key].published
        return 0.0 if when is None else when.timestamp()

    def _member_scores(self, keys: Sequence[str]) -> npt.NDArray[np.float64]:
        """Pair scores between members (the join score, member against member)."""
        s = self.settings
        ms = [self.ws.members[k] for k in keys]
        xvecs = np.stack([m.xvector for m in ms]).astype(np.float64)
        emb = xvecs @ xvecs.T
        english = np.array([m.language == "en" for m in ms])
        both = english[:, None] & english[None, :]
        if both.any():
            vecs = np.stack([m.vector for m in ms]).astype(np.float64)
            emb = np.where(both, vecs @ vecs.T, emb)
        languages = np.array([m.language for m in ms])
        share = (languages[:, None] == languages[None, :]).astype(np.float64)
        lex = self._weight_cosines([{t: tf(c) for t, c in m.terms} for m in ms])
        ent = self._weight_cosines([dict.fromkeys(m.entities, 1.0) for m in ms])
        score = np.asarray(language_weighted(s, emb, lex, ent, share), dtype=np.float64)
        times = [m.published for m in ms]
        if any(t is not None for t in times):
            for i, j in itertools.combinations(range(len(ms)), 2):
                gap = gap_days(times[i], times[j])
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
                vals.append(w * self.ws.idf(t))
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
        st: Story,
        part: Sequence[str],
        splits: list[tuple[int, int]],
        moved: list[tuple[str, int]],
    ) -> None:
        """Move `part`'s members out of `st` into a new story."""
        sid = st.id
        new = self.ws.open_story(None, None)
        new_id = new.id
        first_member = self.ws.members[part[0]]
        for key in part:
            m = self.ws.members[key]
            self.ws.add_stats(st, m, sign=-1.0)
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
            self.ws.add_stats(new, m)
            moved.append((key, new_id))
        if new.first is None:
            new.first, new.last = first_member.published, first_member.published
        self.ws.refresh_row(st)
        self.ws.refresh_row(new)
        self.ws.dirty.update((sid, new_id))
        splits.append((sid, new_id))

    def _far_part(self, keys: list[str]) -> list[str] | None:
        """Two-means on member vectors seeded by the farthest member; the smaller part
        is returned when the two parts are linked by less than `split_threshold`."""
        s = self.settings
        vecs = np.stack([self.ws.members[k].vector for k in keys])
        centroid = unit(vecs.sum(axis=0))
        far = int(np.argmin(vecs @ centroid))
        assign = np.zeros(len(keys), dtype=bool)
        assign[far] = True
        for _ in range(5):
            if assign.all() or not assign.any():
                return None
            ca = unit(vecs[~assign].sum(axis=0))
            cb = unit(vecs[assign].sum(axis=0))
            new_assign = (vecs @ cb) > (vecs @ ca)
            if np.array_equal(new_assign, assign):
                break
            assign = new_assign
        if assign.all() or not assign.any():
            return None
        if assign.sum() > (~assign).sum():
            assign = ~assign
        ca = unit(vecs[~assign].sum(axis=0))
        cb = unit(vecs[assign].sum(axis=0))
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
                m = self.ws.members[k]
                for t, c in m.terms:
                    out[t] = out.get(t, 0.0) + tf(c)
                for e in m.entities:
                    out[e] = out.get(e, 0.0) + 1.0
            return out

        return self.ws.cosine(weights(a_keys), weights(b_keys))


def _language_overlap(a: Mapping[str, int], b: Mapping[str, int]) -> float:
    """How much of two stories' coverage is in the same languages: the sum over
    languages of the smaller of their two shares (1: the same mix, 0: none shared)."""
    ta, tb = sum(a.values()), sum(b.values())
    if ta <= 0 or tb <= 0:
        return 1.0
    return sum(min(n / ta, b.get(lang, 0) / tb) for lang, n in a.items())
