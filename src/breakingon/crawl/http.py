"""The hardened, polite HTTP fetcher: the only module that opens outbound sockets.

`Fetcher.fetch(url)` returns a `records.FetchResult`, and so do `Fetcher.post(url, body,
content_type)` (alert webhooks and push endpoints) and `Fetcher.post_form(url, form)`
(WebSub hub requests); expected failures are data
with a typed `error` code (timeout, dns, connect, tls, deadline_exceeded, too_large,
too_many_redirects, redirect_without_location, address_not_allowed, bad_url,
http_<status>, rate_limited, gone, protocol, robots_disallowed, encoding).

What it guarantees:
- SSRF: every hop's URL is checked and its host resolved and checked by `NetPolicy`;
  the connection is PINNED to the validated IP by a custom httpcore network backend (TLS
  still verifies and sends SNI for the host name), so DNS rebinding cannot reach another
  address. Redirects are followed by hand (at most `max_redirects`).
- Bounded cost: connect/read timeouts, a total deadline per fetch (a slow drip cannot hold
  a worker, httpx #1450), a cap on the declared and on the DECODED body size (gzip bombs),
  bounded-step decompression, nested Content-Encoding refused, brotli/zstd not offered.
- Politeness: an honest User-Agent, per-host concurrency and minimum spacing (plus robots
  Crawl-delay for pages), Retry-After honoured per host (capped), conditional GET with the
  stored validators sent verbatim.
- Article pages (`kind="page"`) are checked against robots.txt first; feeds are not
  (see `crawl.robots`).

It does not parse feeds or pages, touch the store, or read the environment.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import http.cookiejar
import logging
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Literal
from urllib.parse import urlencode, urlsplit

import httpcore
import httpx

from breakingon import __version__
from breakingon.crawl.body import Abort, classify, read_body
from breakingon.crawl.netpolicy import (
    BlockedAddress,
    DnsError,
    NetPolicy,
    Resolver,
    SystemResolver,
    check_location,
    check_url,
    parse_ip_literal,
)
from breakingon.crawl.retryafter import parse_retry_after
from breakingon.crawl.robots import RobotsCache
from breakingon.crawl.transport import ConnectHook, PinnedBackend, PinnedTransport
from breakingon.records import FetchResult

log = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"BreakingOn/{__version__} (+https://github.com/breakingon/breakingon)"
FetchKind = Literal["feed", "page", "image"]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_PERMANENT = frozenset({301, 308})
_ACCEPT = {
    "feed": "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
    "page": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
    "image": "image/webp, image/jpeg, image/png, image/gif;q=0.8",
}


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """Fetcher limits and politeness. Defaults are production values; tests shrink them."""

    user_agent: str = DEFAULT_USER_AGENT
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_deadline: float = 30.0
    max_body_bytes: int = 10 * 1024 * 1024
    max_redirects: int = 5
    per_host_concurrency: int = 2
    per_host_delay_s: float = 1.0
    retry_after_cap_s: float = 24 * 3600.0
    verify_tls: bool = True
    # Host embargo after a 429 with no usable Retry-After (the schedule also backs off).
    rate_limit_default_s: float = 60.0
    robots_ttl_s: float = 24 * 3600.0
    robots_error_ttl_s: float = 600.0
    robots_max_bytes: int = 512 * 1024
    max_crawl_delay_s: float = 30.0
    # Open sockets in all, idle keep-alives included. A crawler revisits each host
    # about once per politeness delay, so the idle pools of every host in rotation must
    # fit, or connections are torn down and reopened for each request.
    max_connections: int = 512


# --- politeness state ---------------------------------------------------------------


@dataclass(slots=True)
class _HostSlot:
    sem: asyncio.Semaphore
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    next_start: float = 0.0

    async def wait_turn(self, gap: float) -> None:
        """Keep at least `gap` seconds between request starts to this host."""
        loop = asyncio.get_running_loop()
        async with self.lock:
            wait = self.next_start - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            self.next_start = loop.time() + gap

    def mark_sent(self, gap: float) -> None:
        """The request left now: the next one to this host waits `gap` from here, so
        event-loop lag between the turn and the send never shortens the spacing."""
        loop = asyncio.get_running_loop()
        self.next_start = max(self.next_start, loop.time() + gap)


@dataclass(slots=True)
class _Hop:
    """One request's outcome: either a final result or the next URL of a redirect."""

    result: FetchResult | None = None
    location: str | None = None
    status: int = 0


