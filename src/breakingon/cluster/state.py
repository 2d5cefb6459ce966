"""Bytes for the clusterer's working-set records (stored in the database), and back.

JSON with base64 vectors, zlib-compressed: no pickle, so a database row can never
execute code when it is read back.
"""

from __future__ import annotations

import base64
import json
import zlib
from datetime import datetime
from typing import Any

from breakingon.cluster.clusterer import MemberState, StoryState


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
        template=bool(d.get("tpl", False)),  # absent in blobs written before it existed
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
    )


def df_to_text(doc_freq: tuple[tuple[str, int], ...], n_docs: int) -> str:
    raw = json.dumps({"n": n_docs, "df": doc_freq}, separators=(",", ":")).encode("utf-8")
    return base64.b64encode(zlib.compress(raw, 3)).decode("ascii")


def df_from_text(text: str) -> tuple[tuple[tuple[str, int], ...], int]:
    d = json.loads(zlib.decompress(base64.b64decode(text)).decode("utf-8"))
    return tuple((str(k), int(v)) for k, v in d["df"]), int(d["n"])
