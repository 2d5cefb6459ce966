"""Batch clustering: a file of articles through the online clusterer, and B-cubed.

`cluster_inputs` is what `breakingon cluster-file` runs: the articles in arrival order
(`order_inputs`), represented, fed to the same `StoryClusterer.add`/`repair` the live
pipeline calls. `score_pairs` is what `breakingon pair-score` runs: each pair scored as
the join decision scores an article against a story of one. `bcubed` scores an
assignment against gold labels (evaluation only).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from breakingon.cluster.clusterer import ClusterSettings, Decision, RepairResult, StoryClusterer
from breakingon.cluster.represent import ClusterInput, Representation, represent


@dataclass(frozen=True, slots=True)
class ClusterRun:
    """Result of a batch run: final story per article key, and the decision trail."""

    stories: dict[str, int]
    decisions: tuple[Decision, ...]
    repairs: tuple[RepairResult, ...]


def order_inputs(items: Sequence[ClusterInput]) -> list[ClusterInput]:
    """Arrival order for a batch: by `published`, stable; undated items keep their place.

    An undated item sorts as if published at the latest time seen on an earlier line
    (or before everything when none was), so it stays right after the line it followed
    in the file; with no times at all, file order is kept.
    """
    keyed: list[tuple[int, float, int, ClusterInput]] = []
    carried: float | None = None
    for pos, item in enumerate(items):
        if item.published is not None:
            ts = item.published.timestamp()
            carried = ts if carried is None else max(carried, ts)
            keyed.append((1, ts, pos, item))
        elif carried is None:
            keyed.append((0, 0.0, pos, item))
        else:
            keyed.append((1, carried, pos, item))
    keyed.sort(key=lambda k: (k[0], k[1], k[2]))
    return [k[3] for k in keyed]


def cluster_inputs(
    items: Sequence[ClusterInput],
    settings: ClusterSettings | None = None,
    reps: Sequence[Representation] | None = None,
    clusterer: StoryClusterer | None = None,
) -> ClusterRun:
    """Batch entry point: order, represent, feed the online clusterer, repair periodically.

    The same `StoryClusterer.add`/`repair` the live pipeline calls; repair runs every
    `settings.repair_every` articles and once at the end, and its merges/moves are
    applied to the returned assignment.
    """
    s = settings or ClusterSettings()
    ordered = order_inputs(items)
    if reps is None:
        reps = represent(ordered)
    else:
        by_key = {r.key: r for r in reps}
        reps = [by_key[it.key] for it in ordered]
    cl = clusterer or StoryClusterer(s)
    assigned: dict[str, int] = {}
    decisions: list[Decision] = []
    repairs: list[RepairResult] = []

    def apply(result: RepairResult) -> None:
        redirect = dict(result.merges)
        if redirect:
            for key, sid in assigned.items():
                while sid in redirect:
                    sid = redirect[sid]
                assigned[key] = sid
        for key, sid in result.moved:
            assigned[key] = sid
        repairs.append(result)

    for n, (item, rep) in enumerate(zip(ordered, reps, strict=True), start=1):
        d = cl.add(rep, item.published, item.outlet, item.duplicate_of)
        decisions.append(d)
        assigned[item.key] = d.story_id
        if s.repair_every > 0 and n % s.repair_every == 0:
            apply(cl.repair())
    apply(cl.repair())
    return ClusterRun(stories=assigned, decisions=tuple(decisions), repairs=tuple(repairs))


@dataclass(frozen=True, slots=True)
class PairScore:
    """How alike two articles are, by the clusterer's own join score."""

    score: float  # the join score itself
    similarity: float  # its join confidence, 0..1 (`join_confidence`)
    same_story: bool  # whether the join decision would put them in one story


def join_confidence(score: float, settings: ClusterSettings) -> float:
    """A join score as a confidence in 0..1: a logistic centred midway between the
    clusterer's two join thresholds, `join_floor` (a join when clearly ahead of every
    other story: 0.27) and `join_threshold` (a sure join: 0.73). The score is a weighted
    sum of cosines whose bearing on sameness saturates at both ends (two unrelated
    reports score anywhere below the floor; two of one event anywhere above the sure
    join); the logistic keeps its order and spends the 0..1 range where the clusterer
    decides."""
    mid = (settings.join_floor + settings.join_threshold) / 2.0
    scale = (settings.join_threshold - settings.join_floor) / 2.0
    return 1.0 / (1.0 + math.exp(-(score - mid) / scale))


def score_pairs(
    pairs: Sequence[tuple[ClusterInput, ClusterInput]],
    settings: ClusterSettings | None = None,
) -> list[PairScore]:
    """Score article pairs with the join decision's score (`StoryClusterer.pair_score`).

    The online IDF is learnt from every text of the batch first, as the live clusterer
    learns it from the stream; a pair is one story if the score reaches the sure-join
    threshold (`join_threshold`): with one story and no rivals, the margin rule has no
    evidence to go on. `similarity` is the score's `join_confidence`.
    """
    s = settings or ClusterSettings()
    flat = [item for pair in pairs for item in pair]
    reps = represent(flat)
    cl = StoryClusterer(s)
    cl.count_documents(reps)
    out: list[PairScore] = []
    for i in range(len(pairs)):
        score = cl.pair_score(reps[2 * i], reps[2 * i + 1])
        out.append(PairScore(score, join_confidence(score, s), score >= s.join_threshold))
    return out


def bcubed(
    predicted: Mapping[str, object], gold: Mapping[str, object]
) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 (Bagga & Baldwin 1998) over the gold items."""
    keys = [k for k in gold if k in predicted]
    if not keys:
        return 0.0, 0.0, 0.0
    pred_groups: dict[object, set[str]] = {}
    gold_groups: dict[object, set[str]] = {}
    for k in keys:
        pred_groups.setdefault(predicted[k], set()).add(k)
        gold_groups.setdefault(gold[k], set()).add(k)
    p = r = 0.0
    for k in keys:
        pc, gc = pred_groups[predicted[k]], gold_groups[gold[k]]
        both = len(pc & gc)
        p += both / len(pc)
        r += both / len(gc)
    p /= len(keys)
    r /= len(keys)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f
