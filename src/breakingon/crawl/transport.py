"""Pinned connections: an httpx transport that connects only to approved addresses.

`PinnedTransport` runs httpcore pools (one per origin) whose network backend,
`PinnedBackend`, connects to the IP that `NetPolicy` validated for each (host, port) and
never resolves a name itself, so DNS rebinding cannot reach another address. TLS still
verifies the certificate and sends SNI for the host name. Used by `crawl.http.Fetcher`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager

import httpcore
import httpx

ConnectHook = Callable[[str, str, int], None]
"""Called with (host, ip, port) right before each TCP connection is opened."""


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to the IP the policy validated for (host, port); never resolves."""

    def __init__(self, pins: dict[tuple[str, int], str], hook: ConnectHook | None) -> None:
        self._pins = pins
        self._hook = hook
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: object = None,
    ) -> httpcore.AsyncNetworkStream:
        ip = self._pins.get((host.lower(), port))
        if ip is None:
            raise httpcore.ConnectError(f"no validated address for {host}:{port}")
        if self._hook is not None:
            self._hook(host, ip, port)
        return await self._inner.connect_tcp(
            ip, port, timeout=timeout, local_address=local_address, socket_options=None
        )

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: object = None
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("unix sockets are never used for fetching")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


_EXC_MAP: tuple[tuple[type[Exception], type[httpx.HTTPError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.ProtocolError, httpx.ProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
)


@contextmanager
def _mapped_exceptions() -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for src, dst in _EXC_MAP:
            if isinstance(exc, src):
                raise dst(str(exc)) from exc
        raise


class _ResponseStream(httpx.AsyncByteStream):
    def __init__(self, stream: object, on_close: Callable[[], None] | None = None) -> None:
        self._stream = stream
        self._on_close = on_close

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _mapped_exceptions():
            async for part in self._stream:  # type: ignore[attr-defined]
                yield part

    async def aclose(self) -> None:
        on_close, self._on_close = self._on_close, None
        try:
            close = getattr(self._stream, "aclose", None)
            if close is not None:
                with _mapped_exceptions():
                    await close()
        finally:
            if on_close is not None:
                on_close()


class PinnedTransport(httpx.AsyncBaseTransport):
    """httpx transport over httpcore pools whose network backend is `PinnedBackend`.

    One small pool per origin: httpcore scans every pooled connection on each request
    (liveness checks are syscalls), so one pool shared by hundreds of hosts made the
    crawler's CPU grow with the number of hosts (profiled in bench/ingest). At most
    `max_pools` idle origins keep their connections; the least recently used idle
    pool is closed first, which bounds open sockets at scale.
    """

    def __init__(
        self, make_pool: Callable[[], httpcore.AsyncConnectionPool], max_pools: int
    ) -> None:
        self._make_pool = make_pool
        self._max_pools = max(1, max_pools)
        self._pools: OrderedDict[tuple[bytes, bytes, int | None], httpcore.AsyncConnectionPool]
        self._pools = OrderedDict()
        self._active: dict[tuple[bytes, bytes, int | None], int] = {}

    async def _pool_for(self, key: tuple[bytes, bytes, int | None]) -> httpcore.AsyncConnectionPool:
        """The pool for `key`, counted as active at once (before any await), so a
        concurrent caller evicting idle pools can never close the one handed out here."""
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = self._make_pool()
        self._pools.move_to_end(key)
        self._active[key] = self._active.get(key, 0) + 1
        victims = []
        if len(self._pools) > self._max_pools:
            for old in list(self._pools):  # no await in this loop: the dict stays consistent
                if len(self._pools) <= self._max_pools:
                    break
                if old != key and not self._active.get(old):
                    victims.append(self._pools.pop(old))
        for victim in victims:
            await victim.aclose()
        return pool

    def _done(self, key: tuple[bytes, bytes, int | None]) -> None:
        left = self._active.get(key, 0) - 1
        if left > 0:
            self._active[key] = left
        else:
            self._active.pop(key, None)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.raw_scheme, request.url.raw_host, request.url.port)
        try:
            pool = await self._pool_for(key)
        except BaseException:
            self._done(key)
            raise
        req = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,  # type: ignore[arg-type]
            extensions=request.extensions,
        )
        try:
            with _mapped_exceptions():
                resp = await pool.handle_async_request(req)
        except BaseException:
            self._done(key)
            raise
        return httpx.Response(
            status_code=resp.status,
            headers=resp.headers,
            stream=_ResponseStream(resp.stream, lambda: self._done(key)),
            extensions=resp.extensions,
        )

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()
