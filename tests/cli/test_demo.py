"""`breakingon demo`: the settings it runs with, its data directory, clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from breakingon.cli.demo import MARKER, demo_settings, fresh_data_dir, poll_bounds
from breakingon.settings import Settings


def test_poll_bounds_follow_the_replay_speed() -> None:
    assert poll_bounds(600) == (1, 36)
    assert poll_bounds(60) == (2, 360)
    assert poll_bounds(1) == (120, 21600)


def test_demo_settings_change_only_what_the_demo_needs(tmp_path: Path) -> None:
    base = Settings(database_url="postgresql://somewhere/db", per_host_delay_s=0.5)
    s = demo_settings(base, tmp_path / "d", 8123, 600)
    assert s.database_url == "" and s.data_dir == tmp_path / "d"
    assert s.effective_database_url.startswith("sqlite:///")
    assert [str(n) for n in s.fetch_allow_networks] == ["127.0.0.0/8"]
    assert (s.min_poll_interval_s, s.max_poll_interval_s, s.port) == (1, 36, 8123)
    assert s.per_host_delay_s == 0.5  # everything else as configured


def test_the_data_directory_is_fresh_and_only_a_demo_one_is_wiped(tmp_path: Path) -> None:
    d = tmp_path / "data-demo"
    fresh_data_dir(d)
    (d / "breakingon.sqlite").write_bytes(b"old")
    fresh_data_dir(d)
    assert sorted(p.name for p in d.iterdir()) == [MARKER]
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "precious.txt").write_text("keep")
    with pytest.raises(ValueError, match="no demo made"):
        fresh_data_dir(mine)
    assert (mine / "precious.txt").read_text() == "keep"


def test_a_missing_stream_is_a_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREAKINGON_")}
    proc = subprocess.run(
        [sys.executable, "-c", "from breakingon.cli import main; main()", "demo",
         "--stream", str(tmp_path / "nope.jsonl"), "--data-dir", str(tmp_path / "d")],
        env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 2 and "no newsroom stream at" in proc.stderr
    assert "--stream PATH" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "d").exists()  # nothing made before the checks pass


def test_the_demo_judges_time_on_the_replays_clock(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from breakingon.cli.demo import replay_clock
    from breakingon.sim.server import Newsroom
    from breakingon.sim.stream import load_stream

    stream = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "stream"
    articles = load_stream(stream / "newsroom-dev.jsonl")[:40]
    settings = demo_settings(Settings(), tmp_path / "d", 8123, 600)
    with Newsroom(articles, speed=600, now=True) as room:
        clock = replay_clock(settings, room.opml_url, 600)
        ours, theirs = clock(), room.clock.now()
    assert abs((ours - theirs).total_seconds()) < 600 * 2  # two wall seconds of replay
    assert ours < datetime.now(UTC) - timedelta(hours=1)  # hours behind: the stream's time
