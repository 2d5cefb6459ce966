"""CLI command `breakingon web`: serve the site, the API and the feeds with uvicorn.

Composition only: settings from `breakingon.cli.app.load()`, the store from
`open_configured_store()`, the app from `breakingon.web.create_app`. It must not hold
web logic or read the environment itself.
"""

from __future__ import annotations

import typer

from breakingon.cli.app import app, load, open_configured_store


@app.command("web")
def web(
    port: int = typer.Option(0, "--port", help="TCP port (default: BREAKINGON_PORT)."),
    host: str = typer.Option("", "--host", help="Address to bind (default: BREAKINGON_HOST)."),
    access_log: bool = typer.Option(
        False, "--access-log/--no-access-log", help="Log every request."
    ),
) -> None:
    """Serve the site, the JSON API (/api, /openapi.json) and the feeds out."""
    import gc

    import uvicorn

    from breakingon.ops import service_routes
    from breakingon.web import create_app

    settings = load()
    store = open_configured_store(settings)
    application = create_app(settings, store, extra_routes=service_routes(store))
    # Tail latency: start-up objects leave the collector's view and young collections run
    # less often (requests allocate little that lives, cached pages are reused bytes).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    try:
        uvicorn.run(
            application,
            host=host or settings.host,
            port=port or settings.port,
            access_log=access_log,
            log_level=settings.log_level.lower(),
            server_header=False,
            date_header=False,
            proxy_headers=False,
            loop="uvloop",
            http="httptools",
            backlog=4096,
        )
    finally:
        store.close()
