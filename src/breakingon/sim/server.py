"""The newsroom simulator: a loopback server replaying a JSON Lines article stream.

Each outlet of the stream gets its own loopback address (127.0.1.1, 127.0.1.2, ...,
all on the same port), so per-host politeness applies as it would in the wild. Every
outlet serves an RSS 2.0 feed (/feed.rss), an Atom feed (/feed.atom), a robots.txt
and realistic article pages (navigation, byline, published-time meta tags, related
links, comments and footer around the body). 127.0.0.1:PORT serves /opml.xml listing
every feed, and a small control API under /_control/. An article appears in its feed
(and its page stops being 404) once its publication time has passed on the simulated
clock, which runs `speed` times faster than wall time from the first article's time
(with `now=True`, the stream is rebased so that its last article is published, in the
present, exactly when the replay ends).
Feeds carry ETag and Last-Modified and answer conditional requests with 304.

Misbehaviour switches, per outlet or as a fraction of outlets: slow (drip), 429 (with
Retry-After), 5xx, gzip bomb, redirect loop, broken XML.

Where binding per-outlet addresses is impossible (non-Linux loopback), pass
`per_outlet_addresses=False`: every outlet is then served on 127.0.0.1 under
/o/<domain>/. This module binds only to loopback (through `sim.loopback`, the HTTP/1.1
plumbing), never connects anywhere and never touches the store or the crawler. The
stream it replays, its clock and the misbehaviour switches are in `sim.stream`; article
pages are rendered by `sim.page`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import html
import json
import re
import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from breakingon.sim.loopback import LoopbackServer, send
from breakingon.sim.page import OutletChrome, PageLink, render_article_page
from breakingon.sim.photos import image_kind, render_image
from breakingon.sim.stream import (
    MODES,
    NewsroomClock,
    NewsroomFeed,
    StreamArticle,
    author_of,
    http_date,
    lead_summary,
    load_stream,
    paragraphs_of,
    rebase_on_now,
    render_opml,
)


class _Outlet:
    def __init__(self, name: str, domain: str, country: str, section: str, host: str) -> None:
        self.name, self.domain, self.country, self.section = name, domain, country, section
        self.host = host
        self.articles: list[StreamArticle] = []
        self.mode: str | None = None


class Newsroom:
    """The simulator. Use as a context manager or call start()/stop().

    `per_outlet_addresses`: bind outlet i on its own 127.0.x.y address (default), else
    serve every outlet on 127.0.0.1 under /o/<domain>/.
    `now`: shift every published time by one constant so that the last article is
    published exactly when the replay ends (after span/speed wall seconds); the clock
    never reads later than the wall clock (`stream.rebase_on_now`).
    `misbehave`: {domain: mode} for chosen outlets; `misbehave_fraction`: {mode:
    fraction} applied to a deterministic (hash-chosen) share of the outlets.
    """

    def __init__(
        self,
        articles: Sequence[StreamArticle],
        *,
        port: int = 0,
        speed: float = 1.0,
        start: datetime | None = None,
        misbehave: dict[str, str] | None = None,
        misbehave_fraction: dict[str, float] | None = None,
        per_outlet_addresses: bool = True,
        feed_items: int = 50,
        slow_drip_s: float = 1.0,
        bomb_bytes: int = 256 * 1024 * 1024,
        prerender: bool = False,
        now: bool = False,
    ) -> None:
        if not articles:
            raise ValueError("the stream is empty")
        ordered = sorted(articles, key=lambda a: (a.published, a.id))
        if now:  # rebased on the present: the last article is published as the replay ends
            if start is not None:
                raise ValueError("`now` and `start` exclude each other")
            ordered = rebase_on_now(ordered, speed)
        self.clock = NewsroomClock(start or ordered[0].published, speed, not_after_wall=now)
        self.port = port
        self.per_outlet_addresses = per_outlet_addresses
        self.feed_items = feed_items
        self.slow_drip_s = slow_drip_s
        self.bomb_bytes = bomb_bytes
        self._outlets: dict[str, _Outlet] = {}
        self._by_host: dict[str, _Outlet] = {}
        self._articles: dict[str, StreamArticle] = {}
        for article in ordered:
            outlet = self._outlets.get(article.domain)
            if outlet is None:
                index = len(self._outlets)
                host = f"127.0.{1 + index // 250}.{1 + index % 250}"
                outlet = _Outlet(
                    article.outlet, article.domain, article.country, article.section, host
                )
                self._outlets[article.domain] = outlet
                self._by_host[host] = outlet
            outlet.articles.append(article)
            self._articles[article.id] = article
        for domain, mode in (misbehave or {}).items():
            self.set_misbehave(domain, mode)
        for mode, fraction in (misbehave_fraction or {}).items():
            if mode not in MODES:
                raise ValueError(f"unknown misbehaviour {mode!r}; one of {', '.join(MODES)}")
            for domain, outlet in self._outlets.items():
                share = int(hashlib.sha256(f"{mode}:{domain}".encode()).hexdigest()[:8], 16)
                if outlet.mode is None and share / 0xFFFFFFFF < fraction:
                    outlet.mode = mode
        hosts = tuple(self._by_host) if per_outlet_addresses else ()
        self._server = LoopbackServer(self._route, hosts)
        self._bomb: bytes | None = None
        self._ordered = ordered
        self._order = {a.id: i for i, a in enumerate(ordered)}
        self._by_path = {(a.domain, "/" + self._article_path(a)): a for a in ordered}
        self._by_image = {(a.domain, "/" + self._image_path(a)): a for a in ordered}
        self._chrome_cache: dict[str, OutletChrome] = {}
        # (domain, path) -> (page, gzipped page), filled by prerender()
        self._pages: dict[tuple[str, str], tuple[bytes, bytes]] = {}
        self._prerender = prerender  # done by start(): pages carry the bound port

    def prerender(self) -> None:
        """Render and gzip every article page now, so serving them costs no CPU
        (`start()` calls it when the newsroom was made with `prerender=True`).

        Benchmarks use it: a real outlet's server runs on another machine, so the
        simulator's rendering should not take CPU from the crawler it measures.
        """
        for key, article in self._by_path.items():
            body = self.render_article(self._outlets[article.domain], article).encode()
            self._pages[key] = (body, gzip.compress(body, 5))

    @classmethod
    def from_jsonl(cls, path: str | Path, **kwargs: Any) -> Newsroom:
        """A newsroom replaying the JSON Lines stream at `path`."""
        return cls(load_stream(path), **kwargs)

    # ------------------------------------------------------------ public API

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def opml_url(self) -> str:
        return f"{self.base_url}/opml.xml"

    @property
    def feeds(self) -> tuple[NewsroomFeed, ...]:
        return tuple(self._feed_of(o) for o in self._outlets.values())

    def _outlet_root(self, outlet: _Outlet) -> str:
        if self.per_outlet_addresses:
            return f"http://{outlet.host}:{self.port}/"
        return f"{self.base_url}/o/{outlet.domain}/"

    def _feed_of(self, outlet: _Outlet) -> NewsroomFeed:
        root = self._outlet_root(outlet)
        return NewsroomFeed(
            outlet=outlet.name,
            domain=outlet.domain,
            country=outlet.country,
            section=outlet.section,
            host=outlet.host if self.per_outlet_addresses else "127.0.0.1",
            home_url=root,
            rss_url=root + "feed.rss",
            atom_url=root + "feed.atom",
        )

    def article_url(self, article_id: str) -> str:
        article = self._articles[article_id]
        outlet = self._outlets[article.domain]
        return self._outlet_root(outlet) + self._article_path(article)

    def image_url(self, article_id: str) -> str:
        """Where the article's lead image is served (404 for an article without one)."""
        article = self._articles[article_id]
        return self._outlet_root(self._outlets[article.domain]) + self._image_path(article)

    def set_misbehave(self, domain: str, mode: str | None) -> None:
        """Make one outlet misbehave (`mode` in MODES) or behave again (None)."""
        if mode is not None and mode not in MODES:
            raise ValueError(f"unknown misbehaviour {mode!r}; one of {', '.join(MODES)}")
        if domain not in self._outlets:
            raise KeyError(domain)
        self._outlets[domain].mode = mode

    @property
    def replay_seconds(self) -> float:
        """Wall seconds the whole stream takes to replay at the clock's speed (inf when
        the clock is frozen)."""
        span = (self._ordered[-1].published - self._ordered[0].published).total_seconds()
        speed = self.clock.speed
        return span / speed if speed > 0 else float("inf")

    def published_count(self) -> int:
        """How many articles are public at the current simulated time."""
        now = self.clock.now()
        return sum(1 for a in self._articles.values() if a.published <= now)

    @property
    def request_count(self) -> int:
        """Requests served since the newsroom was made, every address together."""
        return self._server.request_count

    @property
    def requests_by_path(self) -> dict[str, int]:
        """Requests served so far, by path (query left out): feeds, pages, images."""
        return self._server.requests_by_path

    @property
    def requests_by_host(self) -> dict[str, int]:
        """Requests served per local (outlet) address."""
        return self._server.requests_by_host

    def start(self) -> Newsroom:
        """Bind every address and serve from a background thread."""
        self.port = self._server.start(self.port)
        self._chrome_cache.clear()  # links rendered before binding carry port 0
        if self._prerender:
            self.prerender()
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Newsroom:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------ routing

    async def _route(
        self,
        local: str,
        method: str,
        target: str,
        headers: dict[str, str],
        writer: asyncio.StreamWriter,
    ) -> bool:
        if method not in ("GET", "HEAD"):
            return await send(writer, 405, {"allow": "GET, HEAD"}, b"")
        head_only = method == "HEAD"
        split = urlsplit(target)
        path, query = split.path, parse_qs(split.query)
        outlet = self._by_host.get(local) if self.per_outlet_addresses else None
        if outlet is None and path.startswith("/o/"):
            domain, _, rest = path[3:].partition("/")
            outlet = self._outlets.get(domain)
            path = "/" + rest
        if outlet is None:
            return await self._route_main(path, query, headers, writer, head_only)
        if path == "/robots.txt":
            body = b"User-agent: *\nDisallow: /private/\nAllow: /\n"
            return await send(writer, 200, {"content-type": "text/plain"}, body, head_only)
        if outlet.mode is not None:
            handled = await self._misbehave(outlet, path, query, writer, head_only)
            if handled is not None:
                return handled
        return await self._route_outlet(outlet, path, headers, writer, head_only)

    async def _route_main(
        self,
        path: str,
        query: dict[str, list[str]],
        headers: dict[str, str],
        writer: asyncio.StreamWriter,
        head_only: bool,
    ) -> bool:
        if path in ("/opml.xml", "/opml"):
            body = self.render_opml().encode("utf-8")
            return await send(writer, 200, {"content-type": "text/x-opml"}, body, head_only)
        if path == "/robots.txt":
            body = b"User-agent: *\nAllow: /\n"
            return await send(writer, 200, {"content-type": "text/plain"}, body, head_only)
        if path == "/_control/status":
            status = {
                "now": self.clock.now().isoformat(),
                "published": self.published_count(),
                "articles": len(self._articles),
                "outlets": len(self._outlets),
                "requests": self.request_count,
                "misbehaving": {d: o.mode for d, o in self._outlets.items() if o.mode},
            }
            body = json.dumps(status).encode()
            return await send(writer, 200, {"content-type": "application/json"}, body)
        if path == "/_control/misbehave":
            domain = (query.get("outlet") or [""])[0]
            mode = (query.get("mode") or ["none"])[0]
            try:
                self.set_misbehave(domain, None if mode in ("", "none", "off") else mode)
            except (KeyError, ValueError) as exc:
                return await send(writer, 400, {}, f"{exc}\n".encode())
            return await send(writer, 200, {"content-type": "text/plain"}, b"ok\n")
        if path == "/_control/clock":
            try:
                seconds = float((query.get("advance") or ["0"])[0])
            except ValueError:
                return await send(writer, 400, {}, b"advance must be a number\n")
            now = self.clock.advance(seconds)
            return await send(writer, 200, {}, now.isoformat().encode())
        if path == "/":
            links = "".join(
                f'<li><a href="{html.escape(f.home_url)}">{html.escape(f.outlet)}</a></li>'
                for f in self.feeds
            )
            body = f"<!DOCTYPE html><title>Newsroom</title><ul>{links}</ul>".encode()
            return await send(writer, 200, {"content-type": "text/html"}, body, head_only)
        return await send(writer, 404, {"content-type": "text/plain"}, b"not found\n")

    async def _misbehave(
        self,
        outlet: _Outlet,
        path: str,
        query: dict[str, list[str]],
        writer: asyncio.StreamWriter,
        head_only: bool,
    ) -> bool | None:
        mode = outlet.mode
        if mode == "429":
            return await send(writer, 429, {"retry-after": "120"}, b"slow down\n")
        if mode == "5xx":
            return await send(writer, 503, {"retry-after": "60"}, b"unavailable\n")
        if mode == "redirect_loop":
            hop = int((query.get("hop") or ["0"])[0] or 0)
            location = f"{path}?hop={(hop + 1) % 2}"
            return await send(writer, 302, {"location": location}, b"")
        if mode == "gzip_bomb":
            body = self._gzip_bomb()
            headers = {"content-type": "application/rss+xml", "content-encoding": "gzip"}
            return await send(writer, 200, headers, body, head_only)
        if mode == "slow":
            body = (self._render(outlet, path) or (404, {}, b"not found\n"))[2]
            writer.write(
                f"HTTP/1.1 200 OK\r\ncontent-length: {len(body)}\r\n\r\n".encode("latin-1")
            )
            for start in range(0, len(body), 64):
                writer.write(body[start : start + 64])
                await writer.drain()
                await asyncio.sleep(self.slow_drip_s)
            return True
        if mode == "broken_xml" and path in ("/feed.rss", "/feed.atom"):
            rendered = self._render(outlet, path)
            body = rendered[2] if rendered else b""
            broken = body[: max(1, len(body) // 2)] + b"<item><title>\x00\xff&#999999999999;"
            return await send(writer, 200, {"content-type": "application/xml"}, broken)
        return None

    def _gzip_bomb(self) -> bytes:
        if self._bomb is None:
            compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # gzip container
            chunk = b"\0" * (1024 * 1024)
            parts = [compressor.compress(chunk) for _ in range(self.bomb_bytes // len(chunk))]
            parts.append(compressor.flush())
            self._bomb = b"".join(parts)
        return self._bomb

    async def _route_outlet(
        self,
        outlet: _Outlet,
        path: str,
        headers: dict[str, str],
        writer: asyncio.StreamWriter,
        head_only: bool,
    ) -> bool:
        rendered = self._render(outlet, path)
        if rendered is None:
            return await send(writer, 404, {"content-type": "text/plain"}, b"not found\n")
        status, extra, body = rendered
        etag = extra.get("etag")
        if etag and headers.get("if-none-match") == etag:
            return await send(writer, 304, {"etag": etag}, b"")
        last_modified = extra.get("last-modified")
        since = headers.get("if-modified-since")
        if last_modified and since and "if-none-match" not in headers:
            with contextlib.suppress(TypeError, ValueError):
                if parsedate_to_datetime(since) >= parsedate_to_datetime(last_modified):
                    return await send(writer, 304, {"last-modified": last_modified}, b"")
        compressible = not extra.get("content-type", "").startswith("image/")
        if compressible and "gzip" in headers.get("accept-encoding", "") and len(body) > 1024:
            cached = self._pages.get((outlet.domain, path))
            body = cached[1] if cached else gzip.compress(body, 5)
            extra["content-encoding"] = "gzip"
            extra["vary"] = "Accept-Encoding"
        return await send(writer, status, extra, body, head_only)

    # ------------------------------------------------------------ rendering

    def _visible(self, outlet: _Outlet) -> list[StreamArticle]:
        now = self.clock.now()
        shown = [a for a in outlet.articles if a.published <= now]
        return shown[-self.feed_items :][::-1]

    @staticmethod
    def _article_path(article: StreamArticle) -> str:
        day = article.published.strftime("%Y/%m/%d")
        return f"{day}/{article.slug}-{re.sub(r'[^A-Za-z0-9_-]', '', article.id)}.html"

    @staticmethod
    def _image_path(article: StreamArticle) -> str:
        return f"img/{re.sub(r'[^A-Za-z0-9_-]', '', article.id)}.jpg"

    def _image(self, outlet: _Outlet, path: str) -> tuple[int, dict[str, str], bytes] | None:
        """The article's lead image (sim.photos), once the article is published."""
        article = self._by_image.get((outlet.domain, path))
        if article is None or article.published > self.clock.now():
            return None
        rendered = render_image(article.id)
        if rendered is None:
            return None
        kind, body = rendered
        return 200, {"content-type": kind, "cache-control": "max-age=86400"}, body

    def _render(self, outlet: _Outlet, path: str) -> tuple[int, dict[str, str], bytes] | None:
        if path.startswith("/img/"):
            return self._image(outlet, path)
        if path in ("/feed.rss", "/feed.atom"):
            items = self._visible(outlet)
            atom = path == "/feed.atom"
            body = (self.render_atom if atom else self.render_rss)(outlet, items).encode("utf-8")
            extra = {
                "content-type": (
                    "application/atom+xml; charset=utf-8"
                    if atom
                    else "application/rss+xml; charset=utf-8"
                ),
                "etag": '"' + hashlib.sha256(body).hexdigest()[:20] + '"',
                "cache-control": "max-age=60",
            }
            if items:
                extra["last-modified"] = http_date(items[0].published)
            return 200, extra, body
        if path in ("/", "/index.html"):
            body = self.render_home(outlet).encode("utf-8")
            return 200, {"content-type": "text/html; charset=utf-8"}, body
        article = self._by_path.get((outlet.domain, path))
        if article is None or article.published > self.clock.now():
            return None
        cached = self._pages.get((outlet.domain, path))
        body = cached[0] if cached else self.render_article(outlet, article).encode()
        return 200, {"content-type": "text/html; charset=utf-8"}, body

    def render_opml(self) -> str:
        """The OPML 2.0 document listing every outlet's RSS feed."""
        return render_opml(self.feeds)

    def render_rss(self, outlet: _Outlet, items: Iterable[StreamArticle]) -> str:
        root = self._outlet_root(outlet)
        entries = []
        for a in items:
            link = root + self._article_path(a)
            summary = lead_summary(a.text)
            entries.append(
                "<item>"
                f"<title>{xml_escape(a.title)}</title><link>{xml_escape(link)}</link>"
                f'<guid isPermaLink="true">{xml_escape(link)}</guid>'
                f"<pubDate>{http_date(a.published)}</pubDate>"
                f"<dc:creator>{xml_escape(author_of(a))}</dc:creator>"
                f"<category>{xml_escape(a.section or 'news')}</category>"
                f"<description>{xml_escape(summary)}</description>"
                "</item>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
            f"<title>{xml_escape(outlet.name)}</title><link>{xml_escape(root)}</link>"
            f"<description>Latest news from {xml_escape(outlet.name)}</description>"
            + "".join(entries)
            + "</channel></rss>\n"
        )

    def render_atom(self, outlet: _Outlet, items: Sequence[StreamArticle]) -> str:
        root = self._outlet_root(outlet)
        updated = (items[0].published if items else self.clock.now()).strftime("%Y-%m-%dT%H:%M:%SZ")
        entries = []
        for a in items:
            link = root + self._article_path(a)
            stamp = a.published.strftime("%Y-%m-%dT%H:%M:%SZ")
            summary = lead_summary(a.text)
            entries.append(
                f"<entry><id>tag:{xml_escape(outlet.domain)},2025:{xml_escape(a.id)}</id>"
                f"<title>{xml_escape(a.title)}</title>"
                f'<link rel="alternate" href={quoteattr(link)}/>'
                f"<published>{stamp}</published><updated>{stamp}</updated>"
                f"<author><name>{xml_escape(author_of(a))}</name></author>"
                f"<summary>{xml_escape(summary)}</summary></entry>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>{xml_escape(outlet.name)}</title>"
            f"<id>tag:{xml_escape(outlet.domain)},2025:feed</id>"
            f'<link rel="alternate" href={quoteattr(root)}/>'
            f'<link rel="self" href={quoteattr(root + "feed.atom")}/>'
            f"<updated>{updated}</updated>" + "".join(entries) + "</feed>\n"
        )

    def _chrome(self, outlet: _Outlet, title: str, head: str, main: str) -> str:
        root = self._outlet_root(outlet)
        name = html.escape(outlet.name)
        nav = "".join(
            f'<li><a href="{root}section/{s}">{s.title()}</a></li>'
            for s in ("world", "politics", "business", "technology", "sport", "culture")
        )
        return (
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)} | {name}</title>"
            f'<link rel="alternate" type="application/rss+xml" href="{root}feed.rss">'
            f'<link rel="alternate" type="application/atom+xml" href="{root}feed.atom">'
            f"{head}</head><body>"
            f'<header class="site-header"><div class="logo"><a href="{root}">{name}</a></div>'
            f'<nav class="main-nav"><ul>{nav}</ul></nav>'
            '<div class="subscribe">Subscribe to our newsletter for the top stories every '
            "morning. Sign in | Register</div></header>"
            f"{main}"
            '<footer class="site-footer"><p>About us | Contact | Careers | Advertise | '
            f"Privacy policy | Cookie settings</p><p>© 2025 {name}. All rights reserved. "
            "Reproduction without permission is prohibited.</p></footer></body></html>\n"
        )

    def render_home(self, outlet: _Outlet) -> str:
        root = self._outlet_root(outlet)
        items = "".join(
            f'<li><a href="{root}{self._article_path(a)}">{html.escape(a.title)}</a></li>'
            for a in self._visible(outlet)
        )
        return self._chrome(
            outlet, outlet.name, "", f"<main><h1>Latest</h1><ul>{items}</ul></main>"
        )

    def render_article(self, outlet: _Outlet, article: StreamArticle) -> str:
        """A page as heavy as a real news page (see sim.page) around the body."""
        chrome = self._chrome_cache.get(outlet.domain)
        if chrome is None:
            chrome = self._chrome_cache[outlet.domain] = OutletChrome(
                outlet.name, self._outlet_root(outlet)
            )
        return render_article_page(
            chrome,
            url=self._outlet_root(outlet) + self._article_path(article),
            title=article.title,
            author=author_of(article),
            published=article.published,
            section=article.section or "news",
            paragraphs=paragraphs_of(article.text),
            related=self._related(article),
            image="" if image_kind(article.id) == "none" else self.image_url(article.id),
        )

    def _related(self, article: StreamArticle) -> list[PageLink]:
        """The 12 articles of the stream published just before this one, newest first."""
        index = self._order[article.id]
        links = []
        for other in reversed(self._ordered[max(0, index - 12) : index]):
            root = self._outlet_root(self._outlets[other.domain])
            summary = " ".join(other.text.split()[:25])
            links.append(
                PageLink(root + self._article_path(other), other.title, summary, other.published)
            )
        return links
