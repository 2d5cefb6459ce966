"""Encoding of records into column values and back (JSON text, UTC datetimes).

Pure: no database access. Both backends store JSON as text and datetimes as UTC.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from breakingon.records import (
    Brief,
    BriefSection,
    BriefSentence,
    Citation,
    LanguageReport,
    Place,
)


def to_utc(dt: datetime | None) -> datetime | None:
    """A timezone-aware UTC datetime (naive values are taken as UTC)."""
    if dt is None:
        return None
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def loads_tuple(text: str | None) -> tuple[Any, ...]:
    if not text:
        return ()
    value = json.loads(text)
    return tuple(value) if isinstance(value, list) else ()


def place_to_dict(p: Place) -> dict[str, Any]:
    return {
        "geonameid": p.geonameid,
        "name": p.name,
        "country": p.country,
        "kind": p.kind,
        "lat": p.lat,
        "lon": p.lon,
        "score": p.score,
    }


def places_from_json(text: str | None) -> tuple[Place, ...]:
    out = []
    for d in loads_tuple(text):
        out.append(
            Place(
                geonameid=int(d["geonameid"]),
                name=str(d["name"]),
                country=str(d.get("country", "")),
                kind=d.get("kind", "city"),
                lat=float(d.get("lat", 0.0)),
                lon=float(d.get("lon", 0.0)),
                score=float(d.get("score", 0.0)),
            )
        )
    return tuple(out)


def _sentence_to_dict(s: BriefSentence) -> dict[str, Any]:
    return {
        "text": s.text,
        "citations": [
            {"article_id": c.article_id, "outlet": c.outlet, "url": c.url} for c in s.citations
        ],
    }


def brief_to_dict(b: Brief) -> dict[str, Any]:
    """The brief as stored (the `brief` JSON column): `language` and `other_languages`
    are written only when set, so a brief stored before them reads back the same."""
    out: dict[str, Any] = {
        "headline": b.headline,
        "dek": [_sentence_to_dict(s) for s in b.dek],
        "sections": [
            {"heading": sec.heading, "sentences": [_sentence_to_dict(s) for s in sec.sentences]}
            for sec in b.sections
        ],
        "credits": list(b.credits),
        "writer": b.writer,
        "disagreements": [_sentence_to_dict(s) for s in b.disagreements],
    }
    if b.language:
        out["language"] = b.language
    if b.other_languages:
        out["other_languages"] = [
            {
                "language": r.language,
                "outlets": list(r.outlets),
                "sentences": [_sentence_to_dict(s) for s in r.sentences],
            }
            for r in b.other_languages
        ]
    return out


def _sentence_from_dict(d: dict[str, Any]) -> BriefSentence:
    return BriefSentence(
        text=str(d["text"]),
        citations=tuple(
            Citation(
                article_id=str(c["article_id"]), outlet=c.get("outlet", ""), url=c.get("url", "")
            )
            for c in d.get("citations", [])
        ),
    )


def brief_from_dict(d: dict[str, Any]) -> Brief:
    return Brief(
        headline=str(d.get("headline", "")),
        dek=tuple(_sentence_from_dict(s) for s in d.get("dek", [])),
        sections=tuple(
            BriefSection(
                heading=str(sec["heading"]),
                sentences=tuple(_sentence_from_dict(s) for s in sec.get("sentences", [])),
            )
            for sec in d.get("sections", [])
        ),
        credits=tuple(d.get("credits", [])),
        writer=str(d.get("writer", "extractive")),
        disagreements=tuple(_sentence_from_dict(s) for s in d.get("disagreements", [])),
        language=str(d.get("language", "")),
        other_languages=tuple(
            LanguageReport(
                language=str(r.get("language", "")),
                outlets=tuple(str(o) for o in r.get("outlets", [])),
                sentences=tuple(_sentence_from_dict(s) for s in r.get("sentences", [])),
            )
            for r in d.get("other_languages", [])
        ),
    )


def clean_text(value: str, limit: int) -> str:
    """Strip NUL and lone surrogates (PostgreSQL rejects them) and cap the length, so a
    poison row cannot wedge the pipeline."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        value = value.encode("utf-8", "replace").decode("utf-8")
    return value[:limit]
