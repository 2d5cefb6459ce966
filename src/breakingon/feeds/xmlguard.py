"""Refuse XML documents that carry a DTD before any XML parser sees them (entity bombs, XXE).

Billion laughs, quadratic blowup, parameter entities and external SYSTEM entities all
need a DOCTYPE internal subset or an `<!ENTITY` declaration; a DOCTYPE that names an
external DTD would make a careless parser fetch it. `check_xml` finds these with
linear-time scans of the raw bytes (decoded only for UTF-16/32/EBCDIC), expands
nothing, and never opens a file or URL. A bare DOCTYPE (`<!DOCTYPE rss>`) or one that
names a well-known public DTD (Netscape RSS 0.91, W3C HTML/XHTML) is removed instead.
No I/O, no network, no settings.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

FORBIDDEN = "xml_forbidden_dtd"

_ENTITY = re.compile(r"<!\s*ENTITY", re.IGNORECASE)
_DOCTYPE = re.compile(r"<!\s*DOCTYPE\b([^>\[]{0,2048})(\[?)", re.IGNORECASE)
_EXTERNAL_ID = re.compile(r"\b(SYSTEM|PUBLIC)\b", re.IGNORECASE)
# Public identifiers that real feeds and pages name and that parsers never need to
# fetch: the DOCTYPE is dropped and parsing goes on.
_KNOWN_PUBLIC = re.compile(
    r'PUBLIC\s+["\']-//(?:Netscape Communications//DTD RSS 0\.9|W3C//DTD X?HTML)',
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class GuardResult:
    """`body` is what the parser may see (DOCTYPE removed); `error` is set when refused."""

    body: bytes
    error: str | None = None
    detail: str = ""


def _sniff_codec(body: bytes) -> str | None:
    """Codec needed to read markup that is not ASCII-compatible, else None."""
    for bom, codec in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return codec
    head = body[:4]
    if head == b"<\x00\x00\x00":
        return "utf-32-le"
    if head == b"\x00\x00\x00<":
        return "utf-32-be"
    if head[:2] == b"<\x00":
        return "utf-16-le"
    if head[:2] == b"\x00<":
        return "utf-16-be"
    if head == b"\x4c\x6f\xa7\x94":  # "<?xm" in EBCDIC
        return "cp037"
    return None


def check_xml(body: bytes) -> GuardResult:
    """Refuse a document with a DTD internal subset, an entity declaration or an
    unknown external DTD (`xml_forbidden_dtd`); strip a harmless DOCTYPE."""
    codec = _sniff_codec(body)
    text = body.decode(codec, errors="replace") if codec else body.decode("latin-1")
    if _ENTITY.search(text):
        return GuardResult(b"", FORBIDDEN, "entity declaration")
    spans: list[tuple[int, int]] = []
    for match in _DOCTYPE.finditer(text):
        decl, subset = match.group(1), match.group(2)
        if subset:
            return GuardResult(b"", FORBIDDEN, "DTD internal subset")
        end = text.find(">", match.end())
        if end < 0:
            return GuardResult(b"", FORBIDDEN, "unterminated DOCTYPE")
        if _EXTERNAL_ID.search(decl) and not _KNOWN_PUBLIC.search(decl):
            return GuardResult(b"", FORBIDDEN, "external DTD")
        spans.append((match.start(), end + 1))
    if not spans:
        return GuardResult(body)
    pieces: list[str] = []
    last = 0
    for start, end in spans:
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    cleaned = "".join(pieces)
    if codec:
        return GuardResult(cleaned.encode("utf-8" if codec.startswith("utf") else codec))
    return GuardResult(cleaned.encode("latin-1"))
