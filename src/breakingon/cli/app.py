"""The typer application every command module registers on.

Command modules (one per area: sources, crawl, stories, briefs, signals, serve)
import `app` from here and decorate functions with `@app.command(...)`.
"""

from __future__ import annotations

import os

import typer

from breakingon.settings import Settings, SettingsError, load_settings
from breakingon.store import Store, StoreError, open_store

app = typer.Typer(
    name="breakingon",
    help="BreakingOn: a self-hosted news desk.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def fail(message: str, code: int = 2) -> None:
    """Print a clear error on stderr and exit with `code` (never a traceback)."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def load() -> Settings:
    """Settings from the environment (and BREAKINGON_CONFIG), or a clean exit naming the error."""
    try:
        settings = load_settings(os.environ)
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
