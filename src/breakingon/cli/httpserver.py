"""The web server's connection limits: uvicorn with a header cap and a header deadline.

uvicorn's httptools protocol accepts request headers of any size (httptools buffers a
header until it ends) and waits for them forever (its keep-alive timer is cancelled by
the first byte of a request), so one client could bloat the process with a 96 MiB
header or hold a connection open by dripping a byte a second; and all of that before the
rate limiter, which runs once the headers are complete. `LimitedHttpToolsProtocol`:

- counts the bytes of a request's head while it arrives; past `max_header_bytes` (or
  when the complete head is over it) it answers 431 and closes the connection;
- closes a connection whose request head is not complete `header_timeout_s` after the
  connection opened or the request's first byte arrived (a slow drip), with 408;
- closes a connection whose request body is not complete `body_timeout_s` after its
  head (a slow body drip), with 408 when no response has started.

`uvicorn_options(settings)` gives both `breakingon web` and `breakingon run` the same
options: this protocol, the keep-alive timeout, the cap on connections and requests in
flight (`limit_concurrency`: 503 past it) and h11's event-size cap should h11 ever be used.
The limits are class attributes set by `configure` in each server process (the app
factory of `--workers N` runs it in every worker). Composition only: no web logic.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from breakingon.settings import Settings

PROTOCOL = "breakingon.cli.httpserver:LimitedHttpToolsProtocol"


def _reply(status: bytes) -> bytes:
    return b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


_TOO_LARGE = _reply(b"431 Request Header Fields Too Large")
_TIMEOUT = _reply(b"408 Request Timeout")


class _HeadTooLarge(Exception):
    """Raised from a parser callback: the complete request head is over the cap."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a cap on request-head bytes and a deadline for
    a complete request head (see the module docstring)."""

    max_header_bytes = 32 * 1024
    header_timeout_s = 10.0
    body_timeout_s = 60.0

    @classmethod
    def configure(
        cls, max_header_bytes: int, header_timeout_s: float, body_timeout_s: float
    ) -> None:
        cls.max_header_bytes = max_header_bytes
        cls.header_timeout_s = header_timeout_s
        cls.body_timeout_s = body_timeout_s

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._in_head = True  # waiting for (the rest of) a request head
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_too_large = False
        self._completed = 0  # requests completed while parsing the current chunk
        self._body_timer: asyncio.TimerHandle | None = None

    # -- the head deadline ------------------------------------------------------------

    def _arm_head_timer(self) -> None:
        if self._head_timer is None and self.header_timeout_s > 0:
            self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timeout)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if not self._in_head or self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self._arm_head_timer()  # a pipelined head waits while a response is written
            return
        self._refuse(_TIMEOUT)

    def _disarm_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _body_timeout(self) -> None:
        self._body_timer = None
        if self.transport.is_closing():
            return
        started = self.cycle is not None and self.cycle.response_started
        if not started:
            self.transport.write(_TIMEOUT)
        self.transport.close()

    def _refuse(self, reply: bytes) -> None:
        self._in_head = False
        self._disarm_head_timer()
        if not self.transport.is_closing():
            self.transport.write(reply)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        self._disarm_body_timer()
        super().connection_lost(exc)

    # -- the head cap -----------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        # uvicorn's data_received, with the head cap and deadline around the parser
        if self.transport.is_closing():
            return
        if self._in_head:
            self._arm_head_timer()  # a kept-alive connection's next request began
        self._unset_keepalive_if_required()
        # Count the chunk only when it is all head: a head was under way before it and
        # still is after it (a chunk that ends a request holds its body too).
        counted = self._in_head
        self._completed = 0
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if self._head_too_large:  # raised by on_headers_complete, wrapped by httptools
                self._refuse(_TOO_LARGE)
            else:
                msg = "Invalid HTTP request received."
                self.logger.warning(msg)
                self.send_400_response(msg)
            return
        if counted and self._in_head and not self._completed and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self._refuse(_TOO_LARGE)

    def on_headers_complete(self) -> None:
        size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
        if size > self.max_header_bytes:
            self._head_too_large = True
            raise _HeadTooLarge
        self._in_head = False
        self._disarm_head_timer()
        super().on_headers_complete()
        if self.body_timeout_s > 0 and self._body_timer is None:
            self._body_timer = self.loop.call_later(self.body_timeout_s, self._body_timeout)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._disarm_body_timer()
        self._completed += 1
        # the next request's head starts here (pipelined, or on a kept-alive connection)
        self._in_head = True
        self._head_bytes = 0


def configure(settings: Settings) -> None:
    """Set this process's request-head limits from `settings`."""
    LimitedHttpToolsProtocol.configure(
        settings.web_max_header_bytes, settings.web_header_timeout_s, settings.web_body_timeout_s
    )


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The connection limits of every BreakingOn web server (see the module docstring)."""
    configure(settings)
    return {
        "http": PROTOCOL,
        "timeout_keep_alive": settings.web_keepalive_s,
        "limit_concurrency": settings.web_max_connections or None,
        "h11_max_incomplete_event_size": settings.web_max_header_bytes,
    }
