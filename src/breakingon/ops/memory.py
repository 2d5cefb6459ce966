"""Giving freed memory back to the operating system.

The encoders allocate and free hundreds of megabytes of activations per batch; glibc's
allocator keeps much of what was freed in its heaps, so a long-running process's
resident size grows to its worst step and stays there. `release_free_memory` asks the
allocator to return the free pages (glibc's `malloc_trim(0)`); the pipeline runner calls
it after clustering and story steps that did work, at most every `TRIM_INTERVAL_S`
seconds (docs/operations.md, "Memory"). Where the C library is not glibc (musl, macOS),
it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
import time
from functools import lru_cache
from typing import Any

__all__ = ["TRIM_INTERVAL_S", "release_free_memory"]

TRIM_INTERVAL_S = 15.0  # the runner's interval between trims


@lru_cache(maxsize=1)
def _trim() -> Any:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to call
        return None


_last = [float("-inf")]
_lock = threading.Lock()


def release_free_memory(min_interval_s: float = 0.0) -> bool:
    """Return the allocator's free pages to the system; False where that is not possible
    or when it was done less than `min_interval_s` seconds ago (a trim walks every heap
    and holds its lock: done after every small step it slowed the whole path)."""
    trim = _trim()
    if trim is None:
        return False
    with _lock:
        now = time.monotonic()
        if now - _last[0] < min_interval_s:
            return False
        _last[0] = now
    trim(0)
    return True
