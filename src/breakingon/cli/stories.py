"""CLI commands: stories (`cluster-file`, the batch entry point for evaluation).

Reads JSON Lines articles, feeds them to the same online clusterer the pipeline uses
(`breakingon.cluster.clusterer`), writes one `{"id", "story"}` line per article. Offline; never
reads gold fields (`cluster`, `story`); touches no store and no network.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from breakingon.cli.app import app, fail, load
from breakingon.cluster.represent import ClusterInput

_FIELDS = ("id", "title", "text", "published", "source", "url", "lang")


class InputError(ValueError):
    """A bad input line; the message names the line number."""


def _parse_published(value: object, lineno: int) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InputError(f"line {lineno}: 'published' must be an ISO date string or null")
    text = value.strip().replace("Z", "+00:00") if value.strip().endswith("Z") else value.strip()
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"line {lineno}: 'published' is not an ISO date: {value!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)  # naive times are taken as UTC
    return when.astimezone(UTC)


def parse_cluster_line(line: str, lineno: int) -> ClusterInput:
    """Parse one input line into a `ClusterInput`, reading only the allowed fields."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"line {lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise InputError(f"line {lineno}: expected a JSON object")
    ident = obj.get("id")
    if isinstance(ident, bool) or not isinstance(ident, str | int) or ident == "":
        raise InputError(f"line {lineno}: 'id' is missing or not a string/integer")
    title = obj.get("title") or ""
    text = obj.get("text") or ""
    if not isinstance(title, str) or not isinstance(text, str):
        raise InputError(f"line {lineno}: 'title' and 'text' must be strings")
    source = obj.get("source") or ""
    return ClusterInput(
        key=str(ident),
        title=title,
        text=text,
        published=_parse_published(obj.get("published"), lineno),
        outlet=source if isinstance(source, str) else "",
    )


def read_cluster_inputs(path: Path) -> tuple[list[ClusterInput], list[object]]:
    """Read a cluster-file input: the inputs and each line's original `id` value."""
    items: list[ClusterInput] = []
    ids: list[object] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            item = parse_cluster_line(line, lineno)
            if item.key in seen:
                raise InputError(f"line {lineno}: duplicate id {item.key!r}")
            seen.add(item.key)
            items.append(item)
            ids.append(json.loads(line)["id"])
    return items, ids


@app.command("cluster-file")
def cluster_file(
    input_path: Annotated[
        Path, typer.Argument(metavar="IN.jsonl", help="Articles, one JSON a line.")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write {id, story} lines.")
    ],
) -> None:
    """Cluster a JSON Lines file of articles into stories with the online clusterer.

    Articles are fed in order of `published` (stable); an undated line sorts as if
    published at the latest time seen on an earlier line, so it keeps its place in the
    file; with no dates at all, file order is kept.
    """
    from breakingon.cluster.batch import cluster_inputs

    load()  # settings such as BREAKINGON_EMBED_PRECISION; nothing else is touched
    if not input_path.is_file():
        fail(f"{input_path}: no such file")
    try:
        items, ids = read_cluster_inputs(input_path)
    except InputError as exc:
        fail(f"{input_path}: {exc}")
    except UnicodeDecodeError as exc:
        fail(f"{input_path}: not UTF-8 text ({exc.reason})")
    run = cluster_inputs(items)
    with output.open("w", encoding="utf-8") as fh:
        for item, ident in zip(items, ids, strict=True):
            fh.write(json.dumps({"id": ident, "story": run.stories[item.key]}) + "\n")
    typer.echo(f"{len(items)} articles -> {len(set(run.stories.values()))} stories", err=True)
