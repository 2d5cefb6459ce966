"""The feed tests start loopback servers: the socket guard (`netguard.loopback_only`) is
on for all of them, so nothing here can reach a real address."""

from __future__ import annotations

from netguard import loopback_only

__all__ = ["loopback_only"]
