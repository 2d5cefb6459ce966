"""The clusterer's records: decisions, repair results and the working set as plain data.

`WorkingSetState` is everything the clusterer knows that a later decision depends on
(stories, members, document frequencies, the newest time, the eviction and repair
counters, the stories changed since the last repair pass, the lead fingerprint counts,
the matrix row of each story), so an import rebuilds the same working set and the
same decisions follow. `DocFreqDelta` is the change of the document frequencies between
two writes (a persisted table is a full copy followed by such deltas). Pure data: no
store, no network, no web.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


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
    slot: int = -1  # its row of the centroid matrix (-1: unknown, a free row is taken)
    xvector_sum: bytes = b""  # float32 sum of the multilingual vectors (b"": none kept)
    languages: tuple[tuple[str, int], ...] = ()  # members per language (): all English


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
    xvector: bytes = b""  # float32 multilingual unit vector (b"": none kept)
    language: str = "en"


@dataclass(frozen=True, slots=True)
class WorkingSetState:
    """Everything the clusterer knows, as records: export, persist, import."""

    stories: tuple[StoryState, ...]
    members: tuple[MemberState, ...]
    doc_freq: tuple[tuple[str, int], ...]
    n_docs: int
    newest: datetime | None
    added: int = 0  # articles added so far (the eviction cadence counts them)
    dirty: tuple[int, ...] = ()  # stories changed since the last repair pass
    leads: tuple[tuple[str, int], ...] = ()  # lead fingerprint -> articles seen with it
    since_repair: int = 0  # articles added since the last repair pass
    # The centroid matrix: its row count and the free rows in the order they are
    # taken from the end (0 with no row layout: rows are then assigned afresh).
    capacity: int = 0
    free: tuple[int, ...] = ()
    last_id: int = 0  # the highest story id used (the default allocator goes on from it)


@dataclass(frozen=True, slots=True)
class DocFreqDelta:
    """How the document frequencies changed since the last time they were taken: the
    new count of every term whose count changed, and the terms dropped by the
    vocabulary cap. Applied in order to the table it followed, it gives the new table."""

    n_docs: int
    counts: tuple[tuple[str, int], ...] = ()
    dropped: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RepairResult:
    """What a repair pass changed: readers of `from_id` go to `into_id`."""

    merges: tuple[tuple[int, int], ...] = ()  # (from_id, into_id)
    splits: tuple[tuple[int, int], ...] = ()  # (kept_id, new_id)
    moved: tuple[tuple[str, int], ...] = ()  # (article key, new story id)
