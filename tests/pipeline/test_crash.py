"""Crash mid-ingest (kill -9) loses nothing and duplicates nothing (RELIABILITY F1).

A real crawl worker process (`crawl_worker.py`: the production `Pipeline` crawl loops)
ingests a newsroom served on loopback into a SQLite file; it is SIGKILLed after some
articles were committed and before the end, then a fresh worker is started on the same
file and left to drain. Every newsroom article must be stored exactly once, extracted,
each feed's validators must match its committed items at every point, and the file must
pass `PRAGMA integrity_check`.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from newsfixtures import after, make_stream

from breakingon.sim.server import Newsroom
from breakingon.sources.catalogue import feed_url_key, parse_opml
from breakingon.store import open_store

ROOT = Path(__file__).resolve().parents[2]
WORKER = Path(__file__).with_name("crawl_worker.py")
OUTLETS, PER_OUTLET = 4, 12


def _spawn(url: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return subprocess.Popen([sys.executable, str(WORKER), url], env=env, stdout=subprocess.DEVNULL)


def _query(db: Path, sql: str) -> list[tuple[object, ...]]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    try:
        return list(con.execute(sql))
    finally:
        con.close()


def _wait(cond: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _feeds_consistent(db: Path, expected_per_feed: dict[str, int]) -> None:
    """F1: a feed has new validators iff its items were committed with them."""
    rows = _query(
        db,
        "SELECT f.url, f.etag, f.last_success_at, count(a.id) FROM feeds f "
        "LEFT JOIN articles a ON a.feed_id = f.id GROUP BY f.id",
    )
    for url, etag, last_success, stored in rows:
        if etag is not None or last_success is not None:
            assert stored == expected_per_feed[str(url)], (url, etag, stored)
        else:
            assert stored == 0, (url, stored)


@pytest.fixture()
def room() -> Iterator[Newsroom]:
    rows = make_stream(OUTLETS, PER_OUTLET, prefix="k")
    with Newsroom(rows, speed=0, start=after(rows)) as newsroom:
        yield newsroom


def test_kill9_mid_ingest_loses_nothing_and_duplicates_nothing(
    room: Newsroom, tmp_path: Path
) -> None:
    db = tmp_path / "crawl.sqlite"
    url = f"sqlite:///{db}"
    store = open_store(url)
    feeds = parse_opml(httpx.get(room.opml_url).content)
    store.add_feeds([(f, feed_url_key(f.url), None) for f in feeds])
    store.close()
    expected_urls = {
        room.article_url(f"k{o}-{k}") for o in range(OUTLETS) for k in range(PER_OUTLET)
    }
    expected_per_feed = {f.rss_url: PER_OUTLET for f in room.feeds}
    total = len(expected_urls)

    def extracted() -> int:
        row = _query(db, "SELECT count(*) FROM articles WHERE state = 'extracted'")[0]
        return int(str(row[0]))

    first = _spawn(url)
    try:
        _wait(lambda: extracted() >= 4, 90, "the first worker to commit some articles")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    done_at_kill = extracted()
    assert done_at_kill < total, "the worker finished before it could be killed mid-ingest"
    _feeds_consistent(db, expected_per_feed)

    second = _spawn(url)
    try:
        _wait(
            lambda: (
                extracted() == total
                and not _query(db, "SELECT 1 FROM articles WHERE state = 'discovered' LIMIT 1")
            ),
            120,
            "the restarted worker to drain",
        )
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(30)
        except subprocess.TimeoutExpired:
            second.kill()
    counts = Counter(str(u) for (u,) in _query(db, "SELECT url FROM articles"))
    assert set(counts) == expected_urls  # nothing lost, nothing foreign
    assert max(counts.values()) == 1  # nothing duplicated
    _feeds_consistent(db, expected_per_feed)
    states = _query(db, "SELECT extraction, count(*) FROM articles GROUP BY extraction")
    assert dict((str(k), int(str(v))) for k, v in states).get("ok") == total, states
    assert _query(db, "PRAGMA integrity_check") == [("ok",)]
