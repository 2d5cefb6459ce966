"""CLI commands: backup, restore, ingest-warc."""

from __future__ import annotations

from breakingon.cli.app import app  # noqa: F401
