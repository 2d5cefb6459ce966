"""CLI commands: stories (`cluster-file`, `pair-score`: batch entry points for evaluation).

`cluster-file` reads JSON Lines articles, feeds them to the same online clusterer the
pipeline uses (`breakingon.cluster.clusterer`), writes one `{"id", "story"}` line per
article. `pair-score` reads article pairs and writes the clusterer's join score of each.
Offline; never read gold fields (`cluster`, `story`, `overall`, `scores`); touch no store
and no network.
"""

from __future__ import annotations

import json
import re
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


def _line_object(line: str, lineno: int) -> tuple[dict[str, object], str | int]:
    """One input line as a JSON object and its `id` (a non-empty string or an integer)."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"line {lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(obj, dict):
        raise InputError(f"line {lineno}: expected a JSON object")
    ident = obj.get("id")
    if isinstance(ident, bool) or not isinstance(ident, str | int) or ident == "":
        raise InputError(f"line {lineno}: 'id' is missing or not a string/integer")
    return obj, ident


def parse_cluster_line(line: str, lineno: int) -> ClusterInput:
    """Parse one input line into a `ClusterInput`, reading only the allowed fields."""
    obj, ident = _line_object(line, lineno)
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
        language=parse_language(obj.get("lang"), lineno),
    )


_LANG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*")


def parse_language(value: object, lineno: int) -> str:
    """An optional `lang` field: a BCP 47 tag ("de", "pt-BR", "zh-TW"), of which the
    primary language is kept, lower-cased; absent or null: "" (detected from the text)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not _LANG.fullmatch(value.strip()):
        raise InputError(f"line {lineno}: 'lang' must be a language tag such as \"de\"")
    return value.strip().replace("_", "-").split("-")[0].lower()


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


def parse_pair_line(line: str, lineno: int) -> tuple[str, ClusterInput, ClusterInput]:
    """One `pair-score` line: `id`, `lang1`, `lang2`, `text1`, `text2` (nothing else read)."""
    obj, ident = _line_object(line, lineno)
    sides = []
    for n in (1, 2):
        text = obj.get(f"text{n}")
        if not isinstance(text, str):
            raise InputError(f"line {lineno}: 'text{n}' is missing or not a string")
        sides.append(
            ClusterInput(
                key=f"{ident}#{n}",
                title="",
                text=text,
                language=parse_language(obj.get(f"lang{n}"), lineno),
            )
        )
    return str(ident), sides[0], sides[1]


@app.command("pair-score")
def pair_score(
    input_path: Annotated[
        Path,
        typer.Argument(metavar="IN.jsonl", help="Pairs: {id, lang1, lang2, text1, text2}."),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", help="Where to write {id, similarity, same_story}."),
    ],
) -> None:
    """Score article pairs with the clusterer's join score and its decision.

    The same scoring the live clusterer uses to decide whether an article joins a story
    (embeddings, words, entities, language-weighted; docs/clustering.md), the second
    text against a story of the first. `similarity` (0..1) is that score as a join
    confidence: a logistic centred between the join floor and the sure-join threshold,
    0.73 at the sure join; `same_story` is whether it would join.
    """
    from breakingon.cluster.batch import score_pairs

    load()
    if not input_path.is_file():
        fail(f"{input_path}: no such file")
    ids: list[object] = []
    pairs: list[tuple[ClusterInput, ClusterInput]] = []
    seen: set[str] = set()
    try:
        with input_path.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                key, a, b = parse_pair_line(line, lineno)
                if key in seen:
                    raise InputError(f"line {lineno}: duplicate id {key!r}")
                seen.add(key)
                ids.append(json.loads(line)["id"])
                pairs.append((a, b))
    except InputError as exc:
        fail(f"{input_path}: {exc}")
    except UnicodeDecodeError as exc:
        fail(f"{input_path}: not UTF-8 text ({exc.reason})")
    scores = score_pairs(pairs)
    with output.open("w", encoding="utf-8") as fh:
        for ident, sc in zip(ids, scores, strict=True):
            row = {"id": ident, "similarity": round(sc.similarity, 4), "same_story": sc.same_story}
            fh.write(json.dumps(row) + "\n")
    same = sum(sc.same_story for sc in scores)
    typer.echo(f"{len(scores)} pairs scored, {same} the same story", err=True)
