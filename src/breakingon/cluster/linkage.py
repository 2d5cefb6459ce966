"""Agglomeration over similarity matrices: the linkage steps of the repair pass.

Pure functions over a symmetric matrix of pair scores (numpy), no clusterer state:
average-link agglomeration down to a threshold, and the gap cut that bisects a group
where two tight halves are only loosely linked.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def average_link(
    sim: npt.NDArray[np.float64], threshold: float, min_groups: int = 1
) -> list[list[int]]:
    """Average-link agglomeration of a symmetric similarity matrix: groups are joined,
    most similar first, while their mean pairwise similarity is at least `threshold`
    and more than `min_groups` groups remain."""
    n = sim.shape[0]
    work = sim.astype(np.float64, copy=True)
    np.fill_diagonal(work, -np.inf)
    sizes = np.ones(n)
    groups: dict[int, list[int]] = {i: [i] for i in range(n)}
    while len(groups) > min_groups:
        flat = int(np.argmax(work))
        i, j = divmod(flat, n)
        if work[i, j] < threshold:
            break
        i, j = min(i, j), max(i, j)
        row = (sizes[i] * work[i] + sizes[j] * work[j]) / (sizes[i] + sizes[j])
        work[i, :] = row
        work[:, i] = row
        work[i, i] = -np.inf
        work[j, :] = -np.inf
        work[:, j] = -np.inf
        sizes[i] += sizes[j]
        groups[i].extend(groups.pop(j))
    return [sorted(g) for g in groups.values()]


def gap_cut(sim: npt.NDArray[np.float64], ratio: float, min_size: int) -> list[list[int]]:
    """Cut a group in two where a clear gap separates two tight halves, recursively.

    The halves are average link's last two groups. They are separate events when each
    has at least `min_size` members and the mean score between them is below `ratio`
    times the looser half's own mean pair score: two reports of two murders, each told
    by several outlets, score 0.5-0.6 within and 0.2-0.25 across. Whole groups are
    returned when there is no such gap (ratio <= 0 disables the cut).
    """
    n = sim.shape[0]
    whole = [list(range(n))]
    if ratio <= 0 or n < 2 * min_size:
        return whole
    halves = average_link(sim, -np.inf, min_groups=2)
    if len(halves) != 2 or min(len(h) for h in halves) < min_size:
        return whole

    def within(g: list[int]) -> float:
        sub = sim[np.ix_(g, g)]
        return float((sub.sum() - np.trace(sub)) / (len(g) * (len(g) - 1)))

    a, b = halves
    across = float(sim[np.ix_(a, b)].mean())
    if across >= ratio * min(within(a), within(b)):
        return whole
    out: list[list[int]] = []
    for half in (a, b):
        for part in gap_cut(sim[np.ix_(half, half)], ratio, min_size):
            out.append([half[i] for i in part])
    return out
