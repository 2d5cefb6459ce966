"""The typer application every command module registers on.

Command modules (one per area: sources, extract, sim, stories, briefs, signals, web,
serve, ops) import `app` from here and decorate functions with `@app.command(...)`.
"""

from __future__ import annotations

import typer

from breakingon.settings import Settings, SettingsError, from_environment
from breakingon.store import Store, StoreError, open_store

app = typer.Typer(
    name="breakingon",
    help="BreakingOn: a self-hosted news desk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _group() -> None:
    """Keep `app` a command group even when a test registers a single command module
    (typer otherwise turns a lone command into the whole program)."""


def fail(message: str, code: int = 2) -> None:
    """Print a clear error on stderr and exit with `code` (never a traceback)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def load() -> Settings:
    """Settings from the environment (and BREAKINGON_CONFIG), or a clean exit naming the error."""
    try:
        settings = from_environment()
    except SettingsError as exc:
        fail(str(exc))
        raise  # unreachable
    from breakingon.cluster import embed

    embed.configure(settings.embed_precision)
    return settings


def open_configured_store(settings: Settings) -> Store:
    """Open the configured store, or exit with the store's message (never a traceback)."""
    try:
        if not settings.database_url:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
        return open_store(settings.effective_database_url)
    except StoreError as exc:
        fail(str(exc), code=3)
        raise  # unreachable
