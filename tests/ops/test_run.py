"""`breakingon run` end to end on SQLite: one process crawls a loopback newsroom, builds
stories and serves them; Ctrl-C (SIGINT) stops it cleanly; a second start resumes without
polling every feed again (the feeds' next check times were persisted).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from breakingon.sim.server import Newsroom
from breakingon.sim.stream import load_stream
from breakingon.store import open_store

ROOT = Path(__file__).resolve().parents[2]
STREAM = ROOT.parent / "shared" / "data" / "stream" / "newsroom-dev.jsonl"
N_ARTICLES = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", "from breakingon.cli import main; main()", *args]


def _wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float) -> httpx.Response:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"breakingon run exited with {proc.returncode}"
        try:
            r = httpx.get(url, timeout=5)
            if r.status_code == 200:
                return r
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.5)
    raise AssertionError(f"{url} never answered 200 ({last})")


def _stop(proc: subprocess.Popen[bytes], within: float) -> tuple[int, float]:
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(within)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise AssertionError(f"breakingon run did not stop within {within}s") from None
    return code, time.monotonic() - t0


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_run_serves_stories_stops_cleanly_and_resumes(tmp_path: Path) -> None:
    if not STREAM.is_file():
        pytest.skip("../shared/data is not beside this checkout")
    lines = STREAM.read_text(encoding="utf-8").splitlines()[:N_ARTICLES]
    (tmp_path / "stream.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    articles = load_stream(tmp_path / "stream.jsonl")
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREAKINGON_")}
    env.update(
        {
            "BREAKINGON_DATA_DIR": str(data),
            "BREAKINGON_FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
            "BREAKINGON_PER_HOST_DELAY_S": "0.05",
            "BREAKINGON_EXTRACT_WORKERS": "1",
            "BREAKINGON_LOG_LEVEL": "WARNING",
        }
    )
    end = max(a.published for a in articles) + timedelta(seconds=1)
    # Everything is already published: one poll per feed gets all of it, and the default
    # adaptive schedule (at least 2 minutes) puts every next check well after this test.
    with Newsroom(articles, port=0, speed=1.0, start=end) as room:
        out = subprocess.run(
            _cli("sources", "import-opml", room.opml_url),
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        log1 = (tmp_path / "run1.log").open("wb")
        proc = subprocess.Popen(
            _cli("run", "--port", str(port)), env=env, stdout=log1, stderr=subprocess.STDOUT
        )
        try:
            health = _wait_http(f"{base}/healthz", proc, 120).json()
            assert health["status"] == "ok"
            story_id = None
            deadline = time.monotonic() + 150
            while story_id is None and time.monotonic() < deadline:
                assert proc.poll() is None
                listing = httpx.get(f"{base}/api/stories?limit=5", timeout=10)
                if listing.status_code == 200 and listing.json()["stories"]:
                    story_id = listing.json()["stories"][0]["id"]
                else:
                    time.sleep(1.0)
            assert story_id is not None, "no story appeared"
            page = httpx.get(f"{base}/story/{story_id}", timeout=10)
            assert page.status_code == 200 and "<h1" in page.text
            status = httpx.get(f"{base}/status", timeout=10).text
            assert "No runs yet" not in status and "running" in status  # this run, listed
            metrics = httpx.get(f"{base}/metrics", timeout=10).text
            assert "breakingon_articles " in metrics or "breakingon_articles{" in metrics
            assert "breakingon_backlog" in metrics and "breakingon_fetches_total" in metrics
            # let the first poll of every feed finish before stopping
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                s = open_store(f"sqlite:///{data / 'breakingon.sqlite'}")
                try:
                    if all(f.last_checked_at is not None for f in s.list_feeds()):
                        break
                finally:
                    s.close()
                time.sleep(0.5)
        finally:
            code, took = _stop(proc, within=60)
            log1.close()
        assert code == 0, (tmp_path / "run1.log").read_text(errors="replace")[-3000:]
        assert took < 60

        s = open_store(f"sqlite:///{data / 'breakingon.sqlite'}")
        try:
            feeds = {f.id: f for f in s.list_feeds()}
            articles_before = s.stats()["articles"]
        finally:
            s.close()
        assert feeds and all(f.next_check_at is not None for f in feeds.values())
        assert articles_before > 0

        feed_requests_before = _feed_requests(room)
        log2 = (tmp_path / "run2.log").open("wb")
        proc = subprocess.Popen(
            _cli("run", "--port", str(port)), env=env, stdout=log2, stderr=subprocess.STDOUT
        )
        try:
            _wait_http(f"{base}/healthz", proc, 120)
            time.sleep(5.0)  # a resumed scheduler would have polled every feed by now
        finally:
            code, _ = _stop(proc, within=60)
            log2.close()
        assert code == 0
        s = open_store(f"sqlite:///{data / 'breakingon.sqlite'}")
        try:
            after = {f.id: f for f in s.list_feeds()}
            assert s.stats()["articles"] == articles_before
        finally:
            s.close()
        repolled = [i for i, f in after.items() if f.last_checked_at != feeds[i].last_checked_at]
        assert repolled == [], f"{len(repolled)} of {len(feeds)} feeds polled again on restart"
        # Pages and lead images left pending by the first run are fetched on resume; the
        # feeds must not be polled again before they are due.
        assert _feed_requests(room) - feed_requests_before < len(feeds) // 4


def _feed_requests(room: Newsroom) -> int:
    return sum(
        n for path, n in room.requests_by_path.items() if path.endswith(("/feed.rss", "/feed.atom"))
    )


def test_service_routes_serve_health_metrics_and_websub_beside_the_site(tmp_path: Path) -> None:
    """What `breakingon web` and `breakingon run` mount beside the site (cli/web.py)."""
    from starlette.routing import Route
    from starlette.testclient import TestClient

    from breakingon.cli.web import service_routes
    from breakingon.ops.health import Health
    from breakingon.settings import Settings
    from breakingon.web import create_app

    store = open_store(f"sqlite:///{tmp_path / 'b.sqlite'}")
    try:
        health = Health()
        routes = service_routes(store, health)
        paths = {r.path for r in routes if isinstance(r, Route)}
        assert paths == {"/healthz", "/metrics", "/websub/{token}"}
        app = create_app(Settings(data_dir=tmp_path), store, extra_routes=routes)
        with TestClient(app) as client:
            assert client.get("/healthz").json()["status"] == "ok"
            health.problems["storage"] = "OperationalError"
            assert client.get("/healthz").json()["status"] == "degraded"
            assert "breakingon_stories" in client.get("/metrics").text
    finally:
        store.close()
