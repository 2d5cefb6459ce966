"""Who holds a lease, and whether that process is gone: a crashed run's leases are free.

A lease owner is named `host:pid:random:token` (`owner_name`). The token says where the
pid means something (a digest of the kernel boot id and the pid namespace) and when the
process started (its start time in clock ticks, from /proc), so a pid that was reused
by another process after a crash is not mistaken for the old one.

`dead_owners` picks, out of lease owners read from the store, those that are provably
gone: same host, same boot and pid namespace, and the pid no longer runs that process
(absent, a zombie, or started at another time). Everything else is presumed alive and
waits for its lease to expire, so on PostgreSQL with many machines only this machine's
dead processes are freed early. A name of another shape (tests, older versions) is
never freed early. Pure apart from reading /proc and `os.kill(pid, 0)`.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import uuid
from collections.abc import Iterable
from pathlib import Path

_PROC = Path("/proc")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii", errors="replace").strip()
    except OSError:
        return ""


def _stat_fields(pid: int) -> tuple[str, str] | None:
    """(state, start time) of `pid` from /proc/PID/stat, or None where unreadable."""
    raw = _read(_PROC / str(pid) / "stat")
    if not raw:
        return None
    # "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
    rest = raw[raw.rfind(")") + 2 :].split()
    if len(rest) < 20:
        return None
    return rest[0], rest[19]


@functools.cache
def _space() -> str:
    """Where a pid of this process means the same process: boot id and pid namespace."""
    boot = _read(_PROC / "sys" / "kernel" / "random" / "boot_id")
    try:
        ns = os.readlink(_PROC / "self" / "ns" / "pid")
    except OSError:
        ns = ""
    return hashlib.sha256(f"{boot}|{ns}".encode()).hexdigest()[:10]


def _host() -> str:
    return socket.gethostname().replace(":", "_")


def process_token(pid: int | None = None) -> str:
    """`space.start` for `pid` (this process by default); start is "" without /proc."""
    pid = os.getpid() if pid is None else pid
    fields = _stat_fields(pid)
    return f"{_space()}.{fields[1] if fields else ''}"


def owner_name() -> str:
    """A fresh lease owner name for this process: `host:pid:random:token`."""
    return f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:6]}:{process_token()}"


def host_prefix() -> str:
    """What every owner name of this machine starts with (to narrow a store query)."""
    return f"{_host()}:"


def _gone(pid: int, start: str) -> bool:
    if pid == os.getpid():
        return bool(start) and start != process_token().partition(".")[2]
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        pass  # it exists (another user's process)
    except OSError:
        return False
    fields = _stat_fields(pid)
    if fields is None:
        return False
    state, started = fields
    return state in ("Z", "X") or bool(start and started != start)


def is_dead(owner: str) -> bool:
    """True when `owner` is provably a process of this machine that no longer runs."""
    parts = owner.split(":")
    if len(parts) != 4 or parts[0] != _host() or not parts[1].isdigit():
        return False
    space, _, start = parts[3].partition(".")
    if space != _space():
        return False
    pid = int(parts[1])
    return pid > 0 and _gone(pid, start)


_KNOWN_DEAD: set[str] = set()  # a dead process stays dead: no need to look twice


def dead_owners(owners: Iterable[str | None]) -> list[str]:
    """The owners among `owners` whose process is gone (sorted, without repeats)."""
    out: set[str] = set()
    for owner in owners:
        if not owner:
            continue
        if owner in _KNOWN_DEAD or is_dead(owner):
            if len(_KNOWN_DEAD) < 10_000:
                _KNOWN_DEAD.add(owner)
            out.add(owner)
    return sorted(out)
