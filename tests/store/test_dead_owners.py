"""Leases of a killed process of this machine are free at once (hardening 12).

A real subprocess claims feeds, pages, a dirty story and the named clustering lease on
the store (SQLite file and PostgreSQL), each for an hour, and is SIGKILLed. Another
claimant takes every one of them over at once; while the process lived, nothing was.
Owners that are not provably gone (another host, another pid namespace, an unknown
name, a live process) keep their lease until it expires.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from breakingon.ops.backup import active_leases
from breakingon.records import Article, Feed
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import Store
from breakingon.store.base import FeedUpdate, Membership, StoryStateRow
from breakingon.store.owners import dead_owners, host_prefix, owner_name, process_token

ROOT = Path(__file__).resolve().parents[2]
HOUR = 3600

_CLAIMER = """
import sys, time
from datetime import UTC, datetime
from breakingon.store import open_store
from breakingon.store.owners import owner_name
store = open_store(sys.argv[1])
me, now = owner_name(), datetime.now(UTC)
got = [
    len(store.claim_due_feeds(me, now, 10, 3600)),
    len(store.claim_articles("discovered", me, now, 10, 3600)),
    len(store.claim_dirty_stories(me, now, 10, 3600)),
    int(store.try_lease("cluster-leader", me, now, 3600)[0]),
]
print(me, *got, flush=True)
time.sleep(600)
"""


def _seed(store: Store, now: datetime) -> None:
    url = "https://example.com/feed.xml"
    feed, _ = store.add_feed(Feed(url=url, outlet="Example"), feed_url_key(url))
    assert feed.id is not None
    due_again = FeedUpdate(
        checked_at=now - timedelta(minutes=2),
        next_check_at=now - timedelta(minutes=1),
        interval_s=60,
        error_count=0,
        success=True,
    )
    arts = [
        Article(url=f"https://example.com/{k}", title="T", text="Body.", published=now, item_key=k)
        for k in ("a", "b", "c")
    ]
    ids = store.save_feed_check(feed.id, due_again, arts[:2], "discovered")
    ids += store.save_feed_check(feed.id, due_again, arts[2:], "extracted")
    sid = store.new_story_id(now)
    store.save_clustering(
        [Membership(ids[2], sid, 0.9, "new")], [StoryStateRow(sid, b"s", now, now)], [], now
    )


def _claim_all(store: Store, who: str, now: datetime) -> list[int]:
    return [
        len(store.claim_due_feeds(who, now, 10, HOUR)),
        len(store.claim_articles("discovered", who, now, 10, HOUR)),
        len(store.claim_dirty_stories(who, now, 10, HOUR)),
        int(store.try_lease("cluster-leader", who, now, HOUR)[0]),
    ]


def test_a_killed_claimants_leases_are_taken_over_at_once(store: Store, store_url: str) -> None:
    now = datetime.now(UTC)
    _seed(store, now)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    proc = subprocess.Popen(
        [sys.executable, "-c", _CLAIMER, store_url], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().split()
        assert line[1:] == ["1", "2", "1", "1"], line
        owner = line[0]
        assert owner.startswith(host_prefix()) and f":{proc.pid}:" in owner
        # alive: nothing of it is free, to this process or to anyone
        assert _claim_all(store, owner_name(), datetime.now(UTC)) == [0, 0, 0, 0]
        assert dead_owners([owner]) == []
        assert active_leases(store_url)  # in use while it lives
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert active_leases(store_url) == []  # a restore after the crash is not refused
    t0 = time.monotonic()
    assert _claim_all(store, owner_name(), datetime.now(UTC)) == [1, 2, 1, 1]
    assert time.monotonic() - t0 < 5
    # taken over once: a second claimant finds nothing (the new owner is alive)
    assert _claim_all(store, owner_name(), datetime.now(UTC)) == [0, 0, 0, 0]


def test_owners_not_provably_gone_keep_their_lease() -> None:
    host = host_prefix()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.2)
        tok = process_token(sleeper.pid)
        space = tok.partition(".")[0]
        alive = f"{host}{sleeper.pid}:abcdef:{tok}"
        other_host = f"elsewhere.example:{sleeper.pid + 100000}:abcdef:{tok}"
        other_space = f"{host}{sleeper.pid + 100000}:abcdef:0000000000.{tok.partition('.')[2]}"
        old_form = f"{host}{sleeper.pid + 100000}:abcdef"
        reused = f"{host}{sleeper.pid}:abcdef:{space}.1"  # the pid now runs another process
        me = owner_name()
        assert dead_owners([alive, other_host, other_space, old_form, me, "w1", ""]) == []
        assert dead_owners([reused]) == [reused]
        sleeper.send_signal(signal.SIGKILL)
        deadline = time.monotonic() + 10
        while not dead_owners([alive]) and time.monotonic() < deadline:  # a zombie is gone
            time.sleep(0.05)
        assert dead_owners([alive]) == [alive]
    finally:
        sleeper.kill()
        sleeper.wait(10)
    assert dead_owners([alive]) == [alive]
