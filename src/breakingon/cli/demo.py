"""CLI command `demo`: the offline demo in one command.

It starts the newsroom simulator (`breakingon newsroom --now`, a child process) on the
bundled stream, waits until the simulator serves its OPML, imports it into a fresh data
directory (default ./data-demo, wiped when it holds an earlier demo), and runs the whole
site there with the settings this run needs and nothing else changed: fetches allowed to
loopback only (127.0.0.0/8) and the poll interval bounds divided by the replay speed.
The site runs through the same code path as `breakingon run` (`serve.serve_everything`).
It never loads the real catalogue and never touches a configured database.
"""

from __future__ import annotations

import contextlib
import ctypes
import ipaddress
import json
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Annotated

import typer

from breakingon.cli.app import app, fail, load, open_configured_store
from breakingon.settings import Settings

MARKER = ".breakingon-demo"  # a data directory holding this file may be wiped by `demo`
STREAM_NAME = "newsroom-dev.jsonl"
SIMULATOR_START_S = 60.0  # how long to wait for the simulator to print its OPML address
OPML_RETRY_S = 30.0  # then how long to retry its OPML while it starts serving
DEFAULT_MIN_POLL_S, DEFAULT_MAX_POLL_S = 120, 21600  # Settings' defaults, for real outlets


def default_stream() -> Path:
    """../shared/data/stream/newsroom-dev.jsonl beside the checkout (or the working
    directory), where the development stream lives."""
    repo = Path(__file__).resolve().parents[3]
    for base in (repo, Path.cwd()):
        candidate = base.parent / "shared" / "data" / "stream" / STREAM_NAME
        if candidate.is_file():
            return candidate
    return repo.parent / "shared" / "data" / "stream" / STREAM_NAME


def poll_bounds(speed: float) -> tuple[int, int]:
    """The crawler's poll interval bounds on the replay's clock: the defaults (2 minutes
    to 6 hours) divided by `speed`, at least 1 s (at x600: 1 s to 36 s)."""
    low = max(1, round(DEFAULT_MIN_POLL_S / speed))
    return low, max(low, round(DEFAULT_MAX_POLL_S / speed))


def demo_settings(base: Settings, data_dir: Path, port: int, speed: float) -> Settings:
    """`base` with what the demo needs for this run only: its own SQLite data directory,
    fetches to loopback only, poll bounds on the replay's clock, the chosen port."""
    low, high = poll_bounds(speed)
    return replace(
        base,
        data_dir=data_dir,
        database_url="",
        fetch_allow_networks=(ipaddress.ip_network("127.0.0.0/8"),),
        min_poll_interval_s=low,
        max_poll_interval_s=high,
        port=port,
        public_base_url=f"http://{base.host}:{port}",
    )


def fresh_data_dir(path: Path) -> None:
    """Make `path` an empty demo data directory. An existing one is wiped only when an
    earlier demo made it (it holds MARKER) or it is empty; anything else is refused."""
    if path.exists():
        if not path.is_dir():
            raise ValueError(f"{path} exists and is not a directory")
        if any(path.iterdir()):
            if not (path / MARKER).is_file():
                raise ValueError(
                    f"{path} holds files that no demo made; pass another --data-dir "
                    "(the demo wipes its data directory)"
                )
            shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / MARKER).write_text("made by `breakingon demo`; wiped by the next demo\n")


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Linux: the simulator gets SIGTERM when the demo process dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:  # keeps reading so the child never blocks on a full pipe
        into.put(line.rstrip("\n"))


def start_simulator(stream: Path, speed: float) -> tuple[subprocess.Popen[str], str]:
    """Start `breakingon newsroom STREAM --now` as a child process on any free port and
    return it with its OPML URL, or raise RuntimeError saying why it did not start."""
    cmd = [
        sys.executable,
        "-c",
        "from breakingon.cli import main; main()",
        "newsroom",
        str(stream),
        "--port",
        "0",
        "--speed",
        f"{speed:g}",
        "--now",
    ]
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_die_with_parent if sys.platform == "linux" else None,
    )
    assert proc.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_lines, args=(proc.stdout, lines), daemon=True).start()
    deadline = time.monotonic() + SIMULATOR_START_S
    said: list[str] = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.2)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        said.append(line)
        if line.startswith("OPML: "):
            return proc, line.removeprefix("OPML: ").strip()
    stop_simulator(proc)
    why = f"exited with {proc.returncode}" if proc.returncode else "printed no OPML address"
    raise RuntimeError(
        f"the newsroom simulator {why} within {SIMULATOR_START_S:g} s"
        + (f": {said[-1]}" if said else "")
    )


