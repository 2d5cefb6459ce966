"""Feed parsing: bytes we fetched -> sanitized, capped, identified FeedItems.

RSS 0.9x/1.0/2.0 and Atom 0.3/1.0 go through feedparser, JSON Feed through `json`
with validation. Before any XML parser runs, `xmlguard` refuses DTDs and entity
declarations and the charset is resolved (`feeds.charset`) so feedparser always sees
UTF-8. All HTML goes through `sanitize_html`; text fields are plain text. Dates become
aware UTC, identities are stable and never collide inside a feed (a GUID that changed
scheme or host is recognised by its alias key), and every field is capped.

`parse_feed` is pure and runs in the calling process, with no time budget: the crawl
stage and pushed content run it in a worker process under `ParseSettings.timeout_s`
(`feeds.ingest.budgeted_feed_job`: feedparser's author regex can backtrack for minutes
on a hostile feed; the worker is killed and replaced, and the result is the typed
error `parse_timeout`). This module never opens sockets or files and never touches the
store or settings.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Any

import feedparser

from breakingon.feeds.charset import decode_body as decode_body  # re-exported
from breakingon.feeds.charset import to_utf8_xml
from breakingon.feeds.sanitize import html_to_text, safe_url, sanitize_html
from breakingon.feeds.urls import alias_key, canonicalize_url
from breakingon.feeds.xmlguard import check_xml
from breakingon.records import FeedItem

Headers = Mapping[str, str] | Sequence[tuple[str, str]]

# Typed errors (ParsedFeed.error).
XML_FORBIDDEN_DTD = "xml_forbidden_dtd"
XML_FORBIDDEN_ENCODING = "xml_forbidden_encoding"  # UTF-7 and other markup-hiding codecs
NOT_A_FEED = "not_a_feed"
PARSE_ERROR = "parse_error"
PARSE_TIMEOUT = "parse_timeout"
EMPTY = "empty"
TOO_LARGE = "too_large"


@dataclass(frozen=True, slots=True)
class ParseSettings:
    """Caps and budgets for one feed parse."""

    max_items: int = 500  # newest N items are kept
    max_title: int = 1_000
    max_summary: int = 20_000
    max_content: int = 200_000
    max_categories: int = 50
    max_authors: int = 20
    max_short_field: int = 300  # one author, one category
    max_guid: int = 512
    max_body_bytes: int = 32 * 1024 * 1024
    future_tolerance: timedelta = timedelta(days=1)
    timeout_s: float = 10.0  # wall-clock budget of a parse in a worker (feeds.ingest)


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """The outcome of parsing one feed document. An expected failure is `error`."""

    items: tuple[FeedItem, ...] = ()
    error: str | None = None  # xml_forbidden_dtd/_encoding, not_a_feed, parse_error, ...
    bozo: str = ""  # why the document was not clean ("" if it was)
    title: str = ""
    link: str = ""
    discovered_feed_url: str = ""  # an HTML page's <link rel=alternate> feed
    non_unique_guids: bool = False
    version: str = ""  # feedparser's version string, "json1", "json1.1"
    truncated_items: int = 0  # items dropped by the max_items cap


@dataclass(slots=True)
class _RawEntry:
    guid: str = ""
    link: str = ""
    title: str = ""  # HTML or text: always run through html_to_text
    summary: str = ""  # HTML
    content: str = ""  # HTML
    authors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    image: str = ""
    date: datetime | None = None
    date_raw: str = ""


def _header(headers: Headers, name: str) -> str:
    items = headers.items() if isinstance(headers, Mapping) else headers
    for key, value in items:
        if key.lower() == name:
            return value
    return ""


# ---------------------------------------------------------------- sniffing

_BINARY_MAGIC = (
    b"\x89PNG",
    b"GIF8",
    b"\xff\xd8\xff",
    b"%PDF",
    b"PK\x03\x04",
    b"\x1f\x8b",
    b"RIFF",
    b"\x00\x00\x01\x00",
    b"BM",
)
_HTML_START = re.compile(
    r"^\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html|<head|<body)", re.I | re.S
)


class _AlternateFinder(HTMLParser):
    """Collects <link rel=alternate type=rss/atom/json feed> hrefs of an HTML head."""

    TYPES = ("application/rss+xml", "application/atom+xml", "application/feed+json",
             "application/json", "application/rdf+xml")  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "link":
            return
        values = {k.lower(): (v or "") for k, v in attrs}
        rels = values.get("rel", "").lower().split()
        if "alternate" in rels and values.get("type", "").lower().strip() in self.TYPES:
            if values.get("href"):
                self.found.append(values["href"])


def discover_feed_url(html: str, base_url: str) -> str:
    """The first feed an HTML page advertises with <link rel=alternate>, or ""."""
    finder = _AlternateFinder()
    head = html[:512_000]
    end = head.lower().find("</head>")
    try:
        finder.feed(head if end < 0 else head[:end])
        finder.close()
    except Exception:  # HTMLParser is lenient; never let a page crash the worker
        pass
    for href in finder.found:
        canon = canonicalize_url(href, base=base_url)
        if canon:
            return canon
    return ""


# ---------------------------------------------------------------- dates (aware UTC)

_MIN_YEAR = 1900


def _date_from_struct(value: Any) -> datetime | None:
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        try:
            return datetime(*value[:6], tzinfo=UTC)
        except (ValueError, TypeError):
            return None


def _iso_date(raw: str) -> datetime | None:
    value = raw.strip()
    if len(value) < 19 or value[4:5] != "-" or value[10:11] not in ("T", "t", " "):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _date_from_string(raw: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def resolve_date(
    parsed: datetime | None, raw: str, now: datetime, cfg: ParseSettings
) -> tuple[datetime, str]:
    """(published UTC, date_flag): now+"missing"/"unparseable", clamped+"future_clamped"."""
    if parsed is None and raw.strip():
        parsed = _date_from_string(raw)
    if parsed is None:
        return now, ("unparseable" if raw.strip() else "missing")
    if parsed.year < 100:  # a 2-digit year that slipped through: 00-68 -> 20xx, else 19xx
        parsed = parsed.replace(year=parsed.year + (2000 if parsed.year < 69 else 1900))
    if parsed.year < _MIN_YEAR:
        return now, "unparseable"
    if parsed > now + cfg.future_tolerance:
        return now, "future_clamped"
    return parsed.astimezone(UTC), ""


# ---------------------------------------------------------------- entries


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ("" if value is None else str(value))


def _entries_from_feedparser(entries: Sequence[Any]) -> list[_RawEntry]:
    out: list[_RawEntry] = []
    for entry in entries:
        raw = _RawEntry()
        raw.guid = _text(entry.get("id")).strip()
        raw.link = _text(entry.get("link")).strip()
        if not raw.link:
            for link in entry.get("links") or ():
                if link.get("rel", "alternate") == "alternate" and link.get("href"):
                    raw.link = _text(link["href"]).strip()
                    break
        if entry.get("guidislink") and raw.link == raw.guid:
            if not raw.guid.lower().startswith(("http://", "https://")):
                raw.link = ""  # a bare GUID is not a link
        raw.title = _text(entry.get("title"))
        raw.summary = _text(entry.get("summary"))
        contents = [c for c in entry.get("content") or () if isinstance(c, Mapping)]
        html_contents = [_text(c.get("value")) for c in contents]
        raw.content = max(html_contents, key=len) if html_contents else ""
        for author in entry.get("authors") or ():
            if isinstance(author, Mapping) and author.get("name"):
                raw.authors.append(_text(author["name"]))
        if not raw.authors and entry.get("author"):
            raw.authors.append(_text(entry.get("author")))
        for tag in entry.get("tags") or ():
            if isinstance(tag, Mapping):
                term = _text(tag.get("label") or tag.get("term"))
                if term:
                    raw.categories.append(term)
        raw.image = _image_of(entry)
        for key in ("published", "updated", "created"):
            if entry.get(key + "_parsed") is not None or entry.get(key):
                raw.date_raw = _text(entry.get(key))
                # ISO 8601 kept to the microsecond; feedparser's struct_time drops it.
                raw.date = _iso_date(raw.date_raw) or _date_from_struct(entry.get(key + "_parsed"))
                if raw.date is not None:
                    break
        out.append(raw)
    return out


def _image_of(entry: Any) -> str:
    best: tuple[int, str] | None = None
    for media in entry.get("media_content") or ():
        if not isinstance(media, Mapping) or not media.get("url"):
            continue
        medium, kind = _text(media.get("medium")), _text(media.get("type"))
        # media:content with neither medium nor type is an image in practice (Guardian).
        if medium == "image" or kind.startswith("image/") or not (medium or kind):
            width = _text(media.get("width"))
            size = int(width) if width.isdigit() else 0
            if best is None or size > best[0]:
                best = (size, _text(media["url"]))
    if best is not None:
        return best[1]
    for thumb in entry.get("media_thumbnail") or ():
        if isinstance(thumb, Mapping) and thumb.get("url"):
            return _text(thumb["url"])
    for link in entry.get("enclosures") or entry.get("links") or ():
        if not isinstance(link, Mapping):
            continue
        if _text(link.get("type")).startswith("image/") and link.get("href"):
            return _text(link["href"])
    image = entry.get("image")
    if isinstance(image, Mapping) and image.get("href"):
        return _text(image["href"])
    return ""


def _entries_from_json(doc: Mapping[str, Any]) -> list[_RawEntry]:
    out: list[_RawEntry] = []
    for item in doc.get("items") or ():
        if not isinstance(item, Mapping):
            continue
        raw = _RawEntry()
        guid = item.get("id")
        raw.guid = _text(guid).strip() if isinstance(guid, (str, int, float)) else ""
        raw.link = _text(item.get("url") or item.get("external_url")).strip()
        raw.title = _text(item.get("title"))
        raw.summary = _text(item.get("summary"))
        content_html = _text(item.get("content_html"))
        content_text = _text(item.get("content_text"))
        raw.content = content_html
        if not raw.summary and content_text:
            raw.summary = content_text.replace("<", "&lt;").replace(">", "&gt;")
        authors = item.get("authors")
        if not isinstance(authors, list):
            authors = [item.get("author")] if isinstance(item.get("author"), Mapping) else []
        for author in authors:
            if isinstance(author, Mapping) and author.get("name"):
                raw.authors.append(_text(author["name"]))
        tags = item.get("tags")
        if isinstance(tags, list):
            raw.categories = [_text(t) for t in tags if isinstance(t, (str, int, float))]
        raw.image = _text(item.get("image") or item.get("banner_image"))
        raw.date_raw = _text(item.get("date_published") or item.get("date_modified"))
        out.append(raw)
    return out


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip()


def _sha(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", errors="replace"))
        digest.update(b"\x00")
    return digest.hexdigest()


def _build_items(
    raws: list[_RawEntry], feed_url: str, now: datetime, cfg: ParseSettings
) -> tuple[list[FeedItem], bool]:
    items: list[FeedItem] = []
    seen: dict[str, tuple[str, str, str]] = {}
    non_unique = False
    for raw in raws:
        link = canonicalize_url(raw.link, base=feed_url)
        base = link or feed_url
        title = _cap(html_to_text(raw.title[: cfg.max_title * 8]), cfg.max_title)
        summary = _cap(html_to_text(raw.summary[: cfg.max_summary * 8]), cfg.max_summary)
        # RSS puts the HTML body in <description> when there is no content:encoded.
        source_html = raw.content or (raw.summary if "<" in raw.summary else "")
        content_html = sanitize_html(source_html[: cfg.max_content * 4], base_url=base)
        if len(content_html) > cfg.max_content:
            content_html = sanitize_html(content_html[: cfg.max_content], base_url=base)
        if not summary and content_html:
            summary = _cap(html_to_text(content_html), cfg.max_summary)
        authors: list[str] = []
        for name in raw.authors:
            clean = _cap(html_to_text(name[: cfg.max_short_field * 8]), cfg.max_short_field)
            if clean and clean not in authors:
                authors.append(clean)
            if len(authors) >= cfg.max_authors:
                break
        categories: list[str] = []
        for term in raw.categories[: cfg.max_categories * 4]:
            clean = _cap(html_to_text(term[: cfg.max_short_field * 8]), cfg.max_short_field)
            if clean and clean not in categories:
                categories.append(clean)
            if len(categories) >= cfg.max_categories:
                break
        published, date_flag = resolve_date(raw.date, raw.date_raw, now, cfg)
        guid = _text(raw.guid)
        if len(guid) > cfg.max_guid:
            guid = guid[: cfg.max_guid // 2] + "#" + _sha(guid)[:32]
        # Identity: guid, else canonical link, else a hash of what the item says.
        key = guid or link or "sha256:" + _sha(title, summary)[:40]
        fingerprint = (link, title, summary)
        previous = seen.get(key)
        if previous is not None:
            if previous == fingerprint:
                continue  # the same item twice: keep one
            non_unique = True
            key = f"{key}#{_sha(link, title, summary)[:16]}"
            if key in seen:
                continue
        seen[key] = fingerprint
        items.append(
            FeedItem(
                item_key=key,
                url=link,
                title=title,
                summary=summary,
                content_html=content_html,
                published=published,
                authors=tuple(authors),
                categories=tuple(categories),
                image=safe_url(raw.image, base=base),
                guid=guid,
                date_flag=date_flag,
                alias_key=alias_key(guid or link),
            )
        )
    return items, non_unique


def _newest(raws: list[_RawEntry], limit: int) -> list[_RawEntry]:
    """The `limit` newest entries (undated ones count as newest), in feed order."""
    if len(raws) <= limit:
        return raws
    far_future = datetime.max.replace(tzinfo=UTC)

    def when(index: int) -> datetime:
        raw = raws[index]
        return raw.date or _date_from_string(raw.date_raw[:100]) or far_future

    keep = sorted(range(len(raws)), key=lambda i: (when(i), -i), reverse=True)[:limit]
    return [raws[i] for i in sorted(keep)]


# ---------------------------------------------------------------- entry points


def _bozo_reason(exc: Any) -> str:
    if exc is None:
        return ""
    text = f"{type(exc).__name__}: {exc}"
    return text[:300]


def _parse_json_feed(text: str, url: str, now: datetime, cfg: ParseSettings) -> ParsedFeed:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return ParsedFeed(error=NOT_A_FEED, bozo="invalid JSON")
    if not isinstance(doc, dict):
        return ParsedFeed(error=NOT_A_FEED, bozo="JSON is not an object")
    version = doc.get("version")
    if not (isinstance(version, str) and version.startswith("https://jsonfeed.org/version/")):
        return ParsedFeed(error=NOT_A_FEED, bozo="JSON without a JSON Feed version")
    if not isinstance(doc.get("items"), list):
        return ParsedFeed(error=PARSE_ERROR, bozo="JSON Feed without an items array")
    raws = _entries_from_json(doc)
    kept = _newest(raws, cfg.max_items)
    items, non_unique = _build_items(kept, url, now, cfg)
    return ParsedFeed(
        items=tuple(items),
        title=_cap(html_to_text(_text(doc.get("title"))), cfg.max_title),
        link=canonicalize_url(_text(doc.get("home_page_url")), base=url),
        non_unique_guids=non_unique,
        version="json" + version.rsplit("/", 1)[-1],
        truncated_items=len(raws) - len(kept),
    )


def parse_feed(
    body: bytes,
    headers: Headers,
    url: str,
    now: datetime,
    cfg: ParseSettings = ParseSettings(),
) -> ParsedFeed:
    """Parse one fetched feed document into sanitized FeedItems. Never raises.

    `headers` are the response headers (a mapping or (name, value) pairs), `url` the
    final URL (base for relative links), `now` the fetch time (fallback and clamp for
    dates). Runs in this process with no time budget: run untrusted input in a worker
    (`feeds.ingest.budgeted_feed_job`).
    """
    try:
        return _parse_feed(body, headers, url, now.astimezone(UTC), cfg)
    except RecursionError:
        return ParsedFeed(error=PARSE_ERROR, bozo="nesting too deep")
    except Exception as exc:  # a parser bug on hostile input must not kill the worker
        return ParsedFeed(error=PARSE_ERROR, bozo=_bozo_reason(exc))


def _parse_feed(
    body: bytes, headers: Headers, url: str, now: datetime, cfg: ParseSettings
) -> ParsedFeed:
    if len(body) > cfg.max_body_bytes:
        return ParsedFeed(error=TOO_LARGE, bozo=f"body of {len(body)} bytes over the cap")
    if not body.strip(b" \t\r\n\x00\xef\xbb\xbf\xfe\xff"):
        return ParsedFeed(error=EMPTY)
    if body.startswith(_BINARY_MAGIC):
        return ParsedFeed(error=NOT_A_FEED, bozo="binary content")
    content_type = _header(headers, "content-type")
    guard = check_xml(body, content_type)  # decodes; decides on the decoded text
    if guard.error:
        return ParsedFeed(error=guard.error, bozo=guard.detail)
    text = guard.text
    head = text.lstrip("\ufeff \t\r\n")[:1]
    if head in ("{", "[") or "json" in content_type.lower():
        return _parse_json_feed(text, url, now, cfg)
    if "\x00" in text[:4096]:
        return ParsedFeed(error=NOT_A_FEED, bozo="binary content")
    if _HTML_START.match(text[:4096]):
        return ParsedFeed(
            error=NOT_A_FEED, bozo="HTML page", discovered_feed_url=discover_feed_url(text, url)
        )
    result = feedparser.parse(
        io.BytesIO(to_utf8_xml(text)),
        # No content-location: feedparser would resolve bare GUIDs ("i0") into URLs and
        # call them links. Relative links are resolved here, against the feed URL.
        response_headers={"content-type": "application/xml; charset=utf-8"},
        resolve_relative_uris=True,
        sanitize_html=True,
    )
    bozo = _bozo_reason(result.get("bozo_exception")) if result.get("bozo") else ""
    version = _text(result.get("version"))
    feed = result.get("feed") or {}
    entries = list(result.get("entries") or ())
    if not entries and not version:
        if text.lstrip()[:1] != "<":
            return ParsedFeed(error=NOT_A_FEED, bozo=bozo or "not XML")
        found = discover_feed_url(text, url)
        if found or not feed:
            return ParsedFeed(error=NOT_A_FEED if found or not bozo else PARSE_ERROR,
                              bozo=bozo, discovered_feed_url=found)  # fmt: skip
    raws = _entries_from_feedparser(entries)
    kept = _newest(raws, cfg.max_items)
    items, non_unique = _build_items(kept, url, now, cfg)
    return ParsedFeed(
        items=tuple(items),
        bozo=bozo,
        title=_cap(html_to_text(_text(feed.get("title"))), cfg.max_title),
        link=canonicalize_url(_text(feed.get("link")), base=url),
        non_unique_guids=non_unique,
        version=version,
        truncated_items=len(raws) - len(kept),
    )
