"""CLI command `breakingon web`: serve the site, the API and the feeds with uvicorn.

Composition only: settings from `breakingon.cli.app.load()`, the store from
`open_configured_store()`, the app from `breakingon.web.create_app` with the service
routes beside it (`service_routes`, shared with `breakingon run`). It must not hold web
logic or read the environment itself.
"""

from __future__ import annotations

import gc
import os
from typing import TYPE_CHECKING, Any

import typer

from breakingon.cli.app import app, load, load_for_server, open_configured_store

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.routing import BaseRoute

    from breakingon.ops.health import Health
    from breakingon.settings import Settings
    from breakingon.store.base import Store


def service_routes(store: Store, health: Health | None = None) -> list[BaseRoute]:
    """Everything a web process serves beside the site: /healthz, /metrics and the
    WebSub callbacks (/websub/<token>)."""
    from breakingon.ops.health import ops_routes
    from breakingon.pipeline.websub_routes import websub_routes

    return [*ops_routes(store, health), *websub_routes(store)]


@app.command("web")
def web(
    port: int = typer.Option(0, "--port", help="TCP port (default: BREAKINGON_PORT)."),
    host: str = typer.Option("", "--host", help="Address to bind (default: BREAKINGON_HOST)."),
    access_log: bool = typer.Option(
        False, "--access-log/--no-access-log", help="Log every request."
    ),
    workers: int = typer.Option(
        1, "--workers", min=1, max=64, help="Server processes sharing the port."
    ),
) -> None:
    """Serve the site, the JSON API (/api, /openapi.json) and the feeds out."""
    import uvicorn

    from breakingon.cli.httpserver import uvicorn_options

    # --host/--port move the default public base URL too (feed links follow the port)
    settings = load_for_server(host, port)
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "access_log": access_log,
        "log_level": settings.log_level.lower(),
        "server_header": False,
        "date_header": False,
        "proxy_headers": False,
        "loop": "uvloop",
        "backlog": 4096,
        **uvicorn_options(settings),  # header cap and deadline, keep-alive, concurrency
    }
    if workers > 1:  # each process opens its own store and cache
        # the workers load their settings afresh: hand them the overrides
        if host:
            os.environ["BREAKINGON_HOST"] = host
        if port:
            os.environ["BREAKINGON_PORT"] = str(port)
        uvicorn.run("breakingon.cli.web:make_app", factory=True, workers=workers, **options)
        return
    store = open_configured_store(settings)
    try:
        uvicorn.run(_build(settings, store), **options)
    finally:
        store.close()


def make_app() -> Starlette:
    """The app of one server process (`uvicorn --factory`, used by `--workers N`)."""
    settings = load()
    return _build(settings, open_configured_store(settings))


def _build(settings: Settings, store: Store) -> Starlette:
    from breakingon.cli.httpserver import configure
    from breakingon.web import create_app

    configure(settings)  # this server process's request-head limits
    application = create_app(settings, store, extra_routes=service_routes(store))
    # Tail latency: start-up objects leave the collector's view and young collections run
    # less often (requests allocate little that lives; cached pages are reused bytes).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    return application
