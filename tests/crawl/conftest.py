"""Fixtures for the crawler's network tests: a loopback fault server and the socket guard
(`netguard.loopback_only`, autouse here), so a policy bug can never send traffic to a
real private or public address.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from faultserver import FaultServer

from netguard import loopback_only

__all__ = ["loopback_only", "server"]


@pytest.fixture
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv
