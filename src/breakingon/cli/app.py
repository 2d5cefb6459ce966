"""The typer application every command module registers on.

Command modules (one per area: sources, crawl, stories, briefs, signals, serve)
import `app` from here and decorate functions with `@app.command(...)`.
"""

from __future__ import annotations

import typer

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
