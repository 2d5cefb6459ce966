"""CLI command `extract`: debug and score article extraction.

`extract` runs the pipeline's own `extract_article` on saved pages or fetched URLs and
prints one JSON line per input. URLs are fetched through the crawler's `Fetcher` under
the SSRF policy of the settings (BREAKINGON_FETCH_ALLOW_NETWORKS). This module only
wires arguments to those functions: no SQL, no parsing of its own, and it reads the
environment only through `breakingon.settings`.
"""

from __future__ import annotations

import asyncio
import gzip
import json
from pathlib import Path
from typing import Annotated

import typer

from breakingon.cli.app import app, load
from breakingon.extract.article import MAX_PAGE_BYTES, extract_article
from breakingon.records import Extracted
from breakingon.settings import Settings


def _read_page(path: Path) -> bytes:
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as handle:
            raw = handle.read(MAX_PAGE_BYTES + 1)  # a gzip bomb stops at the cap
    else:
        if path.stat().st_size > MAX_PAGE_BYTES:
            raise ValueError(f"file over {MAX_PAGE_BYTES} bytes")
        raw = path.read_bytes()
    if len(raw) > MAX_PAGE_BYTES:
        raise ValueError(f"page over {MAX_PAGE_BYTES} bytes")
    return raw


async def _fetch_pages(urls: list[str], settings: Settings) -> dict[str, tuple[bytes, str, str]]:
    """url -> (body, final url, error) through the project's fetcher and SSRF policy."""
    from breakingon.crawl.http import Fetcher
    from breakingon.crawl.netpolicy import NetPolicy

    policy = NetPolicy(allow_networks=settings.fetch_allow_networks)
    results: dict[str, tuple[bytes, str, str]] = {}
    async with Fetcher(policy=policy) as fetcher:
        for url in urls:
            got = await fetcher.fetch(url, kind="page")
            error = got.error or ("" if got.status == 200 else f"http_{got.status}")
            results[url] = (got.body, got.final_url or url, error)
    return results


def _line(source: str, result: Extracted) -> str:
    return json.dumps(
        {
            "source": source,
            "url": result.url,
            "title": result.title,
            "text": result.text,
            "authors": list(result.authors),
            "published": result.published.isoformat() if result.published else None,
            "language": result.language,
            "image": result.image,
        },
        ensure_ascii=False,
    )


@app.command("extract")
def extract_command(
    inputs: Annotated[list[str], typer.Argument(help="Saved pages (.html, .html.gz) or URLs.")],
    url: Annotated[
        str, typer.Option(help="Page URL for saved files (resolves links, dates).")
    ] = "",
) -> None:
    """Extract article text and metadata; print one JSON line per input."""
    urls = [i for i in inputs if i.lower().startswith(("http://", "https://"))]
    fetched: dict[str, tuple[bytes, str, str]] = {}
    failures = 0
    if urls:
        try:
            fetched = asyncio.run(_fetch_pages(urls, load()))
        except ImportError:
            for item in urls:
                typer.echo(f"error: {item}: fetching URLs needs breakingon.crawl.http", err=True)
            failures += len(urls)
    for item in inputs:
        if item in urls:
            if item not in fetched:
                continue
            body, final_url, error = fetched[item]
            if error:
                typer.echo(f"error: {item}: {error}", err=True)
                failures += 1
                continue
            result = extract_article(body, final_url)
        else:
            path = Path(item)
            try:
                body = _read_page(path)
            except (OSError, ValueError, EOFError, gzip.BadGzipFile) as exc:
                typer.echo(f"error: {item}: {exc}", err=True)
                failures += 1
                continue
            result = extract_article(body, url)
        if result.error:
            typer.echo(f"error: {item}: {result.error}", err=True)
            failures += 1
            continue
        typer.echo(_line(item, result))
    if failures:
        raise typer.Exit(1)
