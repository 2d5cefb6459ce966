"""CLI commands: web."""

from __future__ import annotations

from breakingon.cli.app import app  # noqa: F401