class Fetcher:
    """Async context manager that fetches URLs under the SSRF policy and politeness rules.

    `resolver` defaults to the system resolver; `connect_hook(host, ip, port)` is called
    before every TCP connection (tests assert zero attempts with it); `clock` drives the
    Retry-After embargo and the robots cache; `ssl_context` replaces the default
    verifying context (tests use it to trust a test CA; verification stays on).
    """

    def __init__(
        self,
        settings: FetchSettings | None = None,
        policy: NetPolicy | None = None,
        *,
        resolver: Resolver | None = None,
        connect_hook: ConnectHook | None = None,
        clock: Callable[[], float] = time.monotonic,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings or FetchSettings()
        self.policy = policy or NetPolicy()
        self._resolver: Resolver = resolver or SystemResolver()
        self._hook = connect_hook
        self._clock = clock
        self._ssl_context = ssl_context
        self._pins: dict[tuple[str, int], str] = {}
        self._slots: dict[str, _HostSlot] = {}
        self._not_before: dict[str, float] = {}
        self._client: httpx.AsyncClient | None = None
        self.robots = RobotsCache(
            self._fetch_robots,
            user_agent=self.settings.user_agent,
            ttl_s=self.settings.robots_ttl_s,
            error_ttl_s=self.settings.robots_error_ttl_s,
            max_crawl_delay_s=self.settings.max_crawl_delay_s,
            clock=clock,
        )

    async def __aenter__(self) -> Fetcher:
        s = self.settings
        ctx = self._ssl_context
        if ctx is None:
            if s.verify_tls:
                ctx = httpx.create_ssl_context()
            else:
                log.warning("TLS certificate verification is DISABLED for this fetcher")
                ctx = ssl.create_default_context()
                ctx.check_hostname = False
                ctx.verify_mode = ssl.CERT_NONE
        backend = PinnedBackend(self._pins, self._hook)
        per_origin = max(1, s.per_host_concurrency)

        def make_pool() -> httpcore.AsyncConnectionPool:
            return httpcore.AsyncConnectionPool(
                ssl_context=ctx,
                max_connections=per_origin,
                max_keepalive_connections=per_origin,
                keepalive_expiry=30.0,
                network_backend=backend,
            )

        jar = http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
        self._client = httpx.AsyncClient(
            transport=PinnedTransport(make_pool, max(1, s.max_connections // per_origin)),
            timeout=httpx.Timeout(
                connect=s.connect_timeout,
                read=s.read_timeout,
                write=s.read_timeout,
                pool=s.total_deadline,
            ),
            follow_redirects=False,
            trust_env=False,
            cookies=jar,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def host_wait_s(self, url: str) -> float:
        """Seconds before `url`'s host may be contacted again (Retry-After embargo); 0 if free."""
        key = _host_key(url)
        if key is None:
            return 0.0
        return max(0.0, self._not_before.get(key, 0.0) - self._clock())

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        kind: FetchKind = "feed",
        max_bytes: int | None = None,
    ) -> FetchResult:
        """Fetch one URL. Never raises for network trouble: errors are in `FetchResult.error`.

        Pages and images are checked against robots.txt; `max_bytes` lowers the body cap
        for this fetch (images: `crawl.images`)."""
        gap = self.settings.per_host_delay_s
        if kind in ("page", "image"):
            reason = check_url(url)
            if reason is not None:  # before robots.txt, whose URL is built from this one
                return FetchResult(url=url, final_url=url, error="bad_url", detail=reason)
            if self.host_wait_s(url) > 0:
                return self._embargoed(url, url)
            verdict = await self.robots.check(url)
            if not verdict.allowed:
                return FetchResult(
                    url=url, final_url=url, error="robots_disallowed", detail=verdict.reason
                )
            if verdict.crawl_delay_s is not None:
                gap = max(gap, verdict.crawl_delay_s)
        validators: list[tuple[str, str]] = []
        if etag:
            validators.append(("If-None-Match", etag))
        if last_modified:
            validators.append(("If-Modified-Since", last_modified))
        return await self._run(
            url,
            validators,
            accept=_ACCEPT[kind],
            gap=gap,
            limit=min(self.settings.max_body_bytes, max_bytes or self.settings.max_body_bytes),
            truncate=False,
            max_redirects=self.settings.max_redirects,
        )

    async def _fetch_robots(self, url: str) -> FetchResult:
        # RFC 9309: follow at least 5 redirects, parse at least 500 KiB (truncate, not fail).
        return await self._run(
            url,
            [],
            accept="text/plain, */*;q=0.5",
            gap=self.settings.per_host_delay_s,
            limit=self.settings.robots_max_bytes,
            truncate=True,
            max_redirects=5,
        )

    async def post_form(
        self, url: str, form: Mapping[str, str], *, max_response_bytes: int = 64 * 1024
    ) -> FetchResult:
        """POST `form` (urlencoded) to `url` (WebSub hub requests); see `post`."""
        body = urlencode(form).encode()
        ctype = "application/x-www-form-urlencoded"
        return await self.post(url, body, ctype, max_response_bytes=max_response_bytes)

    async def post(
        self,
        url: str,
        body: bytes,
        content_type: str,
        *,
        headers: Sequence[tuple[str, str]] = (),
        max_response_bytes: int = 64 * 1024,
    ) -> FetchResult:
        """POST `body` with `content_type` and extra `headers` (ASCII) to `url` (WebSub
        hubs, alert webhooks and push endpoints). Never raises for network trouble.

        The same SSRF policy, pinned connections, per-host politeness, Retry-After
        embargo and total deadline as `fetch`; no redirect is followed (a redirect is
        `too_many_redirects`), and the response body is read up to `max_response_bytes`
        (truncated, not failed). A 2xx is a success; anything else a typed error.
        """
        return await self._run(
            url,
            [("Content-Type", content_type), *headers],
            accept="*/*",
            gap=self.settings.per_host_delay_s,
            limit=max_response_bytes,
            truncate=True,
            max_redirects=0,
            content=body,
        )

    def _embargoed(self, url: str, final_url: str) -> FetchResult:
        wait = self.host_wait_s(final_url)
        return FetchResult(
            url=url,
            final_url=final_url,
            error="rate_limited",
            retry_after_s=wait,
            detail=f"host asked us to wait; {wait:.0f} s left (no request sent)",
        )

    async def _run(
        self,
        url: str,
        extra_headers: list[tuple[str, str]],
        *,
        accept: str,
        gap: float,
        limit: int,
        truncate: bool,
        max_redirects: int,
        content: bytes | None = None,
    ) -> FetchResult:
        """One request (a GET, or a POST of `content`), following redirects by hand."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        budget = self.settings.total_deadline
        current = url
        redirects = 0
        permanent: str | None = None
        permanent_chain = True
        seen: list[str] = []
        while True:
            reason = check_url(current)
            if reason is not None:
                log.warning("refused URL %r: %s", current, reason)
                return self._fail(url, current, "bad_url", reason, started)
            literal = parse_ip_literal(urlsplit(current).hostname or "")
            why = None if literal is None else self.policy.is_allowed_ip(literal)
            if why is not None:
                # Checked before URL parsing: some encodings (0177.0.0.1) fail it anyway.
                log.warning("refused %s: address_not_allowed (%s)", current, why)
                return self._fail(url, current, "address_not_allowed", why, started)
            key = _host_key(current)
            if key is None:
                return self._fail(url, current, "bad_url", "unparseable URL", started)
            if self.host_wait_s(current) > 0:
                return self._embargoed(url, current)
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = _HostSlot(
                    asyncio.Semaphore(self.settings.per_host_concurrency)
                )
            async with slot.sem:
                await slot.wait_turn(gap)
                t0 = loop.time()
                try:
                    async with asyncio.timeout(budget):
                        hop = await self._hop(
                            url,
                            current,
                            extra_headers,
                            accept,
                            limit,
                            truncate,
                            on_send=functools.partial(slot.mark_sent, gap),
                            content=content,
                        )
                except TimeoutError:
                    return self._fail(
                        url,
                        current,
                        "deadline_exceeded",
                        f"total deadline of {self.settings.total_deadline:g} s exceeded",
                        started,
                    )
                budget -= loop.time() - t0
            if hop.result is not None:
                res = hop.result
                if res.error is None and permanent is not None:
                    res = _with(res, permanent_redirect=permanent, elapsed_s=loop.time() - started)
                else:
                    res = _with(res, elapsed_s=loop.time() - started)
                return res
            assert hop.location is not None
            seen.append(current)
            redirects += 1
            if redirects > max_redirects:
                return self._fail(
                    url,
                    hop.location,
                    "too_many_redirects",
                    f"more than {max_redirects} redirects",
                    started,
                )
            if hop.status in _PERMANENT and permanent_chain:
                permanent = hop.location
            else:
                permanent_chain = False
            current = hop.location
            if budget <= 0:
                return self._fail(
                    url, current, "deadline_exceeded", "deadline spent on redirects", started
                )

    async def _hop(
        self,
        url: str,
        current: str,
        extra_headers: list[tuple[str, str]],
        accept: str,
        limit: int,
        truncate: bool,
        on_send: Callable[[], None] | None = None,
        content: bytes | None = None,
    ) -> _Hop:
        assert self._client is not None, "use `async with Fetcher(...)`"
        try:
            target = httpx.URL(current)
            host = target.raw_host.decode("ascii").lower()
        except (httpx.InvalidURL, ValueError) as exc:  # IDNA errors are ValueErrors too
            return _Hop(FetchResult(url=url, final_url=current, error="bad_url", detail=str(exc)))
        port = target.port or (443 if target.scheme == "https" else 80)
        try:
            async with asyncio.timeout(self.settings.connect_timeout):
                ips = await self.policy.resolve_and_check(host, port, self._resolver)
        except BlockedAddress as exc:
            log.warning("refused %s: address_not_allowed (%s)", current, exc.reason)
            return _Hop(
                FetchResult(
                    url=url, final_url=current, error="address_not_allowed", detail=exc.reason
                )
            )
        except DnsError as exc:
            return _Hop(FetchResult(url=url, final_url=current, error="dns", detail=str(exc)))
        except TimeoutError:
            return _Hop(
                FetchResult(url=url, final_url=current, error="dns", detail="resolver timed out")
            )
        self._pins[(host, port)] = ips[0]
        headers = [
            ("User-Agent", self.settings.user_agent),
            ("Accept", accept),
            ("Accept-Encoding", "gzip, deflate"),
            *extra_headers,
        ]

        async def trace(event: str, info: dict[str, object]) -> None:
            if on_send is not None and event == "http11.send_request_headers.started":
                on_send()

        try:
            async with self._client.stream(
                "GET" if content is None else "POST",
                target,
                headers=headers,
                content=content,
                extensions={"trace": trace},
            ) as resp:
                return await self._handle(url, current, resp, limit, truncate)
        except Abort as exc:
            return _Hop(FetchResult(url=url, final_url=current, error=exc.code, detail=exc.detail))
        except httpx.HTTPError as exc:
            code, detail = classify(exc)
            return _Hop(FetchResult(url=url, final_url=current, error=code, detail=detail))
        except (httpx.InvalidURL, ValueError) as exc:  # httpx parses a redirect's Location
            detail = f"unusable redirect Location ({type(exc).__name__}: {exc})"
            return _Hop(FetchResult(url=url, final_url=current, error="bad_url", detail=detail))
        except OSError as exc:
            return _Hop(FetchResult(url=url, final_url=current, error="connect", detail=str(exc)))
        except Exception as exc:  # whatever a hostile server makes httpx raise is data too
            log.warning("fetch of %s raised", current, exc_info=True)
            return _Hop(FetchResult(url=url, final_url=current, error="protocol", detail=repr(exc)))

    async def _handle(
        self, url: str, current: str, resp: httpx.Response, limit: int, truncate: bool
    ) -> _Hop:
        status = resp.status_code
        headers = tuple((k, v) for k, v in resp.headers.multi_items())
        etag = resp.headers.get("etag")
        last_modified = resp.headers.get("last-modified")

        def result(
            error: str | None = None, detail: str = "", body: bytes = b"", **kw: object
        ) -> _Hop:
            return _Hop(
                FetchResult(
                    url=url,
                    final_url=current,
                    status=status,
                    body=body,
                    headers=headers,
                    etag=etag if error is None else None,
                    last_modified=last_modified if error is None else None,
                    error=error,
                    detail=detail,
                    **kw,  # type: ignore[arg-type]
                )
            )

        if status in _REDIRECTS:
            location = resp.headers.get("location", "").strip()
            if not location:
                return result("redirect_without_location", f"{status} without a Location header")
            why = check_location(location)
            if why is not None:
                return result("bad_url", f"redirect to unusable Location {location!r}: {why}")
            try:
                nxt = str(httpx.URL(current).join(location))
            except (httpx.InvalidURL, ValueError) as exc:
                return result("bad_url", f"unusable Location {location!r}: {exc}")
            return _Hop(location=nxt, status=status)
        if status == 304:
            return result()
        if status in (429, 503):
            wait = parse_retry_after(
                resp.headers.get("retry-after"), datetime.now(UTC), self.settings.retry_after_cap_s
            )
            key = _host_key(current)
            embargo = (
                wait
                if wait is not None
                else (self.settings.rate_limit_default_s if status == 429 else 0.0)
            )
            if key is not None and embargo > 0:
                self._not_before[key] = max(self._not_before.get(key, 0.0), self._clock() + embargo)
            if status == 429 or wait is not None:
                return result(
                    "rate_limited",
                    f"HTTP {status}, Retry-After {resp.headers.get('retry-after')!r}",
                    retry_after_s=wait,
                )
            return result("http_503", "HTTP 503 without a usable Retry-After")
        if status == 410:
            return result("gone", "HTTP 410 Gone")
        if not 200 <= status < 300:
            return result(f"http_{status}", f"HTTP {status}")
        body = await read_body(resp, limit, truncate)
        return result(body=body)

    def _fail(
        self, url: str, final_url: str, code: str, detail: str, started: float
    ) -> FetchResult:
        elapsed = asyncio.get_running_loop().time() - started
        return FetchResult(
            url=url, final_url=final_url, error=code, detail=detail, elapsed_s=elapsed
        )


def _host_key(url: str) -> str | None:
    """The politeness key of a URL: lower-case host and effective port."""
    # httpx's URL parser checks every character: parse only the origin, once per origin.
    scheme, sep, rest = url.partition("://")
    if not sep:
        return _origin_key(url)
    end = min((i for i in map(rest.find, "/?#") if i >= 0), default=len(rest))
    return _origin_key(f"{scheme}://{rest[:end]}/")


@functools.lru_cache(maxsize=16_384)
def _origin_key(url: str) -> str | None:
    try:
        u = httpx.URL(url)
    except (httpx.InvalidURL, ValueError):
        return None
    if not u.raw_host:
        return None
    port = u.port or (443 if u.scheme == "https" else 80)
    return f"{u.raw_host.decode('ascii').lower()}:{port}"


def _with(res: FetchResult, **changes: object) -> FetchResult:
    return dataclasses.replace(res, **changes)  # type: ignore[arg-type]
