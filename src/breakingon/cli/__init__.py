"""Composition root: settings -> store -> pipeline | web. One module per command area."""

from __future__ import annotations

import importlib

from breakingon.cli.app import app

# Each module registers its commands on `app` when imported.
_COMMAND_MODULES = (
    "sources",
    "extract",
    "sim",
    "stories",
    "briefs",
    "signals",
    "web",
    "serve",
    "demo",
    "ops",
    "users",
    "alerts",
)


def main() -> None:
    for name in _COMMAND_MODULES:
        importlib.import_module(f"breakingon.cli.{name}")
    app()
