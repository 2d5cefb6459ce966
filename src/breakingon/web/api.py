"""The JSON API under /api: public reads and the admin endpoints.

Handlers parse and validate the request (bad input -> 422 with a JSON error naming the
parameter; pagination clamped: limit to 1..100, offset 0..1,000,000), make one store call
(in a worker thread), and return JSON. Public reads go through the response cache (ETag,
Last-Modified, 304). Admin endpoints need `Authorization: Bearer <admin_token>` and check
every new feed URL against the crawler's SSRF policy with the app's injectable resolver
before it is stored: refused addresses get 400 `address_not_allowed` and no connection is
ever made (private, loopback, link-local and metadata addresses, names that resolve to
any of them). URLs in responses are http(s) only, so a feed cannot smuggle a
`javascript:` link into a client. Public reads of feeds show `web.redact`'s view (URL
without userinfo, query values or key-like segments; the error's coarse class, never its
detail); `GET /api/admin/sources` gives the operator the stored URL and error.

Parameters are parsed by `web.params` (shared with the HTML pages); the OpenAPI document
is `web.openapi`. This module holds no SQL and no scoring; it must not open sockets itself.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from breakingon.crawl.netpolicy import BlockedAddress, DnsError, NetPolicy, Resolver
from breakingon.languages import names
from breakingon.languages.coverage import language_coverage
from breakingon.records import Article, Brief, Feed, Place, Story, StoryImage
from breakingon.sources.catalogue import (
    SourceError,
    feed_to_json,
    feed_url_key,
    parse_opml,
    validate_feed_url,
)
from breakingon.store.base import Store, Trend
from breakingon.store.codec import brief_to_dict
from breakingon.web.cache import KeyParams, Rendered, ResponseCache, cached_response
from breakingon.web.media import media_path
from breakingon.web.openapi import openapi_spec
from breakingon.web.params import (
    CONTROL_CHARS,
    COUNTRY_CODE,
    ParamError,
    parse_id,
    parse_language,
    parse_limit,
    parse_offset,
    parse_query_text,
    query_param,
    story_query,
)
from breakingon.web.redact import public_error, public_feed_url
from breakingon.web.security import admin_denial

# -- JSON shapes ---------------------------------------------------------------------------


def safe_url(url: str) -> str:
    """`url` when it is an absolute http(s) URL without control characters, else ""."""
    if not url or CONTROL_CHARS.search(url) or len(url) > 4_000:
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


def image_json(image: StoryImage | None, base: str) -> dict[str, Any] | None:
    """The story's lead image as the site serves it (from its own origin), or None."""
    if image is None:
        return None
    return {
        "url": f"{base}{media_path(image.sha256, image.mime)}",
        "thumb_url": f"{base}{media_path(image.thumb_sha256, image.mime)}",
        "width": image.width,
        "height": image.height,
        "credit": image.credit,
    }


def story_json(s: Story, base: str, now: datetime) -> dict[str, Any]:
    return {
        "id": s.id,
        "url": f"{base}/story/{s.id}",
        "headline": s.headline,
        "dek": s.dek,
        "first_reported": _iso(s.first_reported),
        "last_reported": _iso(s.last_reported),
        "updated_at": _iso(s.updated_at),
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
        "related": list(s.related),
        "image": image_json(s.image, base),
    }


def language_json(articles: list[Article]) -> list[dict[str, Any]]:
    """The story's coverage per language (`languages.coverage`), most covered first."""
    return [
        {
            "code": c.code,
            "name": names.english_name(c.code),
            "native_name": names.native_name(c.code),
            "outlets": len(c.outlets),
            "countries": len(c.countries),
            "articles": c.articles,
        }
        for c in language_coverage(articles)
    ]


def brief_json(b: Brief) -> dict[str, Any]:
    """The stored brief shape, with every citation URL passed through `safe_url` (only
    absolute http(s) URLs reach a client); `language` and `other_languages` always."""
    out = brief_to_dict(b)
    out.setdefault("language", b.language)
    out.setdefault("other_languages", [])
    sections = (x for sec in out["sections"] for x in sec["sentences"])
    others = (x for r in out["other_languages"] for x in r["sentences"])
    for sentence in [*out["dek"], *sections, *out["disagreements"], *others]:
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


def source_json(f: Feed, full: bool = False) -> dict[str, Any]:
    """A feed as the API shows it: `web.redact`'s public view, or with `full` (admin
    responses only) the stored URL and error."""
    d = feed_to_json(f)
    if full:
        d["url"] = safe_url(f.url)
    else:
        d["url"] = public_feed_url(f.url)
        d["last_error"] = public_error(f.last_error)
    d["source_id"] = f.source_id
    return d


