"""Fixtures for the alert tests: the socket guard (`netguard.loopback_only`, autouse),
so nothing here can ever reach an address outside loopback."""

from __future__ import annotations

from netguard import loopback_only

__all__ = ["loopback_only"]
