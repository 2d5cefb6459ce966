"""The typer application every command module registers on.

Command modules (one per area: sources, extract, sim, stories, briefs, signals, web,
serve, ops) import `app` from here and decorate functions with `@app.command(...)`.
"""

from __future__ import annotations

import os

import typer

from breakingon.settings import Settings, SettingsError, from_environment, with_server_address
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
    from breakingon.cli import logsafe
    from breakingon.cluster import embed

    logsafe.install(settings)  # no secret, URL key or callback token in any log line
    embed.configure(settings.embed_precision)
    return settings


def load_for_server(host: str | None, port: int | None) -> Settings:
    """`load()` with the web server's `--host`/`--port`; the default public base URL
    follows them (so feed links and canonical URLs point at this server)."""
    settings = load()
    try:
        return with_server_address(settings, host or None, port or None)
    except SettingsError as exc:
        fail(str(exc))
        raise  # unreachable


def prepare_data_dir(settings: Settings) -> None:
    """Create BREAKINGON_DATA_DIR if needed, or exit with one clear line (code 3) when it
    cannot be used: a file, under a file, not creatable, not writable."""
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        fail(f"BREAKINGON_DATA_DIR: {path} exists and is not a directory", code=3)
    except OSError as exc:
        fail(f"BREAKINGON_DATA_DIR: cannot create {path}: {exc.strerror or exc}", code=3)
    if not path.is_dir():
        fail(f"BREAKINGON_DATA_DIR: {path} is not a directory", code=3)
    if not os.access(path, os.W_OK | os.X_OK):
        fail(f"BREAKINGON_DATA_DIR: {path} is not writable", code=3)


def open_configured_store(settings: Settings) -> Store:
    """Open the configured store, or exit with the store's message (never a traceback)."""
    if not settings.database_url:
        prepare_data_dir(settings)
    try:
        return open_store(settings.effective_database_url)
    except StoreError as exc:
        fail(str(exc), code=3)
        raise  # unreachable
