"""Bytes for the clusterer's working-set records (stored in the database), and back.

JSON with base64 vectors, zlib-compressed: no pickle, so a database row can never
execute code when it is read back. Per story and per member a blob; the set-wide rest
(document frequencies: a full copy and the deltas written after it; the working-set
head: newest time, counters, changed stories, lead counts, matrix rows, live story ids,
how many deltas follow the full copy) as text. Fields added later are optional: blobs
written before them still decode.
"""

from __future__ import annotations

import base64
import json
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from breakingon.cluster.records import DocFreqDelta, MemberState, StoryState, WorkingSetState


def _t(dt: datetime | None) -> str | None:
    return dt.isoformat() if dt is not None else None


def _dt(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s) if s else None


def _pack(obj: dict[str, Any]) -> bytes:
    return zlib.compress(json.dumps(obj, separators=(",", ":")).encode("utf-8"), 3)


def _unpack(blob: bytes) -> dict[str, Any]:
    value = json.loads(zlib.decompress(blob).decode("utf-8"))
    if not isinstance(value, dict):
        raise ValueError("bad state blob")
    return value


def story_to_bytes(s: StoryState) -> bytes:
    return _pack(
        {
            "id": s.id,
            "v": base64.b64encode(s.vector_sum).decode("ascii"),
            "n": s.count,
            "first": _t(s.first),
            "last": _t(s.last),
            "terms": [list(p) for p in s.terms],
            "ents": [list(p) for p in s.entities],
            "outlets": list(s.outlets),
            "members": list(s.members),
            "tn": s.term_norm,
            "en": s.entity_norm,
            "tpl": s.template,
            "nd": s.norm_docs,
            "slot": s.slot,
            "xv": base64.b64encode(s.xvector_sum).decode("ascii"),
            "langs": [list(p) for p in s.languages],
        }
    )


def story_from_bytes(blob: bytes) -> StoryState:
    d = _unpack(blob)
    return StoryState(
        id=int(d["id"]),
        vector_sum=base64.b64decode(d["v"]),
        count=int(d["n"]),
        first=_dt(d["first"]),
        last=_dt(d["last"]),
        terms=tuple((str(k), float(v)) for k, v in d["terms"]),
        entities=tuple((str(k), float(v)) for k, v in d["ents"]),
        outlets=tuple(d["outlets"]),
        members=tuple(d["members"]),
        term_norm=float(d["tn"]),
        entity_norm=float(d["en"]),
        # Absent in blobs written before they existed: not a template, norms to refresh
        # on first use, a free matrix row.
        template=bool(d.get("tpl", False)),
        norm_docs=int(d.get("nd", 0)),
        slot=int(d.get("slot", -1)),
        xvector_sum=base64.b64decode(d.get("xv", "")),
        languages=tuple((str(k), int(v)) for k, v in d.get("langs", [])),
    )


def member_to_bytes(m: MemberState) -> bytes:
    return _pack(
        {
            "key": m.key,
            "sid": m.story_id,
            "v": base64.b64encode(m.vector).decode("ascii"),
            "terms": [list(p) for p in m.terms],
            "ents": list(m.entities),
            "at": _t(m.published),
            "outlet": m.outlet,
            "xv": base64.b64encode(m.xvector).decode("ascii"),
            "lang": m.language,
        }
    )


def member_from_bytes(blob: bytes) -> MemberState:
    d = _unpack(blob)
    return MemberState(
        key=str(d["key"]),
        story_id=int(d["sid"]),
        vector=base64.b64decode(d["v"]),
        terms=tuple((str(k), int(v)) for k, v in d["terms"]),
        entities=tuple(d["ents"]),
        published=_dt(d["at"]),
        outlet=str(d["outlet"]),
        xvector=base64.b64decode(d.get("xv", "")),
        language=str(d.get("lang", "en")),
    )


def df_to_text(doc_freq: tuple[tuple[str, int], ...], n_docs: int) -> str:
    raw = json.dumps({"n": n_docs, "df": doc_freq}, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(raw, 3)).decode("ascii")


def df_from_text(text: str) -> tuple[tuple[tuple[str, int], ...], int]:
    d = json.loads(zlib.decompress(base64.b64decode(text)).decode("utf-8"))
    return tuple((str(k), int(v)) for k, v in d["df"]), int(d["n"])


def df_delta_to_text(delta: DocFreqDelta) -> str:
    obj = {"n": delta.n_docs, "set": [list(p) for p in delta.counts], "del": list(delta.dropped)}
    return base64.b64encode(_pack(obj)).decode("ascii")


def df_delta_from_text(text: str) -> DocFreqDelta:
    d = _unpack(base64.b64decode(text))
    return DocFreqDelta(
        n_docs=int(d["n"]),
        counts=tuple((str(k), int(v)) for k, v in d["set"]),
        dropped=tuple(str(k) for k in d["del"]),
    )


def apply_df_delta(doc_freq: dict[str, int], delta: DocFreqDelta) -> int:
    """Apply one delta to a table in place (the next one in write order); its `n_docs`."""
    doc_freq.update(delta.counts)
    for term in delta.dropped:
        doc_freq.pop(term, None)
    return delta.n_docs


@dataclass(frozen=True, slots=True)
class WorkingSetHead:
    """The set-wide part of a working set besides the document frequencies."""

    story_ids: tuple[int, ...]  # the stories in the working set (the rest were evicted)
    newest: datetime | None
    added: int
    since_repair: int
    dirty: tuple[int, ...]
    leads: tuple[tuple[str, int], ...]
    capacity: int
    free: tuple[int, ...]
    last_id: int
    oldest_last: datetime | None  # the earliest `last` of a dated story (what to load)
    df_deltas: int = 0  # document-frequency deltas written after the full copy, in order


def head_of(state: WorkingSetState, df_deltas: int = 0) -> WorkingSetHead:
    lasts = [s.last for s in state.stories if s.last is not None]
    return WorkingSetHead(
        story_ids=tuple(s.id for s in state.stories),
        newest=state.newest,
        added=state.added,
        since_repair=state.since_repair,
        dirty=state.dirty,
        leads=state.leads,
        capacity=state.capacity,
        free=state.free,
        last_id=state.last_id,
        oldest_last=min(lasts, default=None),
        df_deltas=df_deltas,
    )


def head_to_text(h: WorkingSetHead) -> str:
    obj = {
        "ids": list(h.story_ids),
        "newest": _t(h.newest),
        "added": h.added,
        "since_repair": h.since_repair,
        "dirty": list(h.dirty),
        "leads": [list(p) for p in h.leads],
        "capacity": h.capacity,
        "free": list(h.free),
        "last_id": h.last_id,
        "oldest_last": _t(h.oldest_last),
        "df_deltas": h.df_deltas,
    }
    return base64.b64encode(_pack(obj)).decode("ascii")


def head_from_text(text: str) -> WorkingSetHead:
    d = _unpack(base64.b64decode(text))
    return WorkingSetHead(
        story_ids=tuple(int(x) for x in d["ids"]),
        newest=_dt(d["newest"]),
        added=int(d["added"]),
        since_repair=int(d["since_repair"]),
        dirty=tuple(int(x) for x in d["dirty"]),
        leads=tuple((str(k), int(v)) for k, v in d["leads"]),
        capacity=int(d["capacity"]),
        free=tuple(int(x) for x in d["free"]),
        last_id=int(d["last_id"]),
        oldest_last=_dt(d["oldest_last"]),
        df_deltas=int(d.get("df_deltas", 0)),  # absent in heads written before deltas
    )
