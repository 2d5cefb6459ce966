"""A small response cache for public pages, feeds and API reads, with conditional GET.

Entries are keyed by the request path and the handler's parsed, normalised parameters
(`cache_key`): a parameter the handler does not read never makes a new entry, and
"limit=020" shares "limit=20"'s. A partition (searches) may be capped on its own
(`partition_limits`), so a stream of distinct searches evicts only other searches, never
the pages everyone reads. Entries are valid while the store's version
(`store.last_change()`, polled at most once per `version_ttl_s`) is unchanged and the
entry is younger than `ttl_s`. Regeneration is single-flight and stale-while-revalidate:
concurrent requests for the same key share one render, and once a key has been rendered,
readers get the previous body while a single background render replaces it, so they never
queue behind the database, even under load. Each
entry carries a strong ETag (a hash of the body) and a Last-Modified time (the store's
version); `conditional` answers 304 when the client already has it.

Fast path: once a handler has answered from a fresh entry it calls `remember`, and
`lookup` then answers the same raw path and query (only one whose every parameter is
known and spelled in its normal form) straight from pre-encoded bytes and headers (200 or
304), before routing, with no store call and no per-request rendering. A stale entry is
served there only while its re-render (or the version check) is already under way;
otherwise, and for If-Modified-Since, it returns None so the normal path answers (and
starts the refresh).

This module must not touch templates or SQL: it calls the functions it is handed (the
version function and the renderers run in a worker thread because they may block).
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response


@dataclass(frozen=True, slots=True)
class Rendered:
    """What a renderer returns: a status, a body and its media type."""

    status: int
    body: bytes
    media_type: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Entry:
    rendered: Rendered
    etag: str
    last_modified: str  # HTTP-date
    version: datetime
    created: float


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def http_date(dt: datetime) -> str:
    return format_datetime(dt.astimezone(UTC).replace(microsecond=0), usegmt=True)


Headers = tuple[tuple[bytes, bytes], ...]


def fast_key(path: str, query_string: bytes) -> str:
    """The fast path's key of a request, from its ASGI scope's path and raw query string."""
    return path + "?" + query_string.decode("latin-1")


KeyParams = Sequence[tuple[str, object]]
MAX_KEY_VALUE = 500  # longer parameter values are refused by the parsers before this


def _key_text(value: object) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return "" if value is None else str(value)[:MAX_KEY_VALUE]


def cache_key(path: str, params: KeyParams = ()) -> str:
    """The entry key: the path and the handler's parsed values of the parameters it reads
    (in its order; None is absent), never the raw query string."""
    pairs = [(name, _key_text(v)) for name, v in params if v is not None]
    return path + "?" + urlencode(pairs)


def is_normal_query(query: str, params: KeyParams) -> bool:
    """True when every parameter of the raw `query` is one the handler reads, given once,
    spelled as its parsed value (so the fast path is keyed by few raw spellings)."""
    known = {name: _key_text(v) for name, v in params if v is not None}
    seen: set[str] = set()
    for name, raw in parse_qsl(query, keep_blank_values=True):
        if name in seen or known.get(name) != raw:
            return False
        seen.add(name)
    return True


class ResponseCache:
    """Cache of rendered responses; see the module docstring."""

    def __init__(
        self,
        version_fn: Callable[[], datetime | None],
        *,
        ttl_s: float = 10.0,
        version_ttl_s: float = 1.0,
        max_entries: int = 4096,
        max_body: int = 2 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
        fast_headers: Headers = (),
        partition_limits: Mapping[str, int] | None = None,
    ) -> None:
        self.version_fn = version_fn
        self.partition_limits = dict(partition_limits or {})
        # partition -> its keys, oldest first (each partition evicts only its own)
        self._parts: dict[str, OrderedDict[str, None]] = {}
        self.fast_headers = fast_headers
        self.ttl_s = ttl_s
        self.version_ttl_s = version_ttl_s
        self.max_entries = max_entries
        self.max_body = max_body
        self.clock = clock
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[Entry]] = {}
        self._version: datetime = _EPOCH
        self._version_at = -1e18
        self._version_task: asyncio.Future[datetime] | None = None
        # raw key -> (entry key, entry, pre-encoded 200 headers, pre-encoded 304 headers)
        self._fast: dict[str, tuple[str, Entry, Headers, Headers]] = {}
        self.renders = 0  # how many times a renderer ran (tests and metrics read it)

    async def version(self) -> datetime:
        """The store's version as last seen, refreshed in the background at most every
        `version_ttl_s` (only the very first call waits for the store)."""
        if self.clock() - self._version_at < self.version_ttl_s:
            return self._version
        if self._version_task is None:
            self._version_task = asyncio.ensure_future(self._refresh_version())
        if self._version_at < 0:  # never known yet: wait for it
            return await asyncio.shield(self._version_task)
        return self._version

    async def _refresh_version(self) -> datetime:
        try:
            v = await run_in_threadpool(self.version_fn)
            self._version = v if v is not None else _EPOCH
            self._version_at = self.clock()
            return self._version
        finally:
            self._version_task = None

    def invalidate(self) -> None:
        """Forget every entry and the version (after an admin write)."""
        self._entries.clear()
        self._fast.clear()
        self._parts.clear()
        self._version_at = -1e18

    def remember(
        self, key: str, entry: Entry, cache_control: str, raw_key: str | None = None
    ) -> None:
        """Let `lookup` answer `raw_key` (default `key`) from memory while `entry` stays
        the fresh one cached under `key`. The `fast_headers` given at construction (the
        security headers) are appended."""
        raw_key = key if raw_key is None else raw_key
        extra = self.fast_headers
        r = entry.rendered
        if r.status != 200 or r.headers or self._entries.get(key) is not entry:
            return
        validators: Headers = (
            (b"etag", entry.etag.encode("latin-1")),
            (b"last-modified", entry.last_modified.encode("latin-1")),
            (b"cache-control", cache_control.encode("latin-1")),
            (b"vary", b"Accept-Encoding"),
        )
        full = (
            (b"content-type", r.media_type.encode("latin-1")),
            (b"content-length", str(len(r.body)).encode("latin-1")),
            *validators,
            *extra,
        )
        if len(self._fast) >= self.max_entries and raw_key not in self._fast:
            # drop what no longer answers (evicted entries: e.g. old searches) first
            self._fast = {k: v for k, v in self._fast.items() if self._entries.get(v[0]) is v[1]}
            if len(self._fast) >= self.max_entries:
                self._fast.clear()
        self._fast[raw_key] = (key, entry, full, (*validators, *extra))

    def lookup(
        self, key: str, method: str, headers: Sequence[tuple[bytes, bytes]]
    ) -> tuple[int, Headers, bytes] | None:
        """The fast path: (status, headers, body) for a GET/HEAD of a cached page, a 304
        when the client's validators match; None when the normal path must answer (unknown
        entry, a version check or re-render due but not yet started, any other method)."""
        if method not in ("GET", "HEAD"):
            return None
        item = self._fast.get(key)
        if item is None:
            return None
        key, entry, full, not_modified = item
        if self._entries.get(key) is not entry:
            return None
        now = self.clock()
        # Due for a version check or a re-render: the normal path starts it (and serves the
        # stale body meanwhile, like `get`); once it is under way, the fast path serves the
        # stale body too, so readers never queue behind a render.
        if now - self._version_at >= self.version_ttl_s and self._version_task is None:
            return None
        fresh = entry.version == self._version and now - entry.created < self.ttl_s
        if not fresh and key not in self._inflight:
            return None
        for name, value in headers:
            if name == b"if-none-match":
                if _etag_matches(value.decode("latin-1"), entry.etag):
                    return 304, not_modified, b""
                break
            if name == b"if-modified-since":
                return None  # rare: the normal path parses the date
        return 200, full, b"" if method == "HEAD" else entry.rendered.body

    async def get(self, key: str, render: Callable[[], Rendered], partition: str = "") -> Entry:
        """The entry for `key`. A fresh one is served from memory; a stale one is served
        while one background render replaces it (stale-while-revalidate, so readers never
        queue behind the database); a missing one is rendered once for all waiters."""
        version = await self.version()
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
            fresh = entry.version == version and self.clock() - entry.created < self.ttl_s
            if not fresh and key not in self._inflight:
                self._start_render(key, render, version, partition).add_done_callback(_consume)
            return entry
        pending = self._inflight.get(key)
        if pending is None:
            pending = self._start_render(key, render, version, partition)
        return await asyncio.shield(pending)

    def _start_render(
        self, key: str, render: Callable[[], Rendered], version: datetime, partition: str
    ) -> asyncio.Future[Entry]:
        fut = asyncio.ensure_future(self._render(key, render, version, partition))
        self._inflight[key] = fut
        return fut

    def _admit(self, key: str, partition: str) -> None:
        """Count `key` in its partition; past the partition's limit, its oldest go."""
        limit = self.partition_limits.get(partition)
        if limit is None:
            return
        keys = self._parts.setdefault(partition, OrderedDict())
        keys[key] = None
        keys.move_to_end(key)
        while len(keys) > limit:
            old, _ = keys.popitem(last=False)
            self._entries.pop(old, None)

    async def _render(
        self, key: str, render: Callable[[], Rendered], version: datetime, partition: str
    ) -> Entry:
        try:
            rendered = await run_in_threadpool(render)
            self.renders += 1
            entry = make_entry(rendered, version, self.clock())
            if rendered.status == 200 and len(rendered.body) <= self.max_body:
                self._entries[key] = entry
                self._entries.move_to_end(key)
                self._admit(key, partition)
                while len(self._entries) > self.max_entries:
                    old, _ = self._entries.popitem(last=False)
                    for keys in self._parts.values():
                        keys.pop(old, None)
            else:
                self._entries.pop(key, None)
            return entry
        finally:
            self._inflight.pop(key, None)


