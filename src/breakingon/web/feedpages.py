"""The outbound feeds (Atom, RSS, JSON Feed) of the front page, sections, places, searches
and stories, and their routes.

Handlers parse their parameters (`web.params`), read a few stories and render them with
`web.outfeeds` through the response cache; ids and links are absolute from
`settings.public_base_url`. The lists' feeds take the reader's language filter
(`?language=de`, as the pages: stories with reporting in that language), which their
own URL and page link keep; a feed's language is the site's (BREAKINGON_SITE_LANGUAGE).
This module holds no SQL and must not write to the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from breakingon.records import Story
from breakingon.store.base import StoryQuery
from breakingon.web.cache import KeyParams, Rendered, cached_response
from breakingon.web.outfeeds import EXTENSIONS, MEDIA_TYPES, OutEntry, OutFeed, render_feed
from breakingon.web.pages import find_place, place_query
from breakingon.web.params import (
    ParamError,
    parse_id,
    parse_language,
    parse_query_text,
    parse_section,
)
from breakingon.web.render import Ctx, ctx, keep


def _fmt(request: Request) -> str:
    fmt = EXTENSIONS.get(request.path_params.get("fmt", ""))
    if fmt is None:
        raise ParamError("format", "expected atom, rss or json")
    return fmt


def _story_entries(c: Ctx, stories: Sequence[Story]) -> tuple[OutEntry, ...]:
    out = []
    for s in stories:
        out.append(
            OutEntry(
                id=f"{c.base}/story/{s.id}",
                title=s.headline or "Untitled story",
                url=f"{c.base}/story/{s.id}",
                summary=s.dek or s.score_explanation,
                updated=s.updated_at or s.last_reported,
                published=s.first_reported,
                authors=s.outlets[:10],
            )
        )
    return tuple(out)


def _feed_response(
    c: Ctx,
    fmt: str,
    title: str,
    subtitle: str,
    home: str,
    self_url: str,
    entries: tuple[OutEntry, ...],
) -> Rendered:
    updated = max((e.updated for e in entries), default=c.now)
    feed = OutFeed(
        id=self_url,
        title=f"{c.settings.site_name}: {title}" if title else c.settings.site_name,
        subtitle=subtitle,
        home_url=home,
        self_url=self_url,
        updated=updated,
        entries=entries,
        rights=c.settings.site_copyright,
        language=c.settings.site_language,
    )
    return Rendered(200, render_feed(feed, fmt), MEDIA_TYPES[fmt])  # type: ignore[index, arg-type]


async def _feed(
    request: Request, render: Any, params: KeyParams = (), partition: str = ""
) -> Response:
    params = (*params, ("language", parse_language(request.query_params.get("language"))))
    cache = request.app.state.cache
    return await cached_response(
        request, cache, render, "public, max-age=60", params=params, partition=partition
    )


async def front_feed(request: Request) -> Response:
    c, fmt = ctx(request), _fmt(request)

    def render() -> Rendered:
        stories = c.store.list_stories(StoryQuery(language=c.language or None, limit=30))
        return _feed_response(
            c,
            fmt,
            "",
            c.settings.site_about,
            keep(c.base + "/", c.language),
            keep(f"{c.base}/feed.{fmt}", c.language),
            _story_entries(c, stories),
        )

    return await _feed(request, render)


async def section_feed(request: Request) -> Response:
    c, fmt = ctx(request), _fmt(request)
    name = parse_section(request.path_params["name"])
    assert name is not None

    def render() -> Rendered:
        query = StoryQuery(section=name, language=c.language or None, limit=30)
        stories = c.store.list_stories(query)
        return _feed_response(
            c,
            fmt,
            name.title(),
            f"Top {name} stories",
            keep(f"{c.base}/section/{name}", c.language),
            keep(f"{c.base}/section/{name}/feed.{fmt}", c.language),
            _story_entries(c, stories),
        )

    return await _feed(request, render)


async def place_feed(request: Request) -> Response:
    c, fmt = ctx(request), _fmt(request)
    gid = parse_id("geonameid", request.path_params["geonameid"])
    assert gid is not None

    def render() -> Rendered:
        p = find_place(c.store, gid)
        if p is None:
            return Rendered(404, b'{"error":"not_found"}', "application/json")
        stories = c.store.list_stories(place_query(p, 30, 0, c.language or None))
        return _feed_response(
            c,
            fmt,
            p.name,
            f"Local news: {p.name}",
            keep(f"{c.base}/place/{gid}", c.language),
            keep(f"{c.base}/place/{gid}/feed.{fmt}", c.language),
            _story_entries(c, stories),
        )

    return await _feed(request, render)


async def search_feed(request: Request) -> Response:
    c, fmt = ctx(request), _fmt(request)
    q = parse_query_text(request.query_params.get("q"))

    def render() -> Rendered:
        stories = c.store.search_stories(q, limit=30, language=c.language or None)
        query = urlencode({"q": q, **({"language": c.language} if c.language else {})})
        return _feed_response(
            c,
            fmt,
            f"Search: {q}",
            f"Stories matching {q}",
            f"{c.base}/search?{query}",
            f"{c.base}/search/feed.{fmt}?{query}",
            _story_entries(c, stories),
        )

    return await _feed(request, render, (("q", q),), "search")


async def story_feed(request: Request) -> Response:
    """ "Follow this story": one entry per brief version, so each development is an entry."""
    c, fmt = ctx(request), _fmt(request)
    story_id = parse_id("id", request.path_params["id"])
    assert story_id is not None

    def render() -> Rendered:
        resolved = c.store.resolve_story_id(story_id)
        s = c.store.get_story(resolved) if resolved is not None else None
        if s is None:
            return Rendered(404, b'{"error":"not_found"}', "application/json")
        url = f"{c.base}/story/{s.id}"
        entries = []
        for v in sorted(c.store.brief_versions(s.id), key=lambda v: -v.version):
            entries.append(
                OutEntry(
                    id=f"{url}#v{v.version}",
                    title=f"{v.brief.headline or s.headline} (update {v.version})",
                    url=f"{url}/changes#v{v.version}",
                    summary=v.brief.summary_text(),
                    updated=v.created_at,
                    published=v.created_at,
                    authors=v.brief.credits[:10],
                )
            )
        if not entries:
            entries = list(_story_entries(c, [s]))
        return _feed_response(
            c,
            fmt,
            s.headline,
            f"Developments in: {s.headline}",
            url,
            f"{url}/feed.{fmt}",
            tuple(entries),
        )

    return await _feed(request, render)


def routes() -> list[BaseRoute]:
    """The feed routes (mounted at the root by `create_app`)."""
    return [
        Route("/feed.{fmt}", front_feed, methods=["GET"]),
        Route("/story/{id}/feed.{fmt}", story_feed, methods=["GET"]),
        Route("/section/{name}/feed.{fmt}", section_feed, methods=["GET"]),
        Route("/place/{geonameid}/feed.{fmt}", place_feed, methods=["GET"]),
        Route("/search/feed.{fmt}", search_feed, methods=["GET"]),
    ]
