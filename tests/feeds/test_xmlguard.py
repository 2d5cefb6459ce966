"""The DTD guard decides on the decoded document, whatever the encoding.

A DTD written in UTF-7 (`+ADw-!ENTITY`), UTF-16/32, EBCDIC or any codec a declaration or
a Content-Type names must never reach feedparser, which would expand the entity. Every
text codec Python knows is tried, declared in the document and in the header.
"""

from __future__ import annotations

import base64
import codecs
import encodings.aliases
from datetime import UTC, datetime

import pytest

from breakingon.feeds.parse import parse_feed

NOW = datetime(2026, 1, 1, tzinfo=UTC)
URL = "http://feed.example/rss"
MARK = "EXPANDED"
DTD = f'<!DOCTYPE rss [<!ENTITY x "{MARK}">]>'
REST = (
    '<rss version="2.0"><channel><title>T &x;</title><link>http://feed.example/</link>'
    "<item><title>i &x;</title><link>http://feed.example/1</link>"
    "<description>d &x;</description></item></channel></rss>"
)
REFUSED = {"xml_forbidden_dtd", "xml_forbidden_encoding"}


def _utf7_all(s: str) -> str:
    """Every character in UTF-7's base64 form, so no "<" is visible as a byte."""
    return "+" + base64.b64encode(s.encode("utf-16-be")).decode().rstrip("=") + "-"


def _expanded(body: bytes, content_type: str = "") -> tuple[str | None, bool]:
    headers = {"content-type": content_type} if content_type else {}
    res = parse_feed(body, headers, URL, NOW)
    seen = [res.title, *(i.title for i in res.items), *(i.summary for i in res.items)]
    seen += [i.content_html for i in res.items]
    return res.error, any(MARK in s for s in seen)


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (f'<?xml version="1.0" encoding="utf-7"?>{_utf7_all(DTD)}{REST}'.encode(), ""),
        (f'<?xml version="1.0" encoding="utf-7"?>{_utf7_all(DTD)}{REST}<!--\xff-->'.encode(), ""),
        (f'<?xml version="1.0" encoding="UTF7"?>{_utf7_all(DTD + REST)}'.encode(), ""),
        (f"{_utf7_all(DTD)}{REST}".encode() + b"\xff", "application/rss+xml; charset=utf-7"),
        (f"{_utf7_all(DTD)}{REST}".encode(), "text/xml; charset=UTF-7"),
        (
            f'<?xml version="1.0"{" " * 900}encoding="utf-7"?>{_utf7_all(DTD)}{REST}'.encode()
            + b"\xff",
            "",
        ),
    ],
)
def test_utf7_is_refused_outright(body: bytes, content_type: str) -> None:
    error, expanded = _expanded(body, content_type)
    assert error == "xml_forbidden_encoding"
    assert not expanded


@pytest.mark.parametrize(
    "codec",
    ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "utf-8-sig"],
)
@pytest.mark.parametrize("declared", [True, False])
def test_unicode_encodings_with_and_without_bom_are_refused(codec: str, declared: bool) -> None:
    decl = f'<?xml version="1.0" encoding="{codec}"?>' if declared else ""
    error, expanded = _expanded((decl + DTD + REST).encode(codec))
    assert error == "xml_forbidden_dtd" and not expanded


@pytest.mark.parametrize("label", ["unicode_escape", "raw_unicode_escape", "base64", "rot13"])
def test_escape_and_transform_codecs_are_refused(label: str) -> None:
    hidden = DTD.replace("<", "\\x3c" if "raw" not in label else "\\u003c")
    body = f'<?xml version="1.0" encoding="{label}"?>{hidden}{REST}'.encode() + b"\xff"
    error, expanded = _expanded(body)
    assert error == "xml_forbidden_encoding" and not expanded
    error, expanded = _expanded(hidden.encode() + REST.encode(), f"text/xml; charset={label}")
    assert error == "xml_forbidden_encoding" and not expanded


def _text_codecs() -> list[str]:
    names: set[str] = set()
    for name in set(encodings.aliases.aliases.values()) | {"cp037", "cp1140", "cp875"}:
        try:
            info = codecs.lookup(name)
        except LookupError:
            continue
        if getattr(info, "_is_text_encoding", True):
            names.add(info.name)
    return sorted(names)


@pytest.mark.parametrize("codec", _text_codecs())
def test_no_codec_lets_an_entity_through(codec: str) -> None:
    """Declared in the document (with a byte that is not UTF-8, so the declaration is
    used) and in the header, the DTD is refused or at least never expanded."""
    decl = f'<?xml version="1.0" encoding="{codec}"?>'
    for text, content_type in (
        (decl + DTD + REST + "<!-- \xe9 -->", ""),
        (DTD + REST + "<!-- \xe9 -->", f"application/xml; charset={codec}"),
        (decl + DTD + REST, f"text/xml; charset={codec}"),
    ):
        try:
            body = text.encode(codec)
        except (UnicodeError, LookupError):
            body = text.encode(codec, errors="ignore") if codec != "undefined" else b""
        if not body:
            continue
        error, expanded = _expanded(body, content_type)
        assert not expanded, (codec, content_type, error)


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037"])
def test_a_harmless_doctype_in_another_encoding_is_dropped_and_parsed(codec: str) -> None:
    netscape = (
        '<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
        '"http://my.netscape.com/publish/formats/rss-0.91.dtd">'
    )
    for doctype in ("<!DOCTYPE rss>", netscape):
        doc = f'<?xml version="1.0" encoding="{codec}"?>{doctype}{REST.replace("&x;", "ok")}'
        res = parse_feed(doc.encode(codec), {}, URL, NOW)
        assert res.error is None, (codec, res.bozo)
        assert [i.title for i in res.items] == ["i ok"]


@pytest.mark.parametrize(
    "doctype",
    [
        "<!DOCTYPE rss" + " " * 3000 + "[<!ATTLIST rss version CDATA 'x'>]>",
        '<!DOCTYPE rss SYSTEM "http://127.0.0.1:9/evil.dtd">',
        "<! DOCTYPE rss [ ]>",
        "<!doctype rss PUBLIC '-//Evil//DTD//EN' 'http://127.0.0.1:9/x'>",
    ],
)
def test_subsets_external_and_unterminated_doctypes_are_refused(doctype: str) -> None:
    for codec in ("utf-8", "utf-16"):
        res = parse_feed((doctype + REST).encode(codec), {}, URL, NOW)
        assert res.error == "xml_forbidden_dtd", (codec, doctype[:40], res.error)


def test_many_unterminated_doctypes_are_scanned_in_linear_time() -> None:
    import time

    body = ("<!DOCTYPE a " * 200_000 + ">" + REST).encode()
    started = time.perf_counter()
    parse_feed(body, {}, URL, NOW)
    assert time.perf_counter() - started < 5