def _consume(fut: asyncio.Future[Entry]) -> None:
    """Retrieve a background render's exception so it is not logged as never retrieved;
    the stale entry keeps being served and the next request tries again."""
    if not fut.cancelled():
        fut.exception()


def make_entry(rendered: Rendered, version: datetime, created: float) -> Entry:
    digest = hashlib.sha256(rendered.body).hexdigest()[:32]
    return Entry(
        rendered=rendered,
        etag=f'"{digest}"',
        last_modified=http_date(version),
        version=version,
        created=created,
    )


def _etag_matches(header: str, etag: str) -> bool:
    for raw in header.split(","):
        tag = raw.strip()
        if tag == "*" or tag == etag or tag.removeprefix("W/") == etag:
            return True
    return False


def is_fresh(request: Request, entry: Entry) -> bool:
    """True when the client's validators show it already holds this entry."""
    inm = request.headers.get("if-none-match")
    if inm is not None:
        return _etag_matches(inm, entry.etag)
    ims = request.headers.get("if-modified-since")
    if ims:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError, IndexError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return entry.version.replace(microsecond=0) <= since
    return False


def conditional(
    request: Request, entry: Entry, cache_control: str = "public, max-age=10"
) -> Response:
    """A 304 when the client is fresh, else the full response, with validators either way."""
    headers = {
        "ETag": entry.etag,
        "Last-Modified": entry.last_modified,
        "Cache-Control": cache_control,
        "Vary": "Accept-Encoding",
    }
    r = entry.rendered
    if r.status == 200 and request.method in ("GET", "HEAD") and is_fresh(request, entry):
        return Response(status_code=304, headers=headers)
    if r.status != 200:
        headers = {"Cache-Control": "no-store"}
    headers.update(dict(r.headers))
    return Response(r.body, status_code=r.status, media_type=r.media_type, headers=headers)


async def cached_response(
    request: Request,
    cache: ResponseCache,
    render: Callable[[], Rendered],
    cache_control: str = "public, max-age=10",
    params: KeyParams = (),
    partition: str = "",
) -> Response:
    """Answer `request` from `cache` (rendering through `render` when needed), with
    conditional GET, and enable the fast path for its raw path and query when that is
    in normal form. `params` are the handler's parsed values of the query parameters it
    reads (the entry key, `cache_key`); every other parameter is ignored."""
    path = request.scope["path"]
    key = cache_key(path, params)
    entry = await cache.get(key, render, partition)
    raw_query = request.scope.get("query_string", b"").decode("latin-1")
    if is_normal_query(raw_query, params):
        cache.remember(key, entry, cache_control, fast_key(path, raw_query.encode("latin-1")))
    return conditional(request, entry, cache_control)
