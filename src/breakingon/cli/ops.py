"""CLI commands: backup, restore, ingest-warc (operations on the configured store).

Composition only: settings -> store -> `breakingon.ops.backup` / `breakingon.ops.warc` /
`Pipeline(crawl=False)`. The rich progress bar of `ingest-warc` is drawn here. This
module holds no SQL and no stage logic.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

from breakingon.cli.app import app, fail, load, open_configured_store, prepare_data_dir


@app.command("backup")
def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup.")],
) -> None:
    """Online backup of the store (SQLite backup API, or pg_dump), verified."""
    from breakingon.ops.backup import BackupError, backup_database

    settings = load()
    try:
        info = backup_database(settings.effective_database_url, file)
    except BackupError as exc:
        fail(str(exc), code=3)
        return
    typer.echo(
        json.dumps(
            {
                "backup": str(info.path),
                "dialect": info.dialect,
                "revision": info.revision,
                "bytes": info.bytes,
            }
        )
    )


@app.command("restore")
def restore(
    file: Annotated[Path, typer.Argument(help="A file written by `breakingon backup`.")],
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite even if BreakingOn seems to be running.")
    ] = False,
) -> None:
    """Replace the store with a backup (refuses a running database or a newer schema)."""
    from breakingon.ops.backup import BackupError, restore_database

    settings = load()
    url = settings.effective_database_url
    if url.startswith("sqlite:///") and not settings.database_url:
        prepare_data_dir(settings)
    try:
        info = restore_database(file, url, force=force)
    except BackupError as exc:
        fail(str(exc), code=3)
        return
    typer.echo(json.dumps({"restored": str(file), "into": url, "revision": info.revision}))


@app.command("ingest-warc")
def ingest_warc(
    files: Annotated[list[Path], typer.Argument(help="WARC files (.warc or .warc.gz).")],
    process: Annotated[
        bool, typer.Option(help="Cluster and update stories after ingesting, until drained.")
    ] = True,
    limit: Annotated[
        int | None, typer.Option(help="Stop after this many records (resume later).")
    ] = None,
    batch: Annotated[int, typer.Option(help="Records per commit.")] = 32,
) -> None:
    """Stream WARC archives through extraction into stories; resumable."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    from breakingon.cli.serve import setup_logging
    from breakingon.extract.article import ExtractorPool, close_shared_pools
    from breakingon.ops.warc import ingest_warc as ingest_one

    for f in files:
        if not f.is_file():
            fail(f"no such file: {f}")
    settings = load()
    setup_logging(settings, quiet_console=True)
    store = open_configured_store(settings)
    stop = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda *_: stop.set())
    reports: list[dict[str, Any]] = []
    console = Console(stderr=True)
    remaining = limit
    try:
        with (
            ExtractorPool(
                workers=max(1, settings.extract_workers), timeout_s=settings.extract_timeout_s
            ) as extractor,
            Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TimeRemainingColumn(),
                console=console,
                disable=not sys.stderr.isatty(),
            ) as bar,
        ):
            for f in files:
                if stop.is_set() or (remaining is not None and remaining <= 0):
                    break
                task = bar.add_task(f.name, total=f.stat().st_size)

                def advance(done: int, total: int, task: Any = task) -> None:
                    bar.update(task, completed=done, total=total)

                report = ingest_one(
                    f, store, extractor, batch_size=batch, limit=remaining, stop=stop,
                    progress=advance,
                )  # fmt: skip
                reports.append(report.as_dict())
                if remaining is not None:
                    remaining -= report.records
        if process and not stop.is_set():
            from breakingon.pipeline import Pipeline

            pipeline = Pipeline(settings, store, crawl=False)

            async def drain() -> None:
                done = asyncio.Event()
                loop = asyncio.get_running_loop()
                loop.add_signal_handler(signal.SIGINT, done.set)
                await pipeline.run(done, once=True)

            asyncio.run(drain())
    finally:
        signal.signal(signal.SIGINT, previous)
        close_shared_pools()
        counts = store.stats()
        store.close()
    typer.echo(json.dumps({"files": reports, **counts}))
    if stop.is_set():
        raise typer.Exit(130)