def trend_json(t: Trend) -> dict[str, Any]:
    return {
        "term": t.term,
        "score": t.score,
        "story_ids": [int(x) for x in t.story_ids],
        "computed_at": _iso(t.computed_at),
        "language": t.language,
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


async def _cached(
    request: Request, render: Any, params: KeyParams = (), partition: str = ""
) -> Response:
    """The cached answer; `params` are the parsed query parameters the handler reads (no
    other parameter makes a cache entry), `partition` "search" for searches."""
    _, cache, _ = _ctx(request)
    return await cached_response(request, cache, render, params=params, partition=partition)


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

    return await _cached(
        request,
        render,
        (
            ("section", query.section),
            ("place", query.geonameid),
            ("country", query.country),
            ("language", query.language),
            ("since", query.since),
            ("breaking", query.breaking_at is not None),
            ("order", query.order),
            ("limit", query.limit),
            ("offset", query.offset),
        ),
    )


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
        out["language_coverage"] = language_json(articles)
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
    source = parse_id("source", query_param(request, "source"))
    limit = parse_limit(query_param(request, "limit"), default=50)
    offset = parse_offset(query_param(request, "offset"))

    def render() -> Rendered:
        arts = store.list_articles(source_id=source, limit=limit, offset=offset)
        return _json(
            200, {"articles": [article_json(a) for a in arts], "limit": limit, "offset": offset}
        )

    return await _cached(
        request, render, (("source", source), ("limit", limit), ("offset", offset))
    )


async def list_sources(request: Request) -> Response:
    store, _, _ = _ctx(request)
    status = query_param(request, "status")
    if status not in (None, "", "active", "paused", "ended"):
        raise ParamError("status", "expected active, paused or ended")

    def render() -> Rendered:
        feeds = store.list_feeds(status=status or None)  # type: ignore[arg-type]
        return _json(200, {"sources": [source_json(f) for f in feeds]})

    return await _cached(request, render, (("status", status or None),))


async def search(request: Request) -> Response:
    store, _, base = _ctx(request)
    q = parse_query_text(query_param(request, "q"))
    limit = parse_limit(query_param(request, "limit"))
    offset = parse_offset(query_param(request, "offset"))
    language = parse_language(query_param(request, "language"))
    now = _now(request)

    def render() -> Rendered:
        stories = store.search_stories(q, limit=limit, offset=offset, language=language)
        arts = store.search_articles(q, limit=limit, offset=offset, language=language)
        return _json(
            200,
            {
                "q": q,
                "language": language,
                "stories": [story_json(s, base, now) for s in stories],
                "articles": [article_json(a) for a in arts],
                "limit": limit,
                "offset": offset,
            },
        )

    return await _cached(
        request,
        render,
        (("q", q), ("language", language), ("limit", limit), ("offset", offset)),
        "search",
    )


async def trends(request: Request) -> Response:
    store, _, _ = _ctx(request)
    limit = parse_limit(query_param(request, "limit"))

    def render() -> Rendered:
        return _json(200, {"trends": [trend_json(t) for t in store.get_trends(limit)]})

    return await _cached(request, render, (("limit", limit),))


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
    if not isinstance(value, str) or len(value) > limit or CONTROL_CHARS.search(value):
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
    if country and not COUNTRY_CODE.match(country):
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
        {"source": source_json(stored, full=True), "created": created},
        status_code=201 if created else 200,
    )


async def admin_list_sources(request: Request) -> Response:
    """Every feed with its stored URL and full last error (never cached)."""
    if (denied := _admin(request)) is not None:
        return denied
    status = query_param(request, "status")
    if status not in (None, "", "active", "paused", "ended"):
        raise ParamError("status", "expected active, paused or ended")
    store: Store = request.app.state.store
    feeds = await run_in_threadpool(store.list_feeds, status or None)  # type: ignore[arg-type]
    return JSONResponse(
        {"sources": [source_json(f, full=True) for f in feeds]},
        headers={"Cache-Control": "no-store"},
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
    return JSONResponse({"source": source_json(updated, full=True)})


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
        Route("/api/admin/sources", admin_list_sources, methods=["GET"]),
        Route("/api/admin/sources", admin_add_source, methods=["POST"]),
        Route("/api/admin/sources/{id}", admin_remove_source, methods=["DELETE"]),
        Route("/api/admin/sources/{id}/pause", admin_pause_source, methods=["POST"]),
        Route("/api/admin/sources/{id}/resume", admin_resume_source, methods=["POST"]),
        Route("/api/admin/opml", admin_import_opml, methods=["POST"]),
    ]
