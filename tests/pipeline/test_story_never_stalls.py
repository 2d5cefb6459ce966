"""The story stage never stalls clustering: `breakingon run`'s processing runs the two in
loops of their own, so an LLM endpoint that answers late (a loopback server that holds
its answer) holds up only the story it writes for, and new articles are clustered
meanwhile."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from test_process import QUAKE, T0, TRIAL, _add

from breakingon.pipeline.runner import Pipeline
from breakingon.settings import Settings
from breakingon.store import Store


class _Slow:
    def __init__(self) -> None:
        self.asked = threading.Event()  # a request came in
        self.release = threading.Event()  # answer it now
        self.answered_at = 0.0


@pytest.fixture()
def slow_llm() -> Iterator[tuple[str, _Slow]]:
    state = _Slow()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            state.asked.set()
            state.release.wait(30)
            state.answered_at = time.monotonic()
            data = json.dumps({"choices": [{"message": {"content": "{}"}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()


def test_a_slow_llm_call_does_not_stall_clustering(
    store: Store, slow_llm: tuple[str, _Slow]
) -> None:
    url, llm = slow_llm
    now = T0 + timedelta(hours=1)
    settings = Settings(lease_s=120, llm_url=url, llm_model="slow-1")
    ids = [
        _add(store, o, c, t, x, T0 + timedelta(minutes=10 * i))
        for i, (o, c, t, x) in enumerate(QUAKE)
    ]
    pipeline = Pipeline(settings, store, "w1", crawl=False, alerts=False, clock=lambda: now)
    clustered_at: list[float] = []

    async def go() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(pipeline.run(stop))
        # the quake story's brief is at the endpoint, which holds its answer
        assert await asyncio.to_thread(llm.asked.wait, 60), "the story stage never asked"
        trial = await asyncio.to_thread(_add, store, *TRIAL, T0 + timedelta(minutes=50))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            art = await asyncio.to_thread(store.get_article, trial)
            if art is not None and art.story_id is not None:
                clustered_at.append(time.monotonic())
                break
            await asyncio.sleep(0.1)
        llm.release.set()
        stop.set()
        await task

    asyncio.run(go())
    assert clustered_at, "clustering stalled behind the story stage's LLM call"
    assert clustered_at[0] < llm.answered_at  # clustered while the call was still open
    # and the quake story got its (extractive: the answer was no brief) brief after all
    art = store.get_article(ids[0])
    assert art is not None and art.story_id is not None
    brief = store.get_brief(art.story_id)
    assert brief is not None and brief.writer == "extractive"
