"""The WebSub protocol's pure parts (W3C WebSub): hubs, signatures and lease timing.

`discover_hubs` finds a feed's hubs and self URL in HTTP `Link` headers (they win, as
the spec says) or in the document (Atom/RSS `<link rel="hub">`, JSON Feed `hubs`);
`check_signature` verifies `X-Hub-Signature` (sha1, sha256, sha384, sha512 HMAC of the
raw body with the subscription's secret, compared in constant time); `renewal_time` says
when to renew before a lease ends; `TOKEN_PATTERN` is the shape of a callback token.

Pure: parses the bytes it is given; opens no socket, touches no store or web layer.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from urllib.parse import urljoin

import defusedxml.ElementTree as SafeET

from breakingon.crawl.netpolicy import check_url

__all__ = [
    "MAX_HUBS",
    "SIGNATURE_ALGORITHMS",
    "TOKEN_PATTERN",
    "HubLinks",
    "SignatureVerdict",
    "check_signature",
    "discover_hubs",
    "parse_link_header",
    "renewal_time",
    "sign",
]

# A feed advertising more hubs than this is not going to get them all tried.
MAX_HUBS = 8
# Only the head of a document is searched: hub links sit in the feed's header.
_DISCOVERY_HEAD = 256 * 1024
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
SIGNATURE_ALGORITHMS: Mapping[str, Callable[[], hashlib._Hash]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
SignatureVerdict = Literal["ok", "missing", "malformed", "unsupported", "mismatch"]
_ATOM_NS = "{http://www.w3.org/2005/Atom}"
_ITEM_TAGS = frozenset({"item", "entry"})
_LINK_TAG = re.compile(rb"<(?:[A-Za-z0-9_]+:)?link\b([^>]{0,2000})>", re.IGNORECASE)
_ATTR = re.compile(rb"""([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


# --- discovery -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HubLinks:
    """What a feed advertises: its hubs (absolute http(s) URLs) and its self URL."""

    hubs: tuple[str, ...] = ()
    self_url: str = ""


def parse_link_header(values: Sequence[str]) -> list[tuple[str, frozenset[str]]]:
    """(target, rels) of each link in RFC 8288 `Link` header values; rels lower-cased."""
    out: list[tuple[str, frozenset[str]]] = []
    for value in values:
        for m in re.finditer(
            r"<([^>]*)>((?:\s*;\s*[^,;<=]+(?:=\s*(?:\"[^\"]*\"|[^,;]*))?)*)", value
        ):
            rels: set[str] = set()
            for p in re.finditer(r";\s*([A-Za-z*]+)\s*=\s*(\"[^\"]*\"|[^,;\s]*)", m.group(2)):
                if p.group(1).lower() == "rel":
                    rels.update(p.group(2).strip('"').lower().split())
            out.append((m.group(1).strip(), frozenset(rels)))
    return out


def _absolute(href: str, base: str) -> str:
    url = urljoin(base, href.strip())
    return url if check_url(url) is None else ""


def _links_from_xml(head: bytes) -> list[tuple[str, frozenset[str]]]:
    """rel/href of <link> elements before the first item/entry (DTDs refused)."""
    found: list[tuple[str, frozenset[str]]] = []
    try:
        for event, el in SafeET.iterparse(io.BytesIO(head), events=("start",), forbid_dtd=True):
            assert event == "start"
            tag = el.tag if isinstance(el.tag, str) else ""
            local = tag.rsplit("}", 1)[-1]
            if local in _ITEM_TAGS:
                break
            if local == "link" and (tag.startswith(_ATOM_NS) or "href" in el.attrib):
                href = el.attrib.get("href", "")
                if href:
                    found.append((href, frozenset(el.attrib.get("rel", "").lower().split())))
    except Exception:  # broken or hostile XML: fall back to a plain scan of the head
        if found:
            return found
        return _links_from_scan(head)
    return found


def _links_from_scan(head: bytes) -> list[tuple[str, frozenset[str]]]:
    out: list[tuple[str, frozenset[str]]] = []
    cut = min((i for i in (head.find(b"<item"), head.find(b"<entry")) if i >= 0), default=-1)
    for m in _LINK_TAG.finditer(head if cut < 0 else head[:cut]):
        attrs = {
            k.decode("ascii", "replace").lower(): (v1 or v2).decode("utf-8", "replace")
            for k, v1, v2 in _ATTR.findall(m.group(1))
        }
        if attrs.get("href"):
            out.append((attrs["href"], frozenset(attrs.get("rel", "").lower().split())))
    return out


def _links_from_json(text: str) -> HubLinks | None:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    hubs: list[str] = []
    raw = doc.get("hubs")
    if isinstance(raw, list):
        for h in raw:
            if isinstance(h, dict) and isinstance(h.get("url"), str):
                kind = str(h.get("type", "")).lower()
                if kind in ("websub", "pubsubhubbub", ""):
                    hubs.append(h["url"])
    feed_url = doc.get("feed_url")
    return HubLinks(tuple(hubs), feed_url if isinstance(feed_url, str) else "")


def discover_hubs(body: bytes, headers: Sequence[tuple[str, str]], url: str) -> HubLinks:
    """The hubs and self URL a fetched feed advertises; empty when it offers no hub.

    HTTP `Link` headers win over the document (W3C WebSub §4). Relative URLs are resolved
    against `url` (the final URL of the fetch); only well-formed http(s) URLs are kept,
    at most `MAX_HUBS`, in the order given. Never raises.
    """
    header_links = parse_link_header([v for k, v in headers if k.lower() == "link"])
    links = header_links if any("hub" in rels for _, rels in header_links) else []
    self_url = ""
    if not links:
        head = body[:_DISCOVERY_HEAD]
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if stripped[:1] in (b"{", b"["):
            parsed = _links_from_json(body.decode("utf-8", "replace"))
            links = [(h, frozenset({"hub"})) for h in parsed.hubs] if parsed else []
            self_url = parsed.self_url if parsed else ""
        else:
            links = _links_from_xml(head)
        self_url = next((h for h, rels in header_links if "self" in rels), "") or self_url
    hubs: list[str] = []
    for href, rels in links:
        if "self" in rels and not self_url:
            self_url = href
        if "hub" in rels:
            absolute = _absolute(href, url)
            if absolute and absolute not in hubs:
                hubs.append(absolute)
    return HubLinks(tuple(hubs[:MAX_HUBS]), _absolute(self_url, url) if self_url else "")


# --- signatures and leases ----------------------------------------------------------


def sign(secret: str, body: bytes, algorithm: str = "sha256") -> str:
    """The `X-Hub-Signature` value a hub sends for `body` (tests and fakes use it)."""
    digest = hmac.new(secret.encode(), body, SIGNATURE_ALGORITHMS[algorithm]).hexdigest()
    return f"{algorithm}={digest}"


def check_signature(secret: str, body: bytes, header: str | None) -> SignatureVerdict:
    """Check an `X-Hub-Signature` header ("<method>=<hex>") against the raw body.

    "ok" only for a supported method whose HMAC matches (constant-time comparison);
    any other verdict means the content must be dropped (the spec still wants a 2xx).
    """
    if header is None or not header.strip():
        return "missing"
    method, sep, given = header.strip().partition("=")
    if not sep or not given:
        return "malformed"
    algo = SIGNATURE_ALGORITHMS.get(method.strip().lower())
    if algo is None:
        return "unsupported"
    given = given.strip().lower()
    if not re.fullmatch(r"[0-9a-f]+", given):
        return "malformed"
    expected = hmac.new(secret.encode(), body, algo).hexdigest()
    return "ok" if hmac.compare_digest(expected, given) else "mismatch"


def renewal_time(verified_at: datetime, lease_seconds: int) -> datetime:
    """When to renew a lease granted at `verified_at`: always before it ends.

    The margin is a tenth of the lease, at least 5 minutes, at most half the lease (so a
    10-day lease renews a day early and a 10-minute lease 5 minutes early).
    """
    margin = min(max(lease_seconds * 0.1, 300.0), lease_seconds * 0.5)
    return verified_at + timedelta(seconds=lease_seconds - margin)
