"""Web hardening: security headers, request body limits, per-client rate limits, admin
auth.

`SecurityMiddleware` is a plain ASGI middleware wrapping the whole app. On every HTTP
response it sets a Content-Security-Policy without inline script, `nosniff`, `frame-
ancestors 'none'` and a strict referrer policy (no script or framing from feed content).
It answers 413 for bodies over the limit (declared or streamed) and 429 with `Retry-
After` when a client exceeds its token bucket (volume limits). The client is the
socket's peer address; `X-Forwarded-For` is read only when the peer is a configured
trusted proxy (the request envelope is not trusted). Searches (`is_search`: /search,
/api/search, /search/feed.*, /local), the expensive reads, have their own stricter
bucket per client and a cap on searches in flight (per client and in all), answered 429
and 503 with `Retry-After`, so one client cannot keep the machine busy searching while
the other pages stay served. After the rate limits, an optional `fast_path` (the
response cache's `lookup`) may answer a GET from memory before any routing, except for a
request carrying the `private_cookie` (a signed-in reader's session: their pages are
their own). `admin_denial` checks the bearer token in constant time (no timing leak);
`safe_next` keeps redirect targets on-site.

This module must not touch the store, templates or the network.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'; object-src 'none'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
)
DEFAULT_MAX_BODY = 1024 * 1024
_SECURITY_NAMES = frozenset(name for name, _ in SECURITY_HEADERS)
# (key, method, headers) -> (status, headers, body) or None: answers cached pages before
# routing; its headers must already include SECURITY_HEADERS.
FastPath = Callable[
    [str, str, Sequence[tuple[bytes, bytes]]],
    tuple[int, Sequence[tuple[bytes, bytes]], bytes] | None,
]


SEARCH_PATHS = frozenset({"/search", "/api/search", "/local"})
SEARCH_PER_CLIENT = 2  # searches one client may have in flight at once


def is_search(path: str) -> bool:
    """True for the search routes (pages, API, feeds, the place chooser)."""
    return path in SEARCH_PATHS or path.startswith("/search/")


class BodyTooLarge(Exception):
    """The request body exceeded the limit while it was being read."""


class RateLimiter:
    """Token buckets per client key: `per_min` requests a minute, bursts up to `per_min`.

    Memory is bounded: the least recently seen clients are dropped past `max_clients`.
    """

    def __init__(
        self,
        per_min: int,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 100_000,
    ) -> None:
        self.capacity = float(per_min)
        self.rate = per_min / 60.0
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def peek(self, key: str) -> float | None:
        """None when `key` has a token left, else seconds until one is free; takes none
        (a caller that counts only failures checks first, then `check`s each failure)."""
        tokens, last = self._buckets.get(key, (self.capacity, self.clock()))
        tokens = min(self.capacity, tokens + (self.clock() - last) * self.rate)
        return None if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def check(self, key: str) -> float | None:
        """Take one token for `key`; None when allowed, else seconds until one is free."""
        now = self.clock()
        tokens, last = self._buckets.pop(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            allowed = True
        else:
            self._buckets[key] = (tokens, now)
            allowed = False
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)
        if allowed:
            return None
        return (1.0 - tokens) / self.rate


def client_ip(scope: Scope, trusted_proxies: Sequence[Network]) -> str:
    """The client address: the socket peer, or, only when the peer is a trusted proxy,
    the right-most `X-Forwarded-For` entry that is not itself a trusted proxy."""
    client = scope.get("client")
    peer = str(client[0]) if client else ""
    if not trusted_proxies or not _in_networks(peer, trusted_proxies):
        return peer
    forwarded = ""
    for name, value in scope.get("headers", ()):
        if name == b"x-forwarded-for":
            forwarded = value.decode("latin-1")
    for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
        if not _in_networks(hop, trusted_proxies):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer
    return peer


def _in_networks(addr: str, networks: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip.version == n.version and ip in n for n in networks)


async def _send_json(
    send: Send, status: int, body: dict[str, Any], extra: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    data = json.dumps(body).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(data)).encode()),
        *SECURITY_HEADERS,
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})


class SecurityMiddleware:
    """Headers on every response, 413 on big bodies, 429 per client, for the wrapped app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        rate_limit_per_min: int = 600,
        max_body_bytes: int = DEFAULT_MAX_BODY,
        body_limits: Mapping[str, int] | None = None,
        trusted_proxies: Sequence[Network] = (),
        clock: Callable[[], float] = time.monotonic,
        fast_path: FastPath | None = None,
        search_rate_limit_per_min: int = 0,
        search_concurrency: int = 0,
        private_cookie: str = "",
    ) -> None:
        self.app = app
        self.fast_path = fast_path
        self.private_cookie = (private_cookie + "=").encode() if private_cookie else b""
        self.search_limiter = (
            RateLimiter(search_rate_limit_per_min, clock) if search_rate_limit_per_min > 0 else None
        )
        self.search_concurrency = search_concurrency
        self._searching: dict[str, int] = {}  # client -> searches in flight
        self._searching_total = 0
        self.max_body = max_body_bytes
        self.body_limits = dict(body_limits or {})
        self.trusted = tuple(trusted_proxies)
        self.limiter = RateLimiter(rate_limit_per_min, clock) if rate_limit_per_min > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        client = client_ip(scope, self.trusted)
        if self.limiter is not None:
            wait = self.limiter.check(client)
            if wait is not None:
                retry = str(max(1, math.ceil(wait))).encode()
                await _send_json(send, 429, {"error": "rate_limited"}, [(b"retry-after", retry)])
                return
        if is_search(scope.get("path", "")) and (
            self.search_limiter is not None or self.search_concurrency > 0
        ):
            await self._search(client, scope, receive, send)
            return
        await self._serve(scope, receive, send)

    async def _search(self, client: str, scope: Scope, receive: Receive, send: Send) -> None:
        """A search under its own per-client bucket and in-flight caps."""
        if self.search_limiter is not None:
            wait = self.search_limiter.check(client)
            if wait is not None:
                retry = str(max(1, math.ceil(wait))).encode()
                await _send_json(send, 429, {"error": "rate_limited"}, [(b"retry-after", retry)])
                return
        mine = self._searching.get(client, 0)
        cap = self.search_concurrency
        if cap > 0 and (self._searching_total >= cap or mine >= SEARCH_PER_CLIENT):
            await _send_json(send, 503, {"error": "busy"}, [(b"retry-after", b"1")])
            return
        self._searching[client] = mine + 1
        self._searching_total += 1
        try:
            await self._serve(scope, receive, send)
        finally:
            self._searching_total -= 1
            left = self._searching[client] - 1
            if left:
                self._searching[client] = left
            else:
                del self._searching[client]

    def _private(self, scope: Scope) -> bool:
        """The request carries the session cookie: never answer it from the shared cache."""
        if not self.private_cookie:
            return False
        return any(
            name == b"cookie" and self.private_cookie in value
            for name, value in scope.get("headers", ())
        )

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fast_path is not None and not self._private(scope):
            key = scope["path"] + "?" + scope.get("query_string", b"").decode("latin-1")
            hit = self.fast_path(key, scope["method"], scope["headers"])
            if hit is not None:  # already carries SECURITY_HEADERS (see web.cache)
                status, headers, body = hit
                await send({"type": "http.response.start", "status": status, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        limit = self.body_limits.get(scope.get("path", ""), self.max_body)
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_json(send, 400, {"error": "bad_content_length"})
                    return
                if declared > limit:
                    await _send_json(send, 413, {"error": "body_too_large", "limit": limit})
                    return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge
            return message

        async def secure_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [
                    (k, v)
                    for k, v in message.get("headers", ())
                    if k.lower() not in _SECURITY_NAMES
                ]
                message = {**message, "headers": [*headers, *SECURITY_HEADERS]}
            await send(message)

        try:
            await self.app(scope, limited_receive, secure_send)
        except BodyTooLarge:
            if not started:
                await _send_json(send, 413, {"error": "body_too_large", "limit": limit})


def admin_denial(authorization: str | None, token: str) -> tuple[int, str] | None:
    """None when `authorization` carries the admin bearer token, else (status, error code).

    401 without credentials, 403 with wrong ones, 403 `admin_disabled` when no token is
    configured. The comparison runs in constant time.
    """
    if not token:
        return 403, "admin_disabled"
    if not authorization:
        return 401, "unauthorized"
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return 401, "unauthorized"
    if not hmac.compare_digest(given.strip().encode("utf-8"), token.encode("utf-8")):
        return 403, "forbidden"
    return None


def safe_next(target: str | None, default: str = "/") -> str:
    """A same-site relative path for redirects: `//evil`, `/\\evil`, schemes and control
    characters all give `default` (no open redirects)."""
    if not target or len(target) > 2_000:
        return default
    if not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ord(c) < 0x21 or c == "\\" or ord(c) == 0x7F for c in target):
        return default
    return target
