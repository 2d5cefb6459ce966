"""One crawl pass of the feeds, summed up: how many were reachable, failures by kind.

The crawl stage records every feed check in a `CrawlPass` and ends the pass when nothing
is due or in flight any more, or after `PASS_MAX_S` of continuous checking. The pass is
then logged as ONE line ("0 of 433 feeds reachable: 433 DNS failures"), so a dead
network is one warning per pass instead of one per feed (each feed's error stays in the
store, `feeds.last_error`, and at debug level in the log). Pure bookkeeping: no I/O.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

PASS_MAX_S = 60.0  # a pass that never runs dry is still summed up this often

# Fetch errors that mean the feed's server was not reached at all.
NETWORK_ERRORS = ("dns", "connect", "timeout", "tls", "deadline_exceeded", "address_not_allowed")
_LABELS = {
    "dns": ("DNS failure", "DNS failures"),
    "connect": ("connection failure", "connection failures"),
    "timeout": ("timeout", "timeouts"),
    "tls": ("TLS failure", "TLS failures"),
    "deadline_exceeded": ("deadline exceeded", "deadlines exceeded"),
    "address_not_allowed": ("address not allowed", "addresses not allowed"),
}


def _label(kind: str, n: int) -> str:
    one, many = _LABELS.get(kind, (f"{kind} error", f"{kind} errors"))
    return f"{n} {one if n == 1 else many}"


@dataclass(slots=True)
class CrawlPass:
    """The feed checks of one pass: checked, reachable, and errors by kind."""

    checked: int = 0
    reachable: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    def record(self, fetch_error: str | None, error: str | None) -> None:
        """One feed check: `fetch_error` from the fetch, `error` its final outcome (a
        parse error counts as reached but failed)."""
        self.checked += 1
        if fetch_error not in NETWORK_ERRORS:
            self.reachable += 1
        if error:
            self.errors[error.split(":", 1)[0]] += 1

    @property
    def failed(self) -> int:
        return sum(self.errors.values())

    @property
    def dead(self) -> bool:
        """Feeds were checked and not one answered: the network (or DNS) is down."""
        return self.checked > 0 and self.reachable == 0

    def due(self, now: float | None = None) -> bool:
        """Time to sum it up although feeds are still being checked."""
        return (now if now is not None else time.monotonic()) - self.started >= PASS_MAX_S

    def summary(self) -> str:
        """The pass as one line, e.g. "0 of 433 feeds reachable: 433 DNS failures"."""
        feeds = "feed" if self.checked == 1 else "feeds"
        line = f"{self.reachable} of {self.checked} {feeds} reachable"
        if self.errors:
            ranked = sorted(self.errors.items(), key=lambda kv: (-kv[1], kv[0]))
            line += ": " + ", ".join(_label(kind, n) for kind, n in ranked)
        return line
