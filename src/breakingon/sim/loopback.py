"""The simulator's HTTP/1.1 plumbing: loopback listeners on their own event-loop thread.

`LoopbackServer(handle, hosts)` binds 127.0.0.1 (and every address of `hosts`, all on
the same port) from a background thread, reads request heads with keep-alive, counts
requests per local address, and hands each request to `handle(local, method, target,
headers, writer)`, which answers with `send` (or writes to the stream itself) and says
whether to keep the connection open. `stop()` ends every open connection before the loop
closes. What is served is the caller's business (see `sim.server`). It binds only
loopback addresses and never connects anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from breakingon.sim.stream import http_date

__all__ = ["Handler", "LoopbackServer", "send"]

# (local address, method, target, lower-cased headers, writer) -> keep the connection open
Handler = Callable[[str, str, str, dict[str, str], asyncio.StreamWriter], Awaitable[bool]]

_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 304: "Not Modified",
            400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            429: "Too Many Requests", 503: "Service Unavailable"}  # fmt: skip


async def send(
    writer: asyncio.StreamWriter,
    status: int,
    headers: dict[str, str],
    body: bytes,
    head_only: bool = False,
) -> bool:
    """Write one response (Content-Length set, no body for 304 or HEAD); True: keep alive."""
    out = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
    merged = {"server": "breakingon-newsroom", "date": http_date(datetime.now(UTC))}
    merged.update(headers)
    if status != 304:
        merged["content-length"] = str(len(body))
    out.extend(f"{k}: {v}" for k, v in merged.items())
    writer.write(("\r\n".join(out) + "\r\n\r\n").encode("latin-1"))
    if status != 304 and not head_only:
        writer.write(body)
    await writer.drain()
    return True


class LoopbackServer:
    """Listeners on 127.0.0.1 and `hosts` (one port for all), served from one thread."""

    def __init__(self, handle: Handler, hosts: Sequence[str] = ()) -> None:
        self.handle = handle
        self.hosts = tuple(hosts)
        self.port = 0
        self.request_count = 0
        self.requests_by_host: dict[str, int] = {}
        self.requests_by_path: dict[str, int] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.base_events.Server] = []
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, port: int = 0) -> int:
        """Bind every address on `port` (0: any free one) and serve; returns the port."""
        self.port = port
        self._ready.clear()
        self._error = None
        self._thread = threading.Thread(target=self._run, name="newsroom", daemon=True)
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise self._error
        return self.port

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._bind())
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            loop.close()
            return
        self._ready.set()
        try:
            loop.run_forever()
        finally:
            for server in self._servers:
                server.close()
            self._servers.clear()
            # End every connection handler (idle keep-alives included) before the loop
            # closes: a cancelled task needs loop turns to finish, and one left pending
            # is reported by the garbage collector as destroyed.
            pending = list(self._tasks)
            for task in pending:
                task.cancel()
            if pending:
                with contextlib.suppress(Exception):
                    loop.run_until_complete(asyncio.wait(pending, timeout=5))
            self._tasks.clear()
            loop.close()

    async def _bind(self) -> None:
        main = await asyncio.start_server(self._serve, "127.0.0.1", self.port, limit=65536)
        self._servers.append(main)
        self.port = main.sockets[0].getsockname()[1]
        for host in self.hosts:
            server = await asyncio.start_server(self._serve, host, self.port, limit=65536)
            self._servers.append(server)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        local = str(writer.get_extra_info("sockname")[0])
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 30)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                if len(parts) != 3:
                    await send(writer, 400, {}, b"bad request\n")
                    return
                method, target = parts[0].upper(), parts[1]
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                self.request_count += 1
                self.requests_by_host[local] = self.requests_by_host.get(local, 0) + 1
                path = target.split("?", 1)[0]
                self.requests_by_path[path] = self.requests_by_path.get(path, 0) + 1
                keep = await self.handle(local, method, target, headers, writer)
                if not keep or headers.get("connection", "").lower() == "close":
                    return
        except (ConnectionError, asyncio.CancelledError):
            return
        finally:
            if task is not None:
                self._tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()