def replay_clock(settings: Settings, opml_url: str, speed: float) -> Callable[[], datetime]:
    """The running newsroom's clock, mirrored here: its `now` read once from its status
    page, then run at `speed` and never past the wall clock, as the newsroom's own
    (`sim.stream.NewsroomClock`, `--now`). The demo judges recency, breaking and trends
    on it, so a story that starts fast in the replay is breaking while the replay plays
    it, not only in the last hours before the stream catches up with the present."""
    from breakingon.pipeline import fetch_bytes
    from breakingon.sim.stream import NewsroomClock
    from breakingon.sources.catalogue import SourceError

    status = opml_url.rsplit("/", 1)[0] + "/_control/status"
    data, error = fetch_bytes(settings, status)
    if error:
        raise SourceError(f"{status}: {error}")
    try:
        now = datetime.fromisoformat(json.loads(data)["now"])
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"{status}: no clock in the newsroom's status ({exc})") from None
    return NewsroomClock(now.astimezone(UTC), speed, not_after_wall=True).now


def stop_simulator(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@app.command("demo")
def demo(
    port: Annotated[int, typer.Option(help="Port of the site.")] = 8080,
    speed: Annotated[float, typer.Option(help="Replay speed: simulated seconds per second.")] = 600,
    data_dir: Annotated[
        Path, typer.Option(help="Demo data directory (wiped if an earlier demo made it).")
    ] = Path("./data-demo"),
    stream: Annotated[
        Path | None,
        typer.Option(help=f"Newsroom stream (default: ../shared/data/stream/{STREAM_NAME})."),
    ] = None,
) -> None:
    """The offline demo: newsroom simulator + a fresh site on its feeds, one command."""
    from breakingon.cli.serve import serve_everything
    from breakingon.cli.sources import add_feeds, fetch_opml
    from breakingon.sources.catalogue import SourceError, parse_opml

    if not 1 <= port <= 65535:
        fail(f"--port: expected 1-65535, got {port}")
    if not speed >= 1:
        fail(f"--speed: expected at least 1, got {speed:g}")
    path = stream or default_stream()
    if not path.is_file():
        fail(f"no newsroom stream at {path}; pass --stream PATH (a JSON Lines stream)")
    settings = demo_settings(load(), data_dir, port, speed)
    if not _port_free(settings.host, port):
        fail(f"port {port} on {settings.host} is in use; pass --port")
    try:
        fresh_data_dir(data_dir)
    except (OSError, ValueError) as exc:
        fail(str(exc))
    try:
        proc, opml_url = start_simulator(path, speed)
    except (OSError, RuntimeError) as exc:
        fail(str(exc))
        return
    try:
        try:
            feeds = parse_opml(fetch_opml(settings, opml_url, OPML_RETRY_S))
        except SourceError as exc:
            fail(f"the newsroom simulator's OPML: {exc}")
            return
        store = open_configured_store(settings)
        created, _ = add_feeds(store, feeds)
        low, high = settings.min_poll_interval_s, settings.max_poll_interval_s
        typer.echo(
            f"demo: {created} simulated outlets from {path.name} at x{speed:g}, "
            f"data in {data_dir}, polls every {low}-{high} s, fetches to 127.0.0.0/8 only"
        )
        try:
            clock = replay_clock(settings, opml_url, speed)
        except SourceError as exc:
            fail(f"the newsroom simulator's clock: {exc}")
            return
        sys.stdout.flush()
        serve_everything(settings, store, signal_clock=clock)
    finally:
        stop_simulator(proc)  # the data directory stays for a look; the next demo wipes it
