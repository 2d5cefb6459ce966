"""The charset of a fetched feed, resolved before any XML parser sees the bytes.

`decode_body` decodes a body (a BOM, valid UTF-8, the XML declaration, the Content-Type
charset, then charset-normalizer, in that order); `to_utf8_xml` re-encodes the text as
UTF-8 with an XML declaration that says so, so feedparser never guesses. Pure.
"""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_body", "to_utf8_xml"]

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


def _codec(name: str) -> str | None:
    try:
        found = codecs.lookup(name).name
    except LookupError:
        return None
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
    utf16 = {b"<\x00?\x00": "utf-16-le", b"\x00<\x00?": "utf-16-be"}.get(body[:4])
    if utf16:
        return body.decode(utf16, errors="replace"), utf16
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
        end = stripped.find("?>")
        if 0 < end < 600:
            decl = re.sub(
                r"""encoding\s*=\s*["'][^"']*["']""", 'encoding="utf-8"', stripped[: end + 2]
            )
            stripped = decl + stripped[end + 2 :]
    return stripped.encode("utf-8", errors="replace")
