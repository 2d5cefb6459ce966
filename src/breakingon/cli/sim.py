"""CLI command `newsroom`: the newsroom simulator on loopback addresses.

`newsroom` serves a JSON Lines stream as per-outlet loopback feeds and article pages
until Ctrl-C or SIGTERM. This module only wires arguments to `breakingon.sim`: no SQL,
no store, no pipeline.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer

from breakingon.cli.app import app, fail


@app.command("newsroom")
def newsroom_command(
    stream: Annotated[Path, typer.Argument(help="JSON Lines stream (id, outlet, domain, ...).")],
    port: Annotated[int, typer.Option(help="Port on every loopback address (0: any).")] = 8800,
    speed: Annotated[float, typer.Option(help="Simulated seconds per wall second.")] = 60.0,
    misbehave: Annotated[
        list[str] | None,
        typer.Option(
            help="MODE@domain or MODE=FRACTION; modes: slow, 429, 5xx, gzip_bomb, "
            "redirect_loop, broken_xml. Repeatable."
        ),
    ] = None,
    single_address: Annotated[
        bool, typer.Option(help="Serve all outlets on 127.0.0.1 under /o/<domain>/.")
    ] = False,
    now: Annotated[
        bool,
        typer.Option(
            "--now",
            help="Rebase the stream on the present: the last article is published exactly "
            "when the replay ends (span/speed seconds from now); no time is in the future.",
        ),
    ] = False,
) -> None:
    """Replay a stream as per-outlet loopback feeds and article pages until Ctrl-C."""
    from breakingon.sim.server import Newsroom
    from breakingon.sim.stream import parse_misbehave

    try:
        per_outlet, fractions = parse_misbehave(misbehave or [])
        room = Newsroom.from_jsonl(
            stream,
            port=port,
            speed=speed,
            misbehave=per_outlet,
            misbehave_fraction=fractions,
            per_outlet_addresses=not single_address,
            now=now,
        )
    except (OSError, ValueError, KeyError) as exc:
        fail(f"{stream}: {exc}")
        return
    try:
        room.start()
    except OSError as exc:
        fail(f"cannot listen on port {port}: {exc}")
    typer.echo(f"OPML: {room.opml_url}")
    at = room.clock.now()
    typer.echo(f"{len(room.feeds)} outlets, speed x{speed:g}, simulated {at:%Y-%m-%d %H:%M} UTC")
    if now:
        wall = room.replay_seconds
        typer.echo(f"rebased on the present: the replay ends in {wall:.0f} s")
    typer.echo("Allow it for the crawler: BREAKINGON_FETCH_ALLOW_NETWORKS=127.0.0.0/8")
    sys.stdout.flush()
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(1.0):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        room.stop()
