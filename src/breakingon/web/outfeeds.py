"""Feeds out: Atom 1.0 and RSS 2.0 (feedgen) and JSON Feed 1.1 from plain entry records.

Pure: takes `OutFeed` records (built by the web handlers from store records) and returns
bytes. Every string is stripped of characters XML cannot carry before it reaches
feedgen, which escapes it for XML. Readers treat RSS titles and descriptions as HTML
(and some ignore Atom's `type`), so the text fields that may be read as HTML are
HTML-escaped first (`html_text`): the reader's HTML is one whose rendering is the plain
text, and feed-supplied text (titles, outlets, briefs, a search query) never becomes an
element or attribute. Atom says so (`type="html"` on titles, subtitle and summaries);
JSON Feed's fields are plain text by definition.
Links are absolute: the caller builds them from `settings.public_base_url`, never from
the request. This module must not touch the store, the request or the network.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from feedgen.feed import FeedGenerator
from lxml import etree

FeedFormat = Literal["atom", "rss", "json"]

MEDIA_TYPES: dict[FeedFormat, str] = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
    "json": "application/feed+json; charset=utf-8",
}
EXTENSIONS: dict[str, FeedFormat] = {"atom": "atom", "rss": "rss", "json": "json"}

# XML 1.0 forbids C0 controls (bar tab, LF, CR), lone surrogates and U+FFFE/U+FFFF;
# lxml (under feedgen) raises on them, so they are removed rather than escaped.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str, limit: int = 20_000) -> str:
    """`value` with the characters XML 1.0 cannot carry removed, capped at `limit`."""
    return _XML_BAD.sub("", value)[:limit]


def html_text(value: str, limit: int = 20_000) -> str:
    """`xml_text(value)` as HTML whose rendering is that text (`&`, `<`, `>` escaped)."""
    return html.escape(xml_text(value, limit), quote=False)


@dataclass(frozen=True, slots=True)
class OutEntry:
    """One entry of an outbound feed; `url` and `id` are absolute."""

    id: str
    title: str
    url: str
    summary: str
    updated: datetime
    published: datetime
    authors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class OutFeed:
    """An outbound feed: `home_url` is the HTML page, `self_url` this feed's own URL."""

    id: str
    title: str
    subtitle: str
    home_url: str
    self_url: str
    updated: datetime
    entries: tuple[OutEntry, ...]
    rights: str = ""
    language: str = "en"  # the site's language (BREAKINGON_SITE_LANGUAGE)


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _generator(feed: OutFeed, fmt: FeedFormat) -> FeedGenerator:
    rss = fmt == "rss"
    title_of = html_text  # RSS titles are HTML to readers; Atom's say type="html"
    fg = FeedGenerator()
    fg.id(xml_text(feed.id))
    fg.title(title_of(feed.title, 500) or "Untitled")
    fg.subtitle(title_of(feed.subtitle, 2_000) or title_of(feed.title, 500) or "Untitled")
    fg.link(href=feed.home_url, rel="alternate")
    fg.link(href=feed.self_url, rel="self")
    fg.updated(_utc(feed.updated))
    fg.language(feed.language or "en")
    if feed.rights:
        fg.rights(xml_text(feed.rights, 1_000))
    fg.generator("BreakingOn")
    # feedgen prepends each new entry; add oldest first so the document lists newest first.
    for e in reversed(feed.entries):
        fe = fg.add_entry()
        fe.id(xml_text(e.id))
        fe.title(title_of(e.title, 1_000) or "Untitled")
        fe.link(href=e.url, rel="alternate")
        fe.updated(_utc(e.updated))
        fe.published(_utc(e.published))
        # The summary is HTML in both formats: the escaped text (Atom says type="html").
        summary = html_text(e.summary) or html_text(e.title, 1_000) or "-"
        fe.summary(summary, type=None if rss else "html")
        if rss:
            fe.guid(xml_text(e.id), permalink=False)
        for name in e.authors[:20]:
            clean = xml_text(name, 200)
            if clean:
                fe.author(name=clean)
    return fg


def _json_feed(feed: OutFeed) -> bytes:
    items = []
    for e in feed.entries:
        item: dict[str, object] = {
            "id": xml_text(e.id),
            "url": e.url,
            "title": xml_text(e.title, 1_000),
            "content_text": xml_text(e.summary) or xml_text(e.title, 1_000),
            "date_published": _utc(e.published).isoformat(),
            "date_modified": _utc(e.updated).isoformat(),
        }
        if e.authors:
            item["authors"] = [{"name": xml_text(a, 200)} for a in e.authors[:20]]
        items.append(item)
    doc = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": xml_text(feed.title, 500),
        "home_page_url": feed.home_url,
        "feed_url": feed.self_url,
        "description": xml_text(feed.subtitle, 2_000),
        "language": feed.language or "en",
        "items": items,
    }
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def render_feed(feed: OutFeed, fmt: FeedFormat) -> bytes:
    """Serialize `feed` as Atom 1.0, RSS 2.0 or JSON Feed 1.1 (UTF-8 bytes)."""
    if fmt == "json":
        return _json_feed(feed)
    fg = _generator(feed, fmt)
    if fmt == "atom":
        out: bytes = _html_titles(fg.atom_str(pretty=False))
    else:
        out = fg.rss_str(pretty=False)
    return out


_ATOM = "{http://www.w3.org/2005/Atom}"


def _html_titles(doc: bytes) -> bytes:
    """Mark the Atom titles and subtitle `type="html"` (feedgen writes no type, which
    means text): their content was escaped by `html_text`, so it renders as the text."""
    root = etree.fromstring(doc, etree.XMLParser(resolve_entities=False, no_network=True))
    for el in root.iter(f"{_ATOM}title", f"{_ATOM}subtitle"):
        el.set("type", "html")
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return out


def newest(entries: Sequence[OutEntry], fallback: datetime) -> datetime:
    """The newest `updated` time among `entries`, or `fallback` when there are none."""
    return max((_utc(e.updated) for e in entries), default=_utc(fallback))
