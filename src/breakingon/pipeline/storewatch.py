"""The store as the pipeline sees it, watched: a storage failure shows on /healthz.

`watch(store, health)` returns the store with every call forwarded. A call that fails
with a storage error (`storage_problem`: the database cannot be read or written: disk
full, read-only, I/O error, locked, unreachable server) marks the process degraded
("storage": which call, and why) - also when the stage that made the call catches the
error to go on with the next feed or story. The mark is taken away only when every call
that failed has succeeded again since: other work succeeding (a claim, a read, a feed
check whose save was the part that failed) never clears it.
"""

from __future__ import annotations

import functools
import sqlite3
import threading
from collections.abc import Callable
from typing import Any, cast

from breakingon.ops.health import Health
from breakingon.store import Store
from breakingon.store.redact import redact_text

_STORAGE_FAILURES = (
    "disk is full",
    "database or disk is full",
    "no space left",
    "read-only",
    "readonly",
    "disk i/o error",
    "unable to open",
    "malformed",
    "not a database",
    "database is locked",
)


def storage_problem(exc: BaseException) -> str | None:
    """A short note when `exc` says the store cannot be read or written (None for
    errors of our own making, such as a constraint violation)."""
    import sqlalchemy as sa

    if isinstance(exc, sa.exc.OperationalError | sa.exc.InternalError):
        pass  # disk, locks, connections, server: always storage
    elif isinstance(exc, sa.exc.DatabaseError):
        text = str(exc.orig if exc.orig is not None else exc).lower()
        if not any(needle in text for needle in _STORAGE_FAILURES):
            return None
    elif isinstance(exc, sqlite3.OperationalError | sqlite3.InternalError):
        pass  # a driver error that reached us unwrapped
    elif isinstance(exc, sqlite3.DatabaseError) and not isinstance(
        exc, sqlite3.IntegrityError | sqlite3.ProgrammingError | sqlite3.DataError
    ):
        pass  # "file is not a database", "database disk image is malformed"
    elif not isinstance(exc, OSError | sa.exc.DisconnectionError | sa.exc.TimeoutError):
        return None
    orig = getattr(exc, "orig", None)
    msg = str(orig if orig is not None else exc).strip() or type(exc).__name__
    return redact_text(msg.splitlines()[0])[:200]


class _Watched:
    def __init__(self, store: Store, health: Health) -> None:
        self._store = store
        self._health = health
        self._failing: dict[str, str] = {}  # call name -> why it last failed
        self._lock = threading.Lock()

    def _publish(self) -> None:
        if self._failing:
            name, why = next(reversed(self._failing.items()))
            self._health.problems["storage"] = f"{name}: {why}"
        else:
            self._health.problems.pop("storage", None)

    def _failed(self, name: str, exc: BaseException) -> None:
        note = storage_problem(exc)
        if note is None:
            return
        with self._lock:
            self._failing.pop(name, None)
            self._failing[name] = note
            self._publish()

    def _succeeded(self, name: str) -> None:
        if name not in self._failing:
            return
        with self._lock:
            if self._failing.pop(name, None) is not None:
                self._publish()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._store, name)
        if name.startswith("_") or not callable(attr):
            return attr
        return self._wrap(name, attr)

    def _wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                out = fn(*args, **kwargs)
            except BaseException as exc:
                self._failed(name, exc)
                raise
            self._succeeded(name)
            return out

        return call


def watch(store: Store, health: Health | None) -> Store:
    """`store` with its storage failures reported to `health` (as is without one)."""
    if health is None or isinstance(store, _Watched):
        return store
    return cast(Store, _Watched(store, health))
