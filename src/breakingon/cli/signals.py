"""CLI commands: signals (`classify-file`, `geotag-file`).

Batch entry points for evaluation: they call the same stage functions as the live
pipeline (`classify.classify_many`, `geotag.geotag`), read JSON Lines, never read a
gold field, and touch no database and no network.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from breakingon.cli.app import app, fail


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        fail(f"{path}: no such file")
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                fail(f"{path}:{n}: not JSON ({exc.msg})")
            if not isinstance(obj, dict) or "id" not in obj:
                fail(f"{path}:{n}: expected an object with an 'id'")
            yield obj


def _language(r: dict[str, Any]) -> str:
    """A record's language: its `lang`/`language` field, else detected from its title and
    the head of its text ("" when unsure: read as English)."""
    from breakingon.tag.lang import detect_language

    given = r.get("lang") or r.get("language")
    if isinstance(given, str) and given.strip():
        return given.strip().lower()
    return detect_language(f"{r.get('title') or ''}. {str(r.get('text') or '')[:2000]}")


def _feed_sections(r: dict[str, Any]) -> tuple[str, ...]:
    """A record's own section or category: `sections`/`categories` (a list or a string)
    or `section`/`category` (a string)."""
    out: list[str] = []
    for key in ("sections", "section", "categories", "category"):
        v = r.get(key)
        if isinstance(v, str) and v.strip():
            out.append(v)
        elif isinstance(v, list):
            out.extend(str(x) for x in v if isinstance(x, str) and x.strip())
    return tuple(out)


@app.command("classify-file")
def classify_file(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="IN.jsonl",
            help="id, title, text; optional section(s)/category, domain or url (the outlet),"
            " lang (else detected)",
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="OUT.jsonl: {id, label}")],
    batch: Annotated[int, typer.Option(help="articles per batch")] = 256,
) -> None:
    """Put each article in one section of the taxonomy (offline)."""
    from breakingon.sources.catalogue import outlet_focus
    from breakingon.tag.sections import classify_many

    rows = list(_read_jsonl(input_path))
    with output.open("w", encoding="utf-8") as out:
        for i in range(0, len(rows), batch):
            chunk = rows[i : i + batch]
            items = [
                (str(r.get("title") or ""), str(r.get("text") or ""), _feed_sections(r))
                for r in chunk
            ]
            focus = [outlet_focus(str(r.get("domain") or r.get("url") or "")) for r in chunk]
            langs = [_language(r) for r in chunk]
            results = classify_many(items, focus=focus, languages=langs)
            for r, res in zip(chunk, results, strict=True):
                out.write(json.dumps({"id": r["id"], "label": res.label}) + "\n")


@app.command("geotag-file")
def geotag_file(
    input_path: Annotated[
        Path,
        typer.Argument(
            metavar="IN.jsonl",
            help="id, title, text; optional country and place (the outlet's), domain or url"
            " (the outlet, for its catalogue country and place when those are absent), lang",
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="OUT.jsonl: {id, places}")],
) -> None:
    """Tag each article with the places it is about, most relevant first (offline)."""
    from breakingon.sources.catalogue import outlet_home
    from breakingon.tag.local import geotag_local

    with output.open("w", encoding="utf-8") as out:
        for r in _read_jsonl(input_path):
            country, place = str(r.get("country") or ""), str(r.get("place") or "")
            if not (country and place):
                home = outlet_home(str(r.get("domain") or r.get("url") or ""))
                if not country:
                    country, place = home[0], place or home[1]
                elif not place and home[0] == country.strip().upper():
                    place = home[1]
            places = geotag_local(
                str(r.get("title") or ""), str(r.get("text") or ""), country, place, _language(r)
            )
            rec = {
                "id": r["id"],
                "places": [
                    {
                        "geonameid": p.geonameid,
                        "name": p.name,
                        "country": p.country,
                        "kind": p.kind,
                        "lat": p.lat,
                        "lon": p.lon,
                    }
                    for p in places
                ],
            }
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
