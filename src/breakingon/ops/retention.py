"""Retention: delete old articles no live story cites, in bounded batches, now and then.

`RetentionStep.step()` is what the runner calls from its processing loop: it does
nothing unless `settings.retention_days` is positive and `every_s` has passed since
its last run, and only one worker at a time prunes (a named lease in the store). The
deletion itself is `OpsStore.prune(cutoff, batch)`: short transactions of at most `batch`
articles each, so the single SQLite writer is never held for long, and an article of a
story still reported after the cutoff (a live story) is never deleted.

This module decides when and up to what time to prune; it holds no SQL, opens no
sockets and reads no environment.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from breakingon.settings import Settings
from breakingon.store import OpsStore

log = logging.getLogger("breakingon.ops.retention")

RETENTION_LEASE = "retention"
DEFAULT_EVERY_S = 600.0  # pruning is housekeeping: every 10 minutes is plenty
DEFAULT_BATCH = 500  # rows per delete transaction (the SQLite write lock is held briefly)
LAST_RUN_META = "retention_last_run"


def _now() -> datetime:
    return datetime.now(UTC)


def retention_cutoff(now: datetime, retention_days: int) -> datetime | None:
    """Articles published before the cutoff may go; None keeps everything (days <= 0)."""
    if retention_days <= 0:
        return None
    return now - timedelta(days=retention_days)


class RetentionStep:
    """Periodic pruning for one worker; cheap to call on every loop iteration."""

    def __init__(
        self,
        settings: Settings,
        store: OpsStore,
        worker: str,
        *,
        every_s: float = DEFAULT_EVERY_S,
        batch: int = DEFAULT_BATCH,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self.settings = settings
        self.store = store
        self.worker = worker
        self.every_s = every_s
        self.batch = max(1, batch)
        self.clock = clock
        self._last: float | None = None
        self.deleted_total = 0

    def due(self) -> bool:
        """Whether a prune should run now (retention on and `every_s` elapsed)."""
        if self.settings.retention_days <= 0:
            return False
        return self._last is None or time.monotonic() - self._last >= self.every_s

    def step(self, force: bool = False) -> int:
        """Prune if due (or `force`); return how many articles were deleted."""
        if not force and not self.due():
            return 0
        self._last = time.monotonic()
        now = self.clock()
        cutoff = retention_cutoff(now, self.settings.retention_days)
        if cutoff is None:
            return 0
        held, _ = self.store.try_lease(
            RETENTION_LEASE, self.worker, now, max(60, self.settings.lease_s)
        )
        if not held:
            return 0  # another worker prunes
        try:
            deleted = self.store.prune(cutoff, batch=self.batch)
            self.store.set_meta(LAST_RUN_META, f"{now.isoformat()} deleted={deleted}")
        finally:
            self.store.release_lease(RETENTION_LEASE, self.worker)
        self.deleted_total += deleted
        if deleted:
            log.info("retention: deleted %d articles published before %s", deleted, cutoff)
        return deleted
