"""The JSON API under /api, its input validation, and the OpenAPI 3.1 document it serves.

Handlers parse and validate the request (bad input -> 422 with a JSON error naming the
parameter; pagination clamped: limit to 1..100, offset 0..1,000,000), make one store call
(in a worker thread), and return JSON. Public reads go through the response cache (ETag,
Last-Modified, 304). Admin endpoints need `Authorization: Bearer <admin_token>` and check
every new feed URL against the crawler's SSRF policy with the app's injectable resolver
before it is stored: refused addresses get 400 `address_not_allowed` and no connection is
ever made (RELIABILITY E1, E3, E4, E6). URLs in responses are http(s) only (D2).

The parameter parsers (`parse_limit`, `parse_since`, ...) are shared with the HTML pages.
This module holds no SQL and no scoring; it must not open sockets itself.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from breakingon.classify import SECTIONS as TAXONOMY
from breakingon.crawl.netpolicy import BlockedAddress, DnsError, NetPolicy, Resolver
from breakingon.records import Article, Brief, Feed, Place, Story
from breakingon.sources import (
    MAX_OPML_BYTES,
    SourceError,
    feed_to_json,
    feed_url_key,
    parse_opml,
    validate_feed_url,
)
from breakingon.store.base import Store, StoryQuery, Trend
from breakingon.store.codec import brief_to_dict
from breakingon.web.cache import Rendered, ResponseCache, cached_response
from breakingon.web.security import admin_denial

SECTIONS = TAXONOMY  # the classifier's fixed taxonomy is the API's too
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
MAX_QUERY = 500
MAX_ID = 2**31 - 1  # PostgreSQL integer columns
_INT = re.compile(r"^[+-]?[0-9]+$")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
_COUNTRY = re.compile(r"^[A-Za-z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
# A query needs one character that is neither white space nor a control character. The
# same class in Python and in ECMA-262 (the OpenAPI pattern): Python's \s adds \x1c-\x1f
# and \x85 (excluded as controls here) and lacks \ufeff (excluded explicitly).
QUERY_PATTERN = r"[^\s\x00-\x1f\x7f-\x9f\ufeff]"
_HAS_TEXT = re.compile(QUERY_PATTERN)
_CTRL = re.compile(r"[\x00-\x1f\x7f]")


class ParamError(ValueError):
    """A request parameter is invalid; the app turns it into a 422."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(f"{parameter}: {detail}")
        self.parameter = parameter
        self.detail = detail


# -- parameter parsing (shared with the pages) ------------------------------------------------


