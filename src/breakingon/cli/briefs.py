"""CLI commands: briefs (`summarize-file`, the batch entry point for evaluation).

Reads story clusters from JSON Lines, runs the same `write_brief` stage the pipeline
uses, and writes one brief a line. Offline; never reads a gold field (`summary`).
This module must not touch the store or the network.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer

from breakingon.cli.app import app, fail


def _sources(line: dict[str, Any], story_id: str) -> list[Any]:
    from breakingon.story.brief.extractive import BriefSource

    documents = line.get("documents")
    if not isinstance(documents, list) or not documents:
        raise ValueError("'documents' must be a non-empty list")
    out = []
    for k, doc in enumerate(documents):
        if not isinstance(doc, dict) or not isinstance(doc.get("text", ""), str):
            raise ValueError(f"document {k} must be an object with a text")
        url = str(doc.get("url") or "")
        outlet = str(doc.get("source") or "") or (urlsplit(url).hostname or "") or f"Source {k + 1}"
        out.append(
            BriefSource(
                id=str(doc.get("id") or f"{story_id}#{k + 1}"),
                title=str(doc.get("title") or ""),
                text=str(doc.get("text") or ""),
                outlet=outlet,
                url=url,
            )
        )
    return out


def _language(line: dict[str, Any], number: int) -> tuple[str, list[int] | None]:
    """The brief's language and the documents it reads (None: all). The line's `lang`,
    else the documents' own `lang` fields, the most common one, whose documents alone are
    read (as the story stage reads a story's dominant language: docs/briefs.md); none
    given: "" (English rules) and every document."""
    from breakingon.cli.stories import InputError, parse_language

    try:
        chosen = parse_language(line.get("lang"), number)
        docs = line["documents"]
        langs = [parse_language(d.get("lang"), number) for d in docs]
    except InputError as exc:
        raise ValueError(str(exc)) from None
    if chosen:
        keep = [k for k, lang in enumerate(langs) if lang in (chosen, "")]
        return chosen, keep if len(keep) < len(docs) else None
    known = [lang for lang in langs if lang]
    if not known:
        return "", None
    dominant = max(sorted(set(known)), key=known.count)
    keep = [k for k, lang in enumerate(langs) if lang in (dominant, "")]
    return dominant, keep if len(keep) < len(docs) else None


def brief_to_json(story_id: str, brief: Any) -> dict[str, Any]:
    """The output record of `summarize-file` for one brief."""

    def sentence(s: Any) -> dict[str, Any]:
        return {
            "text": s.text,
            "citations": [
                {"article_id": c.article_id, "outlet": c.outlet, "url": c.url} for c in s.citations
            ],
        }

    cited: dict[str, dict[str, str]] = {}
    for s in brief.dek + tuple(x for sec in brief.sections for x in sec.sentences):
        for c in s.citations:
            cited.setdefault(
                c.article_id, {"article_id": c.article_id, "outlet": c.outlet, "url": c.url}
            )
    return {
        "id": story_id,
        "headline": brief.headline,
        "dek": [sentence(s) for s in brief.dek],
        "sections": [
            {"heading": sec.heading, "sentences": [sentence(s) for s in sec.sentences]}
            for sec in brief.sections
        ],
        "summary": brief.summary_text(),
        "citations": list(cited.values()),
        "credits": list(brief.credits),
        "writer": brief.writer,
        "language": brief.language,
    }


@app.command("summarize-file")
def summarize_file(
    input_path: Annotated[Path, typer.Argument(help="JSON Lines: id, documents[{title,text}]")],
    output: Annotated[Path, typer.Option("--output", "-o", help="where to write briefs")],
) -> None:
    """Write a cited extractive brief for each story cluster of a JSON Lines file.

    A line may name its language (`lang`, e.g. "de"), or its documents theirs: the brief
    is written in it (the most common one) from the documents in it."""
    from breakingon.story.brief.extractive import BriefSettings, write_brief

    if not input_path.is_file():
        fail(f"{input_path}: no such file")
    cfg = BriefSettings()
    errors = 0
    with input_path.open(encoding="utf-8") as src, output.open("w", encoding="utf-8") as out:
        for number, raw in enumerate(src, start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
                if not isinstance(line, dict):
                    raise ValueError("not a JSON object")
                story_id = str(line.get("id", number))
                sources = _sources(line, story_id)
                language, keep = _language(line, number)
                if keep is not None:
                    sources = [sources[k] for k in keep]
                brief = write_brief(sources, cfg, language)
            except (ValueError, TypeError) as exc:
                errors += 1
                typer.echo(f"error: {input_path}:{number}: {exc}", err=True)
                continue
            out.write(json.dumps(brief_to_json(story_id, brief), ensure_ascii=False) + "\n")
    if errors:
        typer.echo(f"{errors} line(s) skipped", err=True)
        sys.exit(1)
