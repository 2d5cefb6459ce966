"""CLI commands: run (everything on one machine), worker (scale-out), crawl."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import time
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import typer

from breakingon.cli.app import app, fail, load, load_for_server, open_configured_store
from breakingon.settings import Settings
from breakingon.store import Store


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def setup_logging(settings: Settings, quiet_console: bool = False) -> None:
    """Structured logs on stderr (JSON with BREAKINGON_LOG_JSON=true)."""
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_json:
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    level = getattr(logging, settings.log_level.upper())
    root.setLevel(logging.WARNING if quiet_console and level < logging.WARNING else level)
    for noisy in ("httpx", "httpcore", "uvicorn.access", "trafilatura", "sentence_transformers"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _install_stop(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # pragma: no cover - non-Unix
            pass


def _status_line(store: Store, started: float) -> str:
    s = store.stats()
    b = store.backlog()
    up = int(time.monotonic() - started)
    return (
        f"up {up // 60}m{up % 60:02d}s | feeds {s['feeds']} (due {b.get('feeds_due', 0)}, "
        f"failing {b.get('feeds_failing', 0)}) | articles {s['articles']} "
        f"(to fetch {b.get('articles_discovered', 0)}, to cluster "
        f"{b.get('articles_extracted', 0)}) | stories {s['stories']} "
        f"(to update {b.get('stories_dirty', 0)})"
    )


async def _status_loop(store: Store, stop: asyncio.Event, live: bool) -> None:
    started = time.monotonic()
    if live:
        from rich.console import Console
        from rich.live import Live
        from rich.text import Text

        console = Console(stderr=True)
        with Live(Text("starting…"), console=console, refresh_per_second=1, transient=True) as lv:
            while not stop.is_set():
                line = await asyncio.to_thread(_status_line, store, started)
                lv.update(Text(line))
                try:
                    await asyncio.wait_for(stop.wait(), 2.0)
                except TimeoutError:
                    pass
        return
    log = logging.getLogger("breakingon.status")
    while not stop.is_set():
        try:
            await asyncio.wait_for(stop.wait(), 30.0)
        except TimeoutError:
            log.info(await asyncio.to_thread(_status_line, store, started))


async def _serve_web(
    settings: Settings,
    store: Store,
    health: Any,
    stop: asyncio.Event,
    clock: Callable[[], datetime] | None = None,
) -> None:
    import uvicorn

    from breakingon.cli.httpserver import uvicorn_options
    from breakingon.cli.web import service_routes
    from breakingon.web.app import create_app

    routes = service_routes(store, health)
    web = (
        create_app(settings, store, extra_routes=routes)
        if clock is None
        else create_app(settings, store, extra_routes=routes, clock=clock)
    )
    config = uvicorn.Config(
        web,
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        **uvicorn_options(settings),  # header cap and deadline, keep-alive, concurrency
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await stop.wait()
    server.should_exit = True
    await task


@app.command("run")
def run(
    port: Annotated[int | None, typer.Option(help="Port of the web server.")] = None,
    host: Annotated[str | None, typer.Option(help="Address of the web server.")] = None,
) -> None:
    """Everything on one machine: scheduler, fetchers, stages and the web server."""
    # --host/--port move the default public base URL too (feed links follow the port)
    settings = load_for_server(host, port)
    serve_everything(settings, open_configured_store(settings))


def serve_everything(
    settings: Settings, store: Store, signal_clock: Callable[[], datetime] | None = None
) -> None:
    """Crawl, process and serve in this process until Ctrl-C or SIGTERM (`run` and
    `demo` both end here), then close the store. `signal_clock`: the time the story
    stage, trends and the site judge recency at, when not the wall clock (the demo's
    replay)."""
    from breakingon.cli.sources import HOW_TO_ADD
    from breakingon.ops.health import Health
    from breakingon.pipeline import Pipeline

    live = sys.stderr.isatty()
    setup_logging(settings, quiet_console=live)
    if not store.list_feeds():
        typer.echo(f"BreakingOn: {HOW_TO_ADD}", err=True)
    typer.echo(f"BreakingOn: serving http://{settings.host}:{settings.port}/ (Ctrl-C to stop)")

    async def main() -> None:
        stop = asyncio.Event()
        _install_stop(stop)
        health = Health()
        pipeline = Pipeline(settings, store, health=health, signal_clock=signal_clock)
        await asyncio.gather(
            pipeline.run(stop),
            _serve_web(settings, store, health, stop, signal_clock),
            _status_loop(store, stop, live),
        )

    asyncio.run(main())
    _shutdown(store)
    typer.echo("stopped")


def _shutdown(store: Store) -> None:
    from breakingon.extract.article import close_shared_pools

    close_shared_pools()
    store.close()


@app.command("worker")
def worker(
    crawl: Annotated[bool, typer.Option(help="Fetch feeds and pages.")] = True,
    process: Annotated[bool, typer.Option(help="Cluster, signals, briefs.")] = True,
    alerts: Annotated[
        bool | None, typer.Option(help="Readers' alerts (default: with --process).")
    ] = None,
) -> None:
    """A scale-out worker: claims due feeds, pending articles and dirty stories with leases."""
    from breakingon.pipeline import Pipeline

    settings = load()
    setup_logging(settings)
    store = open_configured_store(settings)
    pipeline = Pipeline(settings, store, crawl=crawl, process=process, alerts=alerts)
    logging.getLogger("breakingon").info("worker %s started", pipeline.worker)

    async def main() -> None:
        stop = asyncio.Event()
        _install_stop(stop)
        await pipeline.run(stop)

    asyncio.run(main())
    _shutdown(store)


@app.command("crawl")
def crawl(
    once: Annotated[
        bool, typer.Option("--once", help="One pass over due feeds, then drain.")
    ] = False,
    forever: Annotated[bool, typer.Option("--forever", help="Keep crawling until Ctrl-C.")] = False,
) -> None:
    """Crawl (and process) without the web server."""
    from breakingon.pipeline import Pipeline

    if once == forever:
        fail("choose exactly one of --once or --forever")
    settings = load()
    setup_logging(settings)
    store = open_configured_store(settings)
    pipeline = Pipeline(settings, store)

    async def main() -> None:
        stop = asyncio.Event()
        _install_stop(stop)
        await pipeline.run(stop, once=once)

    asyncio.run(main())
    p = pipeline.progress
    typer.echo(
        json.dumps(
            {
                "feeds_checked": p.feeds_checked,
                "articles_extracted": p.articles_extracted,
                "articles_clustered": p.articles_clustered,
                "stories_updated": p.stories_updated,
                **store.stats(),
            }
        )
    )
    _shutdown(store)
