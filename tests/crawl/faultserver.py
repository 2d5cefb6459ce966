"""A loopback HTTP server that misbehaves on purpose, for the fetcher's fault tests.

It runs an asyncio server in a background thread on 127.0.0.1, port 0, and speaks raw
HTTP/1.1 so a route can do what no well-behaved framework allows: never answer, drip one
byte at a time, stream forever, lie in Content-Length, send a gzip bomb, a garbage status
line, or reset the connection mid-body. It records every request and counts concurrent
connections. It binds only to loopback and never connects anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from breakingon.crawl.http import Fetcher, FetchSettings
from breakingon.crawl.netpolicy import NetPolicy
from breakingon.records import FetchResult

Writer = asyncio.StreamWriter


@dataclass(slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    at: float
    conn_id: int


Handler = Callable[[Request, Writer], Awaitable[bool]]
"""Writes a response; returns True when the connection may be kept alive."""


@dataclass(slots=True)
class Stats:
    connections: int = 0
    open_now: int = 0
    max_open: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    bytes_sent: dict[str, int] = field(default_factory=dict)


class FaultServer:
    """Route table of misbehaving handlers, served on 127.0.0.1 (optionally over TLS)."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None, host: str = "127.0.0.1") -> None:
        self.host = host
        self.ssl_context = ssl_context
        self.routes: dict[str, Handler] = {}
        self.requests: list[Request] = []
        self.stats = Stats()
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    # --- lifecycle -------------------------------------------------------------------
    def start(self) -> FaultServer:
        self._thread.start()
        fut = asyncio.run_coroutine_threadsafe(self._start(), self._loop)
        fut.result(timeout=10)
        return self

    async def _start(self) -> None:
        self._server = await asyncio.start_server(
            self._serve, self.host, 0, ssl=self.ssl_context, backlog=128
        )
        self.port = self._server.sockets[0].getsockname()[1]

    def stop(self) -> None:
        async def _stop() -> None:
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(_stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def url(self, path: str, host: str | None = None) -> str:
        scheme = "https" if self.ssl_context else "http"
        return f"{scheme}://{host or self.host}:{self.port}{path}"

    def hits(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    # --- connection handling ---------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        with self._lock:
            self.stats.connections += 1
            conn_id = self.stats.connections
            self.stats.open_now += 1
            self.stats.max_open = max(self.stats.max_open, self.stats.open_now)
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = [*lines[0].split(" ", 2), "", ""][:3]
                headers: dict[str, str] = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                req = Request(method, path, headers, time.monotonic(), conn_id)
                with self._lock:
                    self.requests.append(req)
                    self.stats.in_flight += 1
                    self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)
                handler = self.routes.get(path.split("?", 1)[0], not_found)
                try:
                    keep = await handler(req, writer)
                finally:
                    with self._lock:
                        self.stats.in_flight -= 1
                if not keep:
                    return
        except (ConnectionError, ssl.SSLError, OSError, asyncio.CancelledError):
            # Cancelled at shutdown: end quietly (a test server need not propagate it).
            return
        finally:
            with self._lock:
                self.stats.open_now -= 1
            with contextlib.suppress(Exception):
                writer.close()

    def count(self, path: str, n: int) -> None:
        with self._lock:
            self.stats.bytes_sent[path] = self.stats.bytes_sent.get(path, 0) + n


# --- response helpers and handler factories -------------------------------------------


async def send(
    writer: Writer,
    status: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    reason: str = "X",
) -> bool:
    hdrs = {"Content-Length": str(len(body)), "Connection": "keep-alive"}
    hdrs.update(headers or {})
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
    writer.write(head.encode("latin-1") + b"\r\n" + body)
    await writer.drain()
    return True


async def not_found(req: Request, writer: Writer) -> bool:
    return await send(writer, 404, b"not found")


def ok(
    body: bytes, headers: dict[str, str] | None = None, status: int = 200, delay: float = 0.0
) -> Handler:
    async def h(req: Request, writer: Writer) -> bool:
        if delay:
            await asyncio.sleep(delay)
        return await send(writer, status, body, headers)

    return h


def conditional(body: bytes, etag: str, last_modified: str) -> Handler:
    async def h(req: Request, writer: Writer) -> bool:
        validators = {"ETag": etag, "Last-Modified": last_modified}
        if (
            req.headers.get("if-none-match") == etag
            and req.headers.get("if-modified-since") == last_modified
        ):
            return await send(writer, 304, b"", {**validators, "Content-Length": "0"})
        return await send(writer, 200, body, {**validators, "Content-Type": "application/rss+xml"})

    return h


def blackhole() -> Handler:
    async def h(req: Request, writer: Writer) -> bool:
        await asyncio.sleep(3600)
        return False

    return h


def drip(every_s: float, path: str, server: FaultServer) -> Handler:
    """Headers at once, then one body byte every `every_s` seconds, forever."""

    async def h(req: Request, writer: Writer) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        await writer.drain()
        while True:
            await asyncio.sleep(every_s)
            writer.write(b"x")
            await writer.drain()
            server.count(path, 1)

    return h


def infinite_chunked(path: str, server: FaultServer) -> Handler:
    async def h(req: Request, writer: Writer) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        chunk = b"a" * 65536
        frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        while True:
            writer.write(frame)
            await writer.drain()
            server.count(path, len(chunk))

    return h


def streamed(
    declared: str | None,
    total: int,
    path: str,
    server: FaultServer,
    extra: dict[str, str] | None = None,
) -> Handler:
    """Declare `declared` as Content-Length (None: close-delimited) and send `total` bytes."""

    async def h(req: Request, writer: Writer) -> bool:
        head = "HTTP/1.1 200 OK\r\nConnection: close\r\n"
        if declared is not None:
            head += f"Content-Length: {declared}\r\n"
        for k, v in (extra or {}).items():
            head += f"{k}: {v}\r\n"
        writer.write(head.encode() + b"\r\n")
        sent = 0
        chunk = b"b" * 65536
        while sent < total:
            piece = chunk[: total - sent]
            writer.write(piece)
            await writer.drain()
            sent += len(piece)
            server.count(path, len(piece))
        return False

    return h


def raw(data: bytes, path: str, server: FaultServer, *, reset: bool = False) -> Handler:
    """Write `data` verbatim, then close (with RST when `reset`)."""

    async def h(req: Request, writer: Writer) -> bool:
        writer.write(data)
        await writer.drain()
        server.count(path, len(data))
        if reset:
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        return False

    return h


def encoded_stream(
    compressed: bytes, headers: dict[str, str], path: str, server: FaultServer
) -> Handler:
    """Send a pre-compressed body in 64 KiB writes (so an early abort is visible)."""

    async def h(req: Request, writer: Writer) -> bool:
        hdrs = {"Content-Length": str(len(compressed)), "Connection": "close", **headers}
        head = "HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hdrs.items())
        writer.write(head.encode() + b"\r\n")
        for i in range(0, len(compressed), 65536):
            writer.write(compressed[i : i + 65536])
            await writer.drain()
            server.count(path, min(65536, len(compressed) - i))
        return False

    return h


def redirect(to: str | None, status: int = 302) -> Handler:
    async def h(req: Request, writer: Writer) -> bool:
        hdrs = {} if to is None else {"Location": to}
        return await send(writer, status, b"", hdrs)

    return h


def gzip_bytes(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6)


def gzip_bomb(decoded_size: int) -> bytes:
    """A valid gzip member (about 1 KiB per MiB) that inflates to `decoded_size` zero bytes.

    Each 1 MiB block is deflated after a full flush, so every block compresses to the same
    bytes and the bomb is assembled by repetition instead of compressing a gigabyte.
    """
    block = b"\0" * (1 << 20)
    n = max(decoded_size >> 20, 3)
    comp = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    first = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    middle = comp.compress(block) + comp.flush(zlib.Z_FULL_FLUSH)
    last = comp.compress(block) + comp.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    trailer = struct.pack("<II", crc, (n << 20) & 0xFFFFFFFF)
    return header + first + middle * (n - 2) + last + trailer


# --- test doubles for the network edges ---------------------------------------------


class FakeResolver:
    """Maps host names to answers; an answer may be a list of IPs or an exception.

    `answers[host]` may also be a list of lists: successive lookups get successive answers
    (the last one repeats), which is how DNS rebinding is simulated.
    """

    def __init__(self, answers: dict[str, object]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        ans = self.answers.get(host)
        if ans is None:
            raise socket.gaierror(socket.EAI_NONAME, f"NXDOMAIN {host}")
        if isinstance(ans, BaseException):
            raise ans
        assert isinstance(ans, list)
        if ans and isinstance(ans[0], list):
            n = self.calls.count(host) - 1
            return list(ans[min(n, len(ans) - 1)])
        return list(ans)


class ConnectLog:
    """The fetcher's connect hook: records (host, ip, port) of every connection attempt."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, str, int]] = []

    def __call__(self, host: str, ip: str, port: int) -> None:
        self.attempts.append((host, ip, port))


# --- running the fetcher from synchronous tests ---------------------------------------


def small_settings(**overrides: object) -> FetchSettings:
    """Fetch settings shrunk for fast tests (timeouts under a second or two, 1 MiB cap)."""
    base: dict[str, object] = {
        "connect_timeout": 1.0,
        "read_timeout": 1.0,
        "total_deadline": 3.0,
        "max_body_bytes": 1 << 20,
        "per_host_delay_s": 0.0,
    }
    base.update(overrides)
    return FetchSettings(**base)  # type: ignore[arg-type]


LOOPBACK_POLICY = NetPolicy.from_setting("127.0.0.0/8")


def fetch_once(
    url: str,
    settings: FetchSettings | None = None,
    policy: NetPolicy = LOOPBACK_POLICY,
    **kw: object,
) -> FetchResult:
    """Open a Fetcher, fetch one URL, close it. `kw` goes to Fetcher (resolver, hook...)."""

    async def go() -> FetchResult:
        async with Fetcher(settings or small_settings(), policy, **kw) as f:  # type: ignore[arg-type]
            return await f.fetch(url)

    return asyncio.run(go())
