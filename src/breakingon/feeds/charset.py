"""The charset of a fetched feed, resolved before any XML parser sees the bytes.

`decode_body` decodes a body (a BOM or the UTF-16/32 shape of "<", valid UTF-8, the XML
declaration, the Content-Type charset, then charset-normalizer, in that order);
`to_utf8_xml` re-encodes the text as UTF-8 with an XML declaration that says so, so
feedparser never guesses. Codecs that can hide markup from a byte scan (UTF-7, the escape
and transform codecs) are never used to decode, and `refused_encoding` names one that a
document or its Content-Type declares, so the guard can refuse it. Pure.
"""

from __future__ import annotations

import codecs
import re

from breakingon.sources.encoding import (
    declared_encoding,
    hides_markup,
    known_encoding,
    lookup_codec,
    sniff_codec,
)

__all__ = [
    "declared_encoding",
    "decode_body",
    "known_encoding",
    "refused_encoding",
    "sniff_codec",
    "to_utf8_xml",
]

_XML_DECL = re.compile(rb"^\s*<\?xml\b[^>]{0,500}\?>", re.IGNORECASE)
_DECL_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""", re.I)
_CHARSET_PARAM = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]{1,40})", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def refused_encoding(text: str, content_type: str = "") -> str | None:
    """The label of a markup-hiding encoding (UTF-7, an escape or transform codec) that the
    decoded document's XML declaration or the Content-Type charset declares, else None."""
    declared = declared_encoding(text)
    labels: list[str] = [declared] if declared else []
    charset = _CHARSET_PARAM.search(content_type or "")
    if charset:
        labels.append(charset.group(1))
    for label in labels:
        info = lookup_codec(label)
        if info is not None and hides_markup(info):
            return label
    return None


def _codec(name: str) -> str | None:
    info = lookup_codec(name)
    if info is None or hides_markup(info):
        return None
    found = info.name
    # Labels that legacy content uses for their superset (WHATWG encoding standard).
    return {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252"}.get(found, found)


def decode_body(body: bytes, content_type: str = "") -> tuple[str, str]:
    """Decode a feed body: (text, encoding used). Never raises; U+FFFD for bad bytes.

    Order: a BOM; then UTF-8 if the bytes are valid UTF-8 (a header or declaration that
    says otherwise is wrong: valid non-ASCII UTF-8 is not an accident); then the XML
    declaration (found even after leading whitespace); then the Content-Type charset;
    then charset-normalizer; then UTF-8 with replacement.
    """
    for bom, name in _BOMS:
        if body.startswith(bom):
            return body[len(bom) :].decode(name, errors="replace"), name
    sniffed = sniff_codec(body)
    if sniffed:
        return body.decode(sniffed, errors="replace"), sniffed
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    candidates: list[str] = []
    decl = _XML_DECL.match(body)
    if decl:
        enc = _DECL_ENCODING.search(decl.group(0))
        if enc:
            candidates.append(enc.group(1).decode("ascii"))
    charset = _CHARSET_PARAM.search(content_type or "")
    if charset:
        candidates.append(charset.group(1))
    for name in candidates:
        codec = _codec(name)
        if codec and not codec.startswith(("utf-16", "utf-32")):
            return body.decode(codec, errors="replace"), codec
    try:
        from charset_normalizer import from_bytes

        matches = list(from_bytes(body[:200_000]))
        if matches:
            # Among equally clean decodings the detector often ranks a Baltic or
            # Central-European code page first for Western text; cp1252 is by far the
            # most common legacy encoding of feeds, so it wins a tie.
            floor = min(m.chaos for m in matches) + 0.005
            clean = [m for m in matches if m.chaos <= floor]
            western = [m for m in clean if _codec(m.encoding) == "cp1252"]
            codec = _codec((western or clean)[0].encoding)
            if codec:
                return body.decode(codec, errors="replace"), codec
    except Exception:  # a detector failure must not fail the parse
        pass
    return body.decode("utf-8", errors="replace"), "utf-8"


def to_utf8_xml(text: str) -> bytes:
    """UTF-8 bytes with the XML declaration (if any) first and saying utf-8."""
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith("<?xml"):
        # Whatever the declaration said (any length), the bytes are now UTF-8.
        end = stripped.find("?>")
        stripped = '<?xml version="1.0" encoding="utf-8"?>' + (
            stripped[end + 2 :] if end >= 0 else stripped[5:]
        )
    return stripped.encode("utf-8", errors="replace")
