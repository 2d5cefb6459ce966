"""`ops.memory.release_free_memory`: glibc's free pages go back to the system."""

from __future__ import annotations

import platform

from breakingon.ops.memory import release_free_memory


def _rss_kb() -> int:
    with open("/proc/self/status", encoding="ascii") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_freed_heap_goes_back_to_the_system() -> None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        assert release_free_memory() is False or release_free_memory() is True
        return
    # many small blocks (below the mmap threshold: they live in the heap), all freed but
    # the last, which pins the heap's top: free() alone gives none of it back
    blocks = [bytearray(4000) for _ in range(50_000)]  # ~200 MB
    pin = blocks[-1]
    del blocks
    freed = _rss_kb()
    assert release_free_memory() is True
    assert _rss_kb() < freed - 100_000  # at least ~100 MB of the 200 returned
    assert len(pin) == 4000


def test_a_trim_waits_its_interval() -> None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return
    assert release_free_memory() is True
    assert release_free_memory(3600.0) is False  # done a moment ago
    assert release_free_memory(0.0) is True