def _param(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    return values[-1] if values else None


def _int_text(name: str, raw: str) -> tuple[int, bool]:
    """(value, exact): huge integers are not converted (int() refuses > 4300 digits)."""
    text = raw.strip()
    if not _INT.match(text):
        raise ParamError(name, "expected an integer")
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > 18:
        return (-(10**18) if text.startswith("-") else 10**18), False
    return int(text), True


def parse_limit(raw: str | None, default: int = 20) -> int:
    """Clamp to 1..100; non-integers are a ParamError."""
    if raw is None or raw == "":
        return default
    value, _ = _int_text("limit", raw)
    return max(1, min(MAX_LIMIT, value))


def parse_offset(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    value, _ = _int_text("offset", raw)
    if value < 0:
        raise ParamError("offset", "must be >= 0")
    if value > MAX_OFFSET:
        raise ParamError("offset", f"must be <= {MAX_OFFSET}")
    return value


def parse_id(name: str, raw: str | None) -> int | None:
    """A positive database id (1..2**31-1), or None when absent."""
    if raw is None or raw == "":
        return None
    value, exact = _int_text(name, raw)
    if not exact or not (1 <= value <= MAX_ID):
        raise ParamError(name, f"expected an integer between 1 and {MAX_ID}")
    return value


def parse_since(raw: str | None) -> datetime | None:
    """An RFC 3339 date-time, converted to UTC (clamped to the representable range)."""
    if raw is None or raw == "":
        return None
    m = _RFC3339.match(raw.strip())
    if not m:
        raise ParamError("since", "expected an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z")
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    try:
        local = datetime(max(1, y), mo, d, h, mi, min(s, 59))
    except ValueError as exc:
        raise ParamError("since", str(exc)) from None
    zone = m.group(8)
    offset = timedelta(0)
    if zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise ParamError("since", "bad UTC offset")
        offset = sign * timedelta(hours=hours, minutes=minutes)
    try:
        return (local - offset).replace(tzinfo=UTC)
    except OverflowError:
        return (datetime.min if offset > timedelta(0) else datetime.max).replace(tzinfo=UTC)


def parse_bool(name: str, raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    low = raw.strip().lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise ParamError(name, "expected true or false")


def parse_section(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if raw not in SECTIONS:
        raise ParamError("section", f"expected one of {', '.join(SECTIONS)}")
    return raw


def parse_query_text(raw: str | None, required: bool = True) -> str:
    """A search query: at most 500 characters, control characters dropped."""
    if raw is None or not _HAS_TEXT.search(raw):
        if required:
            raise ParamError("q", "a search query is required")
        return ""
    if len(raw) > MAX_QUERY:
        raise ParamError("q", f"at most {MAX_QUERY} characters")
    return _CTRL.sub(" ", raw).strip()


def story_query(request: Request, now: datetime) -> StoryQuery:
    """The StoryQuery for /api/stories from its (validated, clamped) parameters."""
    country = _param(request, "country")
    if country and not _COUNTRY.match(country):
        raise ParamError("country", "expected an ISO 3166 alpha-2 code")
    language = _param(request, "language")
    if language and not _LANGUAGE.match(language):
        raise ParamError("language", "expected an ISO 639 code (2-3 lower-case letters)")
    breaking = parse_bool("breaking", _param(request, "breaking"))
    order = _param(request, "order") or "score"
    if order not in ("score", "recent"):
        raise ParamError("order", "expected score or recent")
    return StoryQuery(
        section=parse_section(_param(request, "section")),
        geonameid=parse_id("place", _param(request, "place")),
        country=country.upper() if country else None,
        language=language or None,
        since=parse_since(_param(request, "since")),
        breaking_at=now if breaking else None,
        order="recent" if order == "recent" else "score",
        limit=parse_limit(_param(request, "limit")),
        offset=parse_offset(_param(request, "offset")),
    )


# -- JSON shapes ---------------------------------------------------------------------------


def safe_url(url: str) -> str:
    """`url` when it is an absolute http(s) URL without control characters, else ""."""
    if not url or _CTRL.search(url) or len(url) > 4_000:
        return ""
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return url


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(UTC).isoformat() if dt is not None else None


def place_json(p: Place) -> dict[str, Any]:
    return {
        "geonameid": p.geonameid,
        "name": p.name,
        "country": p.country,
        "kind": p.kind,
        "lat": p.lat,
        "lon": p.lon,
    }


def related_ids(s: Story) -> list[int]:
    """The ids of related stories the signal stage stored in `Story.extra`."""
    value = s.extra.get("related")
    if not isinstance(value, tuple | list):
        return []
    return [int(x) for x in value if isinstance(x, int)]


def story_json(s: Story, base: str, now: datetime) -> dict[str, Any]:
    updated = s.extra.get("updated_at")
    return {
        "id": s.id,
        "url": f"{base}/story/{s.id}",
        "headline": s.headline,
        "dek": s.dek,
        "first_reported": _iso(s.first_reported),
        "last_reported": _iso(s.last_reported),
        "updated_at": _iso(updated) if isinstance(updated, datetime) else None,
        "article_count": s.article_count,
        "outlet_count": s.outlet_count,
        "outlets": list(s.outlets),
        "countries": list(s.countries),
        "languages": list(s.languages),
        "sections": list(s.sections),
        "places": [place_json(p) for p in s.places],
        "score": s.score,
        "score_explanation": s.score_explanation,
        "breaking": s.breaking_until is not None and s.breaking_until > now,
        "breaking_until": _iso(s.breaking_until),
        "related": related_ids(s),
    }


def brief_json(b: Brief) -> dict[str, Any]:
    """The stored brief shape, with every citation URL passed through `safe_url` (D2)."""
    out = brief_to_dict(b)
    for sentence in [*out["dek"], *(x for sec in out["sections"] for x in sec["sentences"])]:
        for c in sentence["citations"]:
            c["url"] = safe_url(c["url"])
    return out


def article_json(a: Article) -> dict[str, Any]:
    return {
        "id": a.id,
        "url": safe_url(a.url),
        "title": a.title,
        "summary": a.summary,
        "outlet": a.outlet,
        "source_id": a.source_id,
        "country": a.country,
        "language": a.language,
        "authors": list(a.authors),
        "published": _iso(a.published),
        "story_id": a.story_id,
        "duplicate_of": a.duplicate_of,
    }


def source_json(f: Feed) -> dict[str, Any]:
    d = feed_to_json(f)
    d["url"] = safe_url(f.url)
    d["source_id"] = f.source_id
    return d


def trend_json(t: Trend) -> dict[str, Any]:
    return {
        "term": t.term,
        "score": t.score,
        "story_ids": [int(x) for x in t.story_ids],
        "computed_at": _iso(t.computed_at),
    }


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _json(status: int, value: Any) -> Rendered:
    return Rendered(status, _dumps(value), "application/json")


def error_response(status: int, error: str, detail: str = "", **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"error": error}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})


# -- handlers ------------------------------------------------------------------------------


def _ctx(request: Request) -> tuple[Store, ResponseCache, str]:
    st = request.app.state
    return st.store, st.cache, st.settings.public_base_url.rstrip("/")


def _now(request: Request) -> datetime:
    clock = request.app.state.clock
    now: datetime = clock()
    return now


async def _cached(request: Request, render: Any) -> Response:
    _, cache, _ = _ctx(request)
    return await cached_response(request, cache, render)


async def list_stories(request: Request) -> Response:
    store, _, base = _ctx(request)
    now = _now(request)
    query = story_query(request, now)

    def render() -> Rendered:
        stories = store.list_stories(query)
        total = store.count_stories(query)
        return _json(
            200,
            {
                "stories": [story_json(s, base, now) for s in stories],
                "total": total,
                "limit": query.limit,
                "offset": query.offset,
            },
        )

    return await _cached(request, render)


async def get_story(request: Request) -> Response:
    store, _, base = _ctx(request)
    story_id = parse_id("id", request.path_params["id"])
    assert story_id is not None
    now = _now(request)

    def render() -> Rendered:
        resolved = store.resolve_story_id(story_id)
        story = store.get_story(resolved) if resolved is not None else None
        if story is None:
            return _json(404, {"error": "not_found"})
        brief = store.get_brief(story.id)
        articles = store.story_articles(story.id, limit=500)
        versions = store.brief_versions(story.id)
        out = story_json(story, base, now)
        out["brief"] = brief_json(brief) if brief is not None else None
        out["articles"] = [article_json(a) for a in articles]
        out["brief_versions"] = [
            {
                "version": v.version,
                "created_at": _iso(v.created_at),
                "article_count": v.article_count,
            }
            for v in versions
        ]
        return _json(200, out)

    return await _cached(request, render)


async def list_articles(request: Request) -> Response:
    store, _, _ = _ctx(request)
    source = parse_id("source", _param(request, "source"))
    limit = parse_limit(_param(request, "limit"), default=50)
    offset = parse_offset(_param(request, "offset"))

    def render() -> Rendered:
        arts = store.list_articles(source_id=source, limit=limit, offset=offset)
        return _json(
            200, {"articles": [article_json(a) for a in arts], "limit": limit, "offset": offset}
        )

    return await _cached(request, render)


async def list_sources(request: Request) -> Response:
    store, _, _ = _ctx(request)
    status = _param(request, "status")
    if status not in (None, "", "active", "paused", "ended"):
        raise ParamError("status", "expected active, paused or ended")

    def render() -> Rendered:
        feeds = store.list_feeds(status=status or None)  # type: ignore[arg-type]
        return _json(200, {"sources": [source_json(f) for f in feeds]})

    return await _cached(request, render)


async def search(request: Request) -> Response:
    store, _, base = _ctx(request)
    q = parse_query_text(_param(request, "q"))
    limit = parse_limit(_param(request, "limit"))
    offset = parse_offset(_param(request, "offset"))
    now = _now(request)

    def render() -> Rendered:
        stories = store.search_stories(q, limit=limit, offset=offset)
        arts = store.search_articles(q, limit=limit, offset=offset)
        return _json(
            200,
            {
                "q": q,
                "stories": [story_json(s, base, now) for s in stories],
                "articles": [article_json(a) for a in arts],
                "limit": limit,
                "offset": offset,
            },
        )

    return await _cached(request, render)


async def trends(request: Request) -> Response:
    store, _, _ = _ctx(request)
    limit = parse_limit(_param(request, "limit"))

    def render() -> Rendered:
        return _json(200, {"trends": [trend_json(t) for t in store.get_trends(limit)]})

    return await _cached(request, render)


async def openapi(request: Request) -> Response:
    return JSONResponse(openapi_spec(request.app.state.settings.site_name))


# -- admin ---------------------------------------------------------------------------------


def _admin(request: Request) -> Response | None:
    denial = admin_denial(
        request.headers.get("authorization"), request.app.state.settings.admin_token
    )
    if denial is None:
        return None
    status, code = denial
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    resp = error_response(status, code)
    if headers:
        resp.headers.update(headers)
    return resp


async def _check_address(request: Request, url: str) -> str | None:
    """None when the URL's host may be fetched, else the reason it may not."""
    policy: NetPolicy = request.app.state.net_policy
    resolver: Resolver = request.app.state.resolver
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        await asyncio.wait_for(
            policy.resolve_and_check(parts.hostname or "", port, resolver), timeout=10
        )
    except BlockedAddress as exc:
        return exc.reason
    except (DnsError, TimeoutError) as exc:
        return f"cannot resolve host ({exc})"
    return None


def _text_field(body: dict[str, Any], name: str, limit: int) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or len(value) > limit or _CTRL.search(value):
        raise ParamError(name, f"expected a string of at most {limit} characters")
    return value.strip()


async def admin_add_source(request: Request) -> Response:
    if (denied := _admin(request)) is not None:
        return denied
    store: Store = request.app.state.store
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise ParamError("body", "expected a JSON object") from None
    if not isinstance(body, dict):
        raise ParamError("body", "expected a JSON object")
    raw_url = body.get("url")
    if not isinstance(raw_url, str):
        raise ParamError("url", "required string")
    try:
        url = validate_feed_url(raw_url)
        key = feed_url_key(url)
    except SourceError as exc:
        return error_response(400, "invalid_url", str(exc))
    sections = body.get("sections", [])
    if (
        not isinstance(sections, list)
        or not all(isinstance(s, str) and len(s) <= 50 for s in sections)
        or len(sections) > 20
    ):
        raise ParamError("sections", "expected a list of at most 20 short strings")
    country = _text_field(body, "country", 2).upper()
    if country and not _COUNTRY.match(country):
        raise ParamError("country", "expected an ISO 3166 alpha-2 code")
    feed = Feed(
        url=url,
        outlet=_text_field(body, "outlet", 200) or (urlsplit(url).hostname or url),
        country=country,
        language=_text_field(body, "language", 8).lower(),
        sections=tuple(s.strip().lower() for s in sections if s.strip()),
        place=_text_field(body, "place", 200),
    )
    why = await _check_address(request, url)
    if why is not None:
        return error_response(400, "address_not_allowed", why)
    stored, created = await run_in_threadpool(store.add_feed, feed, key)
    request.app.state.cache.invalidate()
    return JSONResponse(
        {"source": source_json(stored), "created": created}, status_code=201 if created else 200
    )


async def _admin_feed(request: Request) -> tuple[Response | None, Feed | None]:
    if (denied := _admin(request)) is not None:
        return denied, None
    feed_id = parse_id("id", request.path_params["id"])
    assert feed_id is not None
    feed = await run_in_threadpool(request.app.state.store.get_feed, feed_id)
    if feed is None:
        return error_response(404, "not_found"), None
    return None, feed


async def admin_remove_source(request: Request) -> Response:
    denied, feed = await _admin_feed(request)
    if denied is not None or feed is None:
        assert denied is not None
        return denied
    removed = await run_in_threadpool(request.app.state.store.remove_feed, feed_url_key(feed.url))
    request.app.state.cache.invalidate()
    return JSONResponse({"removed": bool(removed), "id": feed.id})


async def _set_status(request: Request, status: str) -> Response:
    denied, feed = await _admin_feed(request)
    if denied is not None or feed is None:
        assert denied is not None
        return denied
    store: Store = request.app.state.store
    assert feed.id is not None
    await run_in_threadpool(store.set_feed_status, feed.id, status)  # type: ignore[arg-type]
    updated = await run_in_threadpool(store.get_feed, feed.id)
    request.app.state.cache.invalidate()
    assert updated is not None
    return JSONResponse({"source": source_json(updated)})


async def admin_pause_source(request: Request) -> Response:
    return await _set_status(request, "paused")


async def admin_resume_source(request: Request) -> Response:
    return await _set_status(request, "active")


async def admin_import_opml(request: Request) -> Response:
    if (denied := _admin(request)) is not None:
        return denied
    store: Store = request.app.state.store
    body = await request.body()
    try:
        feeds = parse_opml(body)
    except SourceError as exc:
        return error_response(400, "invalid_opml", str(exc))
    added, existing = 0, 0
    rejected: list[dict[str, str]] = []
    for feed in feeds:
        why = await _check_address(request, feed.url)
        if why is not None:
            rejected.append(
                {"url": safe_url(feed.url), "error": "address_not_allowed", "detail": why}
            )
            continue
        _, created = await run_in_threadpool(store.add_feed, feed, feed_url_key(feed.url))
        if created:
            added += 1
        else:
            existing += 1
    request.app.state.cache.invalidate()
    return JSONResponse({"added": added, "existing": existing, "rejected": rejected})


def routes() -> list[BaseRoute]:
    """The API's routes (mounted at the root by `create_app`)."""
    return [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/api/stories", list_stories, methods=["GET"]),
        Route("/api/stories/{id}", get_story, methods=["GET"]),
        Route("/api/articles", list_articles, methods=["GET"]),
        Route("/api/sources", list_sources, methods=["GET"]),
        Route("/api/search", search, methods=["GET"]),
        Route("/api/trends", trends, methods=["GET"]),
        Route("/api/admin/sources", admin_add_source, methods=["POST"]),
        Route("/api/admin/sources/{id}", admin_remove_source, methods=["DELETE"]),
        Route("/api/admin/sources/{id}/pause", admin_pause_source, methods=["POST"]),
        Route("/api/admin/sources/{id}/resume", admin_resume_source, methods=["POST"]),
        Route("/api/admin/opml", admin_import_opml, methods=["POST"]),
    ]


# -- OpenAPI -------------------------------------------------------------------------------

_NULLABLE_STR = {"type": ["string", "null"]}
_STR_LIST = {"type": "array", "items": {"type": "string"}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json_content(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _resp(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": _json_content(schema)}


_ERR = _resp("Error", _ref("Error"))
_LIMIT = {
    "name": "limit",
    "in": "query",
    "description": "Page size; clamped to 1..100.",
    "schema": {"type": "integer"},
}
_OFFSET = {
    "name": "offset",
    "in": "query",
    "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
}
_ID_PATH = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
}
_COMMON = {"422": _ERR, "429": _ERR}
_ADMIN = {"401": _ERR, "403": _ERR, "413": _ERR, "429": _ERR}


def openapi_spec(title: str = "BreakingOn") -> dict[str, Any]:
    """The OpenAPI 3.1 document for every /api route (served at /openapi.json)."""
    place = {
        "type": "object",
        "required": ["geonameid", "name", "country", "kind", "lat", "lon"],
        "properties": {
            "geonameid": {"type": "integer"},
            "name": {"type": "string"},
            "country": {"type": "string"},
            "kind": {"type": "string", "enum": ["country", "region", "city"]},
            "lat": {"type": "number"},
            "lon": {"type": "number"},
        },
    }
    story = {
        "type": "object",
        "required": [
            "id",
            "url",
            "headline",
            "dek",
            "first_reported",
            "last_reported",
            "article_count",
            "outlet_count",
            "outlets",
            "countries",
            "languages",
            "sections",
            "places",
            "score",
            "breaking",
            "related",
        ],
        "properties": {
            "id": {"type": "integer"},
            "url": {"type": "string"},
            "headline": {"type": "string"},
            "dek": {"type": "string"},
            "first_reported": {"type": "string", "format": "date-time"},
            "last_reported": {"type": "string", "format": "date-time"},
            "updated_at": _NULLABLE_STR,
            "article_count": {"type": "integer"},
            "outlet_count": {"type": "integer"},
            "outlets": _STR_LIST,
            "countries": _STR_LIST,
            "languages": _STR_LIST,
            "sections": _STR_LIST,
            "places": {"type": "array", "items": _ref("Place")},
            "score": {"type": "number"},
            "score_explanation": {"type": "string"},
            "breaking": {"type": "boolean"},
            "breaking_until": _NULLABLE_STR,
            "related": {"type": "array", "items": {"type": "integer"}},
        },
    }
    citation = {
        "type": "object",
        "required": ["article_id", "outlet", "url"],
        "properties": {
            "article_id": {"type": "string"},
            "outlet": {"type": "string"},
            "url": {"type": "string"},
        },
    }
    sentence = {
        "type": "object",
        "required": ["text", "citations"],
        "properties": {
            "text": {"type": "string"},
            "citations": {"type": "array", "items": _ref("Citation")},
        },
    }
    brief = {
        "type": "object",
        "required": ["headline", "dek", "sections", "credits", "writer"],
        "properties": {
            "headline": {"type": "string"},
            "dek": {"type": "array", "items": _ref("Sentence")},
            "sections": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["heading", "sentences"],
                    "properties": {
                        "heading": {"type": "string"},
                        "sentences": {"type": "array", "items": _ref("Sentence")},
                    },
                },
            },
            "credits": _STR_LIST,
            "writer": {"type": "string"},
        },
    }
    article = {
        "type": "object",
        "required": ["id", "url", "title", "outlet", "published"],
        "properties": {
            "id": {"type": "integer"},
            "url": {"type": "string"},
            "title": {"type": "string"},
            "summary": {"type": "string"},
            "outlet": {"type": "string"},
            "source_id": {"type": ["integer", "null"]},
            "country": {"type": "string"},
            "language": {"type": "string"},
            "authors": _STR_LIST,
            "published": {"type": "string", "format": "date-time"},
            "story_id": {"type": ["integer", "null"]},
            "duplicate_of": {"type": ["integer", "null"]},
        },
    }
    source = {
        "type": "object",
        "required": ["id", "url", "outlet", "status"],
        "properties": {
            "id": {"type": ["integer", "null"]},
            "source_id": {"type": ["integer", "null"]},
            "url": {"type": "string"},
            "outlet": {"type": "string"},
            "country": {"type": "string"},
            "language": {"type": "string"},
            "sections": _STR_LIST,
            "place": {"type": "string"},
            "status": {"type": "string", "enum": ["active", "paused", "ended"]},
            "last_error": _NULLABLE_STR,
            "error_count": {"type": "integer"},
            "last_success_at": _NULLABLE_STR,
            "next_check_at": _NULLABLE_STR,
        },
    }
    story_detail = {
        "allOf": [
            _ref("Story"),
            {
                "type": "object",
                "required": ["brief", "articles", "brief_versions"],
                "properties": {
                    "brief": {"oneOf": [_ref("Brief"), {"type": "null"}]},
                    "articles": {"type": "array", "items": _ref("Article")},
                    "brief_versions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["version", "created_at", "article_count"],
                            "properties": {
                                "version": {"type": "integer"},
                                "created_at": {"type": "string"},
                                "article_count": {"type": "integer"},
                            },
                        },
                    },
                },
            },
        ]
    }
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "detail": {"type": "string"},
            "parameter": {"type": "string"},
        },
    }
    page = {"limit": {"type": "integer"}, "offset": {"type": "integer"}}
    q_param = {
        "name": "q",
        "in": "query",
        "required": True,
        "schema": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_QUERY,
            "pattern": QUERY_PATTERN,
        },
    }
    admin_security: list[dict[str, list[str]]] = [{"bearer": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{title} API",
            "version": "1.0.0",
            "description": "Stories, briefs, articles, sources, search and trends. Admin "
            "endpoints need `Authorization: Bearer <BREAKINGON_ADMIN_TOKEN>`.",
        },
        "paths": {
            "/api/stories": {
                "get": {
                    "summary": "List stories by importance (or recency)",
                    "parameters": [
                        {
                            "name": "section",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(SECTIONS)},
                        },
                        {
                            "name": "place",
                            "in": "query",
                            "description": "GeoNames id",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        },
                        {
                            "name": "country",
                            "in": "query",
                            "schema": {"type": "string", "pattern": "^[A-Za-z]{2}$"},
                        },
                        {
                            "name": "language",
                            "in": "query",
                            "schema": {"type": "string", "pattern": "^[a-z]{2,3}$"},
                        },
                        {
                            "name": "since",
                            "in": "query",
                            "schema": {"type": "string", "format": "date-time"},
                        },
                        {"name": "breaking", "in": "query", "schema": {"type": "boolean"}},
                        {
                            "name": "order",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["score", "recent"]},
                        },
                        _LIMIT,
                        _OFFSET,
                    ],
                    "responses": {
                        "200": _resp(
                            "Stories",
                            {
                                "type": "object",
                                "required": ["stories", "total", "limit", "offset"],
                                "properties": {
                                    "stories": {"type": "array", "items": _ref("Story")},
                                    "total": {"type": "integer"},
                                    **page,
                                },
                            },
                        ),
                        **_COMMON,
                    },
                }
            },
            "/api/stories/{id}": {
                "get": {
                    "summary": "One story with its brief, articles and brief versions",
                    "parameters": [_ID_PATH],
                    "responses": {
                        "200": _resp("Story", _ref("StoryDetail")),
                        "404": _ERR,
                        **_COMMON,
                    },
                }
            },
            "/api/articles": {
                "get": {
                    "summary": "Latest articles",
                    "parameters": [
                        {
                            "name": "source",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                        },
                        _LIMIT,
                        _OFFSET,
                    ],
                    "responses": {
                        "200": _resp(
                            "Articles",
                            {
                                "type": "object",
                                "required": ["articles", "limit", "offset"],
                                "properties": {
                                    "articles": {"type": "array", "items": _ref("Article")},
                                    **page,
                                },
                            },
                        ),
                        **_COMMON,
                    },
                }
            },
            "/api/sources": {
                "get": {
                    "summary": "Feeds and their health",
                    "parameters": [
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["active", "paused", "ended"]},
                        },
                    ],
                    "responses": {
                        "200": _resp(
                            "Sources",
                            {
                                "type": "object",
                                "required": ["sources"],
                                "properties": {
                                    "sources": {"type": "array", "items": _ref("Source")}
                                },
                            },
                        ),
                        **_COMMON,
                    },
                }
            },
            "/api/search": {
                "get": {
                    "summary": "Full-text search over stories and articles",
                    "parameters": [q_param, _LIMIT, _OFFSET],
                    "responses": {
                        "200": _resp(
                            "Matches",
                            {
                                "type": "object",
                                "required": ["q", "stories", "articles", "limit", "offset"],
                                "properties": {
                                    "q": {"type": "string"},
                                    "stories": {"type": "array", "items": _ref("Story")},
                                    "articles": {"type": "array", "items": _ref("Article")},
                                    **page,
                                },
                            },
                        ),
                        **_COMMON,
                    },
                }
            },
            "/api/trends": {
                "get": {
                    "summary": "Trending terms and the stories behind them",
                    "parameters": [_LIMIT],
                    "responses": {
                        "200": _resp(
                            "Trends",
                            {
                                "type": "object",
                                "required": ["trends"],
                                "properties": {
                                    "trends": {
                                        "type": "array",
                                        "items": {
                                            "type": "object",
                                            "required": [
                                                "term",
                                                "score",
                                                "story_ids",
                                                "computed_at",
                                            ],
                                            "properties": {
                                                "term": {"type": "string"},
                                                "score": {"type": "number"},
                                                "story_ids": {
                                                    "type": "array",
                                                    "items": {"type": "integer"},
                                                },
                                                "computed_at": {"type": "string"},
                                            },
                                        },
                                    }
                                },
                            },
                        ),
                        **_COMMON,
                    },
                }
            },
            "/api/admin/sources": {
                "post": {
                    "summary": "Add a feed (URL validated, SSRF policy applied)",
                    "security": admin_security,
                    "requestBody": {
                        "required": True,
                        "content": _json_content(
                            {
                                "type": "object",
                                "required": ["url"],
                                "properties": {
                                    "url": {
                                        "type": "string",
                                        "format": "uri",
                                        "pattern": "^https?://",
                                        "maxLength": 2048,
                                        "description": "http(s) feed URL; refused (400) when "
                                        "malformed or when its host resolves to a private "
                                        "or reserved address",
                                    },
                                    "outlet": {"type": "string", "maxLength": 200},
                                    "country": {"type": "string", "maxLength": 2},
                                    "language": {"type": "string", "maxLength": 8},
                                    "sections": {
                                        "type": "array",
                                        "items": {"type": "string", "maxLength": 50},
                                        "maxItems": 20,
                                    },
                                    "place": {"type": "string", "maxLength": 200},
                                },
                            }
                        ),
                    },
                    "responses": {
                        "200": _resp("Already present", _ref("SourceResult")),
                        "201": _resp("Added", _ref("SourceResult")),
                        "400": _ERR,
                        "422": _ERR,
                        **_ADMIN,
                    },
                }
            },
            "/api/admin/sources/{id}": {
                "delete": {
                    "summary": "Remove a feed",
                    "security": admin_security,
                    "parameters": [_ID_PATH],
                    "responses": {
                        "200": _resp(
                            "Removed",
                            {
                                "type": "object",
                                "required": ["removed", "id"],
                                "properties": {
                                    "removed": {"type": "boolean"},
                                    "id": {"type": "integer"},
                                },
                            },
                        ),
                        "404": _ERR,
                        "422": _ERR,
                        **_ADMIN,
                    },
                }
            },
            "/api/admin/sources/{id}/pause": {
                "post": {
                    "summary": "Pause a feed",
                    "security": admin_security,
                    "parameters": [_ID_PATH],
                    "responses": {
                        "200": _resp("Paused", _ref("SourceResult")),
                        "404": _ERR,
                        "422": _ERR,
                        **_ADMIN,
                    },
                }
            },
            "/api/admin/sources/{id}/resume": {
                "post": {
                    "summary": "Resume a feed",
                    "security": admin_security,
                    "parameters": [_ID_PATH],
                    "responses": {
                        "200": _resp("Resumed", _ref("SourceResult")),
                        "404": _ERR,
                        "422": _ERR,
                        **_ADMIN,
                    },
                }
            },
            "/api/admin/opml": {
                "post": {
                    "summary": f"Import an OPML document (at most {MAX_OPML_BYTES} bytes)",
                    "security": admin_security,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "text/x-opml": {"schema": {"type": "string"}},
                            "application/xml": {"schema": {"type": "string"}},
                        },
                    },
                    "responses": {
                        "200": _resp(
                            "Imported",
                            {
                                "type": "object",
                                "required": ["added", "existing", "rejected"],
                                "properties": {
                                    "added": {"type": "integer"},
                                    "existing": {"type": "integer"},
                                    "rejected": {"type": "array", "items": {"type": "object"}},
                                },
                            },
                        ),
                        "400": _ERR,
                        **_ADMIN,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": error,
                "Place": place,
                "Story": story,
                "StoryDetail": story_detail,
                "Citation": citation,
                "Sentence": sentence,
                "Brief": brief,
                "Article": article,
                "Source": source,
                "SourceResult": {
                    "type": "object",
                    "required": ["source"],
                    "properties": {"source": _ref("Source"), "created": {"type": "boolean"}},
                },
            },
        },
    }
