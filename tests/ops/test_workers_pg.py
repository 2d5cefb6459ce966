"""Scale-out on the real PostgreSQL: three `breakingon worker` processes and one `breakingon web`.

A newsroom replays part of ../shared/data/stream/newsroom-dev.jsonl on loopback at high
speed; its OPML is imported; the workers crawl, extract, cluster and write stories. One
worker is killed with SIGKILL while articles are stored but not yet all clustered; its
leases expire and the others redo its work. When the store has drained, every newsroom
article must be stored exactly once, belong to exactly one story, and every story must be
whole; the web process must answer /healthz and a story page.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from breakingon.feeds.urls import canonicalize_url
from breakingon.sim.server import Newsroom
from breakingon.sim.stream import NewsroomClock, load_stream

ROOT = Path(__file__).resolve().parents[2]
STREAM = ROOT.parent / "shared" / "data" / "stream" / "newsroom-dev.jsonl"
N_ARTICLES = 150
SPEED = 4000.0  # 150 articles span ~11 simulated hours: all published within ~10 s
DRAIN_TIMEOUT_S = 240.0  # generous: CI machines are shared and slow at times


def _root_conftest():  # type: ignore[no-untyped-def]
    path = Path(__file__).resolve().parents[1] / "conftest.py"
    spec = importlib.util.spec_from_file_location("_breakingon_root_conftest", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _root_conftest().pg_schema_url()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(db_url: str, tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREAKINGON_")}
    env.update(
        {
            "BREAKINGON_DATABASE_URL": db_url,
            "BREAKINGON_DATA_DIR": str(tmp / "data"),
            "BREAKINGON_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
            "BREAKINGON_PER_HOST_DELAY_S": "0.05",
            "BREAKINGON_MIN_POLL_INTERVAL_S": "2",
            "BREAKINGON_MAX_POLL_INTERVAL_S": "6",
            "BREAKINGON_LEASE_S": "8",
            "BREAKINGON_EXTRACT_WORKERS": "1",
            "BREAKINGON_LOG_LEVEL": "WARNING",
        }
    )
    return env


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from breakingon.cli import main; main()", *args]


def _subset(tmp: Path) -> Path:
    if not STREAM.is_file():
        pytest.skip("../shared/data is not beside this checkout")
    lines = STREAM.read_text(encoding="utf-8").splitlines()[:N_ARTICLES]
    out = tmp / "stream.jsonl"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as c:
        rows = c.execute(sa.text("SELECT state, count(*) FROM articles GROUP BY state")).all()
        dirty = c.execute(sa.text("SELECT count(*) FROM stories WHERE dirty >= 1")).scalar_one()
    out = {str(s): int(n) for s, n in rows}
    out["total"] = sum(out.values())
    out["dirty"] = int(dirty)
    return out


def _claims_by_worker(engine: sa.Engine) -> dict[str, int]:
    q = """
        SELECT lease_owner, count(*) FROM (
            SELECT lease_owner, lease_until FROM feeds
            UNION ALL SELECT lease_owner, lease_until FROM articles
            UNION ALL SELECT lease_owner, lease_until FROM stories
        ) x WHERE lease_until > now() AND lease_owner IS NOT NULL GROUP BY lease_owner
    """
    with engine.connect() as c:
        return {str(o): int(n) for o, n in c.execute(sa.text(q)).all()}


@pytest.mark.slow
@pytest.mark.timeout(540)
def test_three_workers_one_killed_everything_once_and_whole(pg_url: str, tmp_path: Path) -> None:
    stream = _subset(tmp_path)
    env = _env(pg_url, tmp_path)
    engine = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1))
    procs: list[subprocess.Popen[bytes]] = []
    logs = tmp_path / "logs"
    logs.mkdir()
    try:
        articles = load_stream(stream)
        with Newsroom(articles, port=0, speed=0.0) as room:  # frozen until started
            out = subprocess.run(
                _cli("sources", "import-opml", room.opml_url),
                env=env, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert out.returncode == 0, out.stderr
            port = _free_port()
            for i in range(3):
                procs.append(
                    subprocess.Popen(
                        _cli("worker"),
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=(logs / f"worker{i}.log").open("wb"),
                    )
                )
            procs.append(
                subprocess.Popen(
                    _cli("web", "--port", str(port)),
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=(logs / "web.log").open("wb"),
                )
            )
            first = min(a.published for a in articles)
            room.clock = NewsroomClock(first, SPEED)  # start the replay now
            expected = {canonicalize_url(room.article_url(a.id)) for a in articles}
            assert len(expected) == N_ARTICLES

            # Kill one worker while articles are stored but not all clustered.
            victim: subprocess.Popen[bytes] | None = None
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                c = _counts(engine)
                if c["total"] >= N_ARTICLES // 3 and c.get("clustered", 0) < N_ARTICLES:
                    claims = _claims_by_worker(engine)
                    by_pid = {int(name.split(":")[1]): n for name, n in claims.items()}
                    workers = procs[:3]
                    victim = max(workers, key=lambda p: by_pid.get(p.pid, 0))
                    break
                for p in procs:
                    assert p.poll() is None, f"a process exited early: {p.args}"
                time.sleep(0.3)
            assert victim is not None, f"never reached the middle: {_counts(engine)}"
            killed_at = _counts(engine)
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(10)

            # Drain: every article stored and clustered, no dirty story.
            deadline = time.monotonic() + DRAIN_TIMEOUT_S
            while time.monotonic() < deadline:
                c = _counts(engine)
                if (
                    c["total"] >= N_ARTICLES
                    and c.get("clustered", 0) == c["total"]
                    and c["dirty"] == 0
                ):
                    break
                time.sleep(1.0)
            final = _counts(engine)
            assert final.get("clustered", 0) == final["total"] >= N_ARTICLES, (
                f"not drained in {DRAIN_TIMEOUT_S}s: {final} (at kill: {killed_at})"
            )
            assert final["dirty"] == 0, f"stories still waiting for an update: {final}"

            with engine.connect() as conn:
                urls = [str(r[0]) for r in conn.execute(sa.text("SELECT url FROM articles")).all()]
                # every newsroom article stored exactly once
                assert sorted(u for u in urls if u in expected) == sorted(expected)
                assert len(urls) == len(set(urls))
                # every article in exactly one story, matching its membership row
                bad = conn.execute(
                    sa.text(
                        """
                        SELECT a.id FROM articles a
                        LEFT JOIN story_members m ON m.article_id = a.id
                        GROUP BY a.id, a.story_id
                        HAVING count(m.story_id) <> 1
                            OR min(m.story_id) <> a.story_id OR a.story_id IS NULL
                        """
                    )
                ).all()
                assert bad == [], f"articles not in exactly one story: {bad[:5]}"
                # no member pointing at a merged story
                merged = conn.execute(
                    sa.text(
                        "SELECT count(*) FROM story_members m JOIN stories s "
                        "ON s.id = m.story_id WHERE s.merged_into IS NOT NULL"
                    )
                ).scalar_one()
                assert merged == 0
                # every live story is whole: article_count equals its members, none empty
                rows = conn.execute(
                    sa.text(
                        """
                        SELECT s.id, s.article_count, count(m.article_id)
                        FROM stories s LEFT JOIN story_members m ON m.story_id = s.id
                        WHERE s.merged_into IS NULL GROUP BY s.id, s.article_count
                        """
                    )
                ).all()
                assert rows, "no stories"
                for sid, count, members in rows:
                    assert members > 0, f"story {sid} has no members"
                    assert count == members, f"story {sid}: article_count {count} != {members}"
                story_id = max(rows, key=lambda r: (r[2], r[0]))[0]

            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
                health = client.get("/healthz")
                assert health.status_code == 200, health.text
                assert health.json()["status"] in ("ok", "degraded")
                page = client.get(f"/story/{story_id}")
                assert page.status_code == 200
                assert "<h1" in page.text
            survivors = [p for p in procs if p is not victim]
            assert all(p.poll() is None for p in survivors)
            (tmp_path / "summary.json").write_text(
                json.dumps({"at_kill": killed_at, "final": final, "killed": victim.pid})
            )
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)
        engine.dispose()


def test_abandoned_story_claim_is_taken_again(pg_url: str) -> None:
    """A worker killed between claiming a dirty story and saving it leaves no stale story."""
    from datetime import UTC, datetime, timedelta

    from breakingon.records import Article, Outlet
    from breakingon.store import open_store
    from breakingon.store.base import Membership

    t0 = datetime(2025, 2, 10, tzinfo=UTC)
    store = open_store(pg_url)
    try:
        ids = store.save_archive_articles(
            Outlet(name="example.org"),
            [Article(url=f"https://example.org/{i}", title=f"t{i}", text="x " * 50,
                     published=t0, item_key=f"k{i}") for i in range(2)],
            "extracted",
        )  # fmt: skip
        sid = store.new_story_id(t0)
        store.save_clustering([Membership(i, sid) for i in ids], [], [], t0)
        assert store.claim_dirty_stories("dead-worker", t0, 10, 30) == [sid]
        assert store.backlog()["stories_dirty"] == 1  # claimed, not done
        assert store.claim_dirty_stories("w2", t0 + timedelta(seconds=10), 10, 30) == []
        # the dead worker's lease expires: another worker takes the story again
        assert store.claim_dirty_stories("w2", t0 + timedelta(seconds=31), 10, 30) == [sid]
    finally:
        store.close()
