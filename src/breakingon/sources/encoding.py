"""Which encodings a fetched or uploaded XML document may be read in, before any parser.

Shared by OPML import (`sources.catalogue`) and feed parsing (`feeds.charset`): the
UTF-16/32 and EBCDIC shapes of "<", the label an XML declaration names, and the codecs
under which ASCII bytes do not mean ASCII characters ("+ADw-" is "<" in UTF-7, "\\x3c" in
unicode-escape; transform codecs such as base64 are not text encodings at all), which a
document may never be decoded with. Standard library only; pure.
"""

from __future__ import annotations

import codecs
import re

__all__ = [
    "declared_encoding",
    "decode_xml_document",
    "hides_markup",
    "known_encoding",
    "lookup_codec",
    "sniff_codec",
]

_MARKUP_HIDING = frozenset(
    {"utf-7", "unicode-escape", "raw-unicode-escape", "punycode", "idna", "undefined"}
)
_TEXT_DECL = re.compile(r"[\ufeff \t\r\n]*<\?xml\b([^>]{0,2000})")
_TEXT_DECL_ENCODING = re.compile(r"""encoding\s*=\s*["']([^"']{1,60})["']""", re.I)
_BYTES_DECL = re.compile(
    rb"""[ \t\r\n]*<\?xml\b[^>]{0,2000}?encoding\s*=\s*["']([^"']{1,60})["']""", re.I
)


def lookup_codec(name: str) -> codecs.CodecInfo | None:
    """The codec Python knows by `name`, else None."""
    try:
        return codecs.lookup(name)
    except (LookupError, ValueError):
        return None


def hides_markup(info: codecs.CodecInfo) -> bool:
    """True for UTF-7, the escape codecs and every codec that is not a text encoding."""
    return info.name in _MARKUP_HIDING or not getattr(info, "_is_text_encoding", True)


def known_encoding(label: str) -> bool:
    """Whether Python knows `label` as an encoding (of any kind)."""
    return lookup_codec(label) is not None


def declared_encoding(text: str) -> str | None:
    """The encoding label the decoded document's XML declaration names, else None."""
    decl = _TEXT_DECL.match(text[:4096])
    enc = _TEXT_DECL_ENCODING.search(decl.group(1)) if decl else None
    return enc.group(1).strip() if enc else None


def sniff_codec(body: bytes) -> str | None:
    """Codec needed to read markup that is not ASCII-compatible (a UTF-16/32 BOM, the
    UTF-16/32 or EBCDIC shape of "<"), else None."""
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


def decode_xml_document(body: bytes) -> str:
    """Decode an XML document for a parser that is then handed UTF-8 (OPML import).

    A BOM or the UTF-16/32/EBCDIC shape of "<"; else UTF-8 when the bytes are valid
    UTF-8; else the declared encoding when it is a known text encoding that hides no
    markup (and not a UTF-16/32 the bytes do not have); else cp1252. Bad bytes become
    U+FFFD. Never raises: the caller refuses a declaration it does not accept
    (`declared_encoding` on the result).
    """
    if body.startswith(codecs.BOM_UTF8):
        return body[3:].decode("utf-8", errors="replace")
    sniffed = sniff_codec(body)
    if sniffed:
        return body.decode(sniffed, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    match = _BYTES_DECL.match(body)
    info = lookup_codec(match.group(1).decode("ascii", "replace")) if match else None
    codec = "cp1252"
    # UTF-16/32 was sniffed above if the bytes were UTF-16/32: a declaration saying so lies.
    if info is not None and not hides_markup(info):
        codec = "cp1252" if info.name.startswith(("utf-16", "utf-32")) else info.name
    try:
        return body.decode(codec, errors="replace")
    except (LookupError, ValueError):
        return body.decode("cp1252", errors="replace")
