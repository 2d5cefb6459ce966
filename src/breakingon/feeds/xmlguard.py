"""Refuse XML documents that carry a DTD before any XML parser sees them (entity bombs, XXE).

Billion laughs, quadratic blowup, parameter entities and external SYSTEM entities all
need a DOCTYPE internal subset or an `<!ENTITY` declaration; a DOCTYPE that names an
external DTD would make a careless parser fetch it. `check_xml` decides on the DECODED
document, the very text the parser is given (`feeds.charset.decode_body`), so no
encoding (UTF-7, UTF-16/32, EBCDIC, a lying header) can hide a declaration from it; the
raw bytes are scanned too. A document that declares an encoding able to hide markup
from a byte scan (UTF-7, escape and transform codecs) is refused outright. Scans are
linear, nothing is expanded, no file or URL is opened. A bare DOCTYPE (`<!DOCTYPE rss>`)
or one that names a well-known public DTD (Netscape RSS 0.91, W3C HTML/XHTML) is removed
instead. No I/O, no network, no settings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from breakingon.feeds.charset import decode_body, refused_encoding, sniff_codec

FORBIDDEN = "xml_forbidden_dtd"
FORBIDDEN_ENCODING = "xml_forbidden_encoding"

_ENTITY = re.compile(r"<!\s*ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(r"<!\s*DOCTYPE", re.IGNORECASE)
_DECL_END = re.compile(r"[>\[]")
_EXTERNAL_ID = re.compile(r"\b(SYSTEM|PUBLIC)\b", re.IGNORECASE)
# Public identifiers that real feeds and pages name and that parsers never need to
# fetch: the DOCTYPE is dropped and parsing goes on.
_KNOWN_PUBLIC = re.compile(
    r'PUBLIC\s+["\']-//(?:Netscape Communications//DTD RSS 0\.9|W3C//DTD X?HTML)',
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class GuardResult:
    """`text` is what the parser may see (decoded, DOCTYPE removed), `encoding` the
    charset it was decoded from; `error` is set when the document is refused."""

    text: str
    encoding: str = ""
    error: str | None = None
    detail: str = ""


def _scan(text: str) -> tuple[str | None, list[tuple[int, int]]]:
    """(reason to refuse, or None; spans of harmless DOCTYPEs to remove). Linear."""
    if _ENTITY.search(text):
        return "entity declaration", []
    spans: list[tuple[int, int]] = []
    pos = 0
    while (match := _DOCTYPE.search(text, pos)) is not None:
        end = _DECL_END.search(text, match.end())
        if end is None:
            return "unterminated DOCTYPE", []
        if end.group() == "[":
            return "DTD internal subset", []
        decl = text[match.end() : end.start()]
        if _EXTERNAL_ID.search(decl) and not _KNOWN_PUBLIC.search(decl):
            return "external DTD", []
        spans.append((match.start(), end.end()))
        pos = end.end()
    return None, spans


def _refused(error: str, detail: str) -> GuardResult:
    return GuardResult("", error=error, detail=detail)


def check_xml(body: bytes, content_type: str = "") -> GuardResult:
    """Decode `body` and refuse a document with a DTD internal subset, an entity
    declaration or an unknown external DTD (`xml_forbidden_dtd`), or one declaring an
    encoding that can hide markup (`xml_forbidden_encoding`); strip a harmless DOCTYPE."""
    codec = sniff_codec(body)
    raw = body.decode(codec, errors="replace") if codec else body.decode("latin-1")
    why, _ = _scan(raw)
    if why is not None:
        return _refused(FORBIDDEN, why)
    text, encoding = decode_body(body, content_type)
    bad = refused_encoding(text, content_type)
    if bad is not None:
        return _refused(FORBIDDEN_ENCODING, f"declared encoding {bad!r} refused")
    why, spans = _scan(text)
    if why is not None:
        return _refused(FORBIDDEN, f"{why} (in the {encoding} text)")
    if not spans:
        return GuardResult(text, encoding)
    pieces: list[str] = []
    last = 0
    for start, end in spans:
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    return GuardResult("".join(pieces), encoding)
