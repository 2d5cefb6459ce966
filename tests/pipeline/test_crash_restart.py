"""A restart after `kill -9` resumes at once: the dead run's leases are free (hardening 12).

A real `breakingon crawl --once` is SIGKILLed while it holds leases (a feed whose server
drips its answer, the clustering leader, maybe pages), with a lease length of 10
minutes. The next `crawl --once` on the same SQLite file must not wait those leases out:
their owner was a process of this machine that is gone, so they are taken over at once.
Nothing is lost and nothing is stored twice.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from newsfixtures import after, make_stream

from breakingon.sim.server import Newsroom

OUTLETS, PER_OUTLET = 3, 5
LEASE_S = 600


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from breakingon.cli import main; main()", *args]


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return list(con.execute(sql))
    finally:
        con.close()


def _wait(cond: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _live(db: Path, sql: str) -> list[str]:
    """Owners of leases still live by the clock (rows of `sql`: owner, until)."""
    now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return [str(o) for o, until in _query(db, sql) if o and str(until) > now]


@pytest.mark.timeout(400)
def test_crawl_once_after_kill9_resumes_at_once(tmp_path: Path) -> None:
    rows = make_stream(OUTLETS, PER_OUTLET, prefix="r")
    data = tmp_path / "data"
    db = data / "breakingon.sqlite"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREAKINGON_")}
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join([str(root / "src"), env.get("PYTHONPATH", "")])
    env.update(
        {
            "BREAKINGON_DATA_DIR": str(data),
            "BREAKINGON_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
            "BREAKINGON_PER_HOST_DELAY_S": "0.05",
            "BREAKINGON_EXTRACT_WORKERS": "1",
            "BREAKINGON_LEASE_S": str(LEASE_S),
            "BREAKINGON_LOG_LEVEL": "WARNING",
        }
    )
    with Newsroom(rows, speed=0, start=after(rows), slow_drip_s=5.0) as room:
        out = subprocess.run(
            _cli("sources", "import-opml", room.opml_url),
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        room.set_misbehave("r0.example", "slow")  # its feed answers a byte run every 5 s

        first = subprocess.Popen(
            _cli("crawl", "--once"), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            _wait(
                lambda: (
                    db.exists()
                    and bool(_live(db, "SELECT lease_owner, lease_until FROM feeds"))
                    and bool(_live(db, "SELECT owner, until FROM leases"))
                    and bool(_query(db, "SELECT 1 FROM articles WHERE state != 'discovered'"))
                ),
                120,
                "the first run to store pages and hold a feed lease and the clustering lease",
            )
            first.send_signal(signal.SIGKILL)
            first.wait(10)
        finally:
            if first.poll() is None:
                first.kill()
        held = _live(db, "SELECT lease_owner, lease_until FROM feeds")
        held += _live(db, "SELECT owner, until FROM leases")
        assert held and all(f":{first.pid}:" in o for o in held), held

        room.set_misbehave("r0.example", None)
        t0 = time.monotonic()
        second = subprocess.run(
            _cli("crawl", "--once"), env=env, capture_output=True, text=True, timeout=300
        )
        took = time.monotonic() - t0
    assert second.returncode == 0, second.stderr[-3000:]
    assert took < 150, f"the restart waited out the dead run's leases ({took:.0f} s)"

    expected = {room.article_url(r.id) for r in rows}
    counts = Counter(str(u) for (u,) in _query(db, "SELECT url FROM articles"))
    assert set(counts) == expected  # nothing lost
    assert max(counts.values()) == 1  # nothing twice
    states = dict(_query(db, "SELECT state, count(*) FROM articles GROUP BY state"))
    assert states == {"clustered": len(rows)}, states
    fetches = [int(str(n)) for (n,) in _query(db, "SELECT fetch_count FROM feeds")]
    assert fetches == [1] * OUTLETS  # every feed stored once
    assert not _live(db, "SELECT owner, until FROM leases")  # the restart released its own
    assert _query(db, "PRAGMA integrity_check") == [("ok",)]
