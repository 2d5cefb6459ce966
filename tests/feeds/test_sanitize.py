"""HTML sanitizing: RELIABILITY D1 (script vectors), D2 (URL schemes), D3 (plain-text
fields), D5 (rel=noopener) at the sanitizer level, plus a hypothesis fuzz of the invariant."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from breakingon.feeds.parse import parse_feed
from breakingon.feeds.sanitize import html_to_text, safe_url, sanitize_html, text_without_tags

DATA = Path(__file__).resolve().parents[1] / "data" / "feeds"
EXECUTABLE = re.compile(
    r"<\s*(script|iframe|object|embed|style|form|meta|svg|base|link)\b|<[^>]*\son\w+\s*=|"
    r"<[^>]*=\s*[\"']?\s*(javascript|vbscript|data):",
    re.IGNORECASE,
)

VECTORS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" ONERROR="alert(1)">',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="javascript:alert(1)">',
    "<style>@import 'http://evil.example/x.css';</style>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "</body></html><script>alert(1)</script>",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<!-- <script>alert(1)</script> -->",
    "<!--[if gte IE 4]><script>alert(1)</script><![endif]-->",
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="jav\tascript:alert(1)">x</a>',
    '<a href=" \x01javascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    '<video poster="javascript:alert(1)"></video>',
    '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
    '<img srcset="http:a<script>alert(1)</script> 1x">',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<body onload="alert(1)">',
    '<input autofocus onfocus="alert(1)">',
    '<details open ontoggle="alert(1)">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<base href="javascript:alert(1)//">',
    '"><img src=x onerror=alert(1)>',
]


@pytest.mark.parametrize("vector", VECTORS)
def test_d1_d2_vectors_leave_no_executable_markup(vector: str) -> None:
    out = sanitize_html(f"<p>before {vector} after</p>", base_url="https://site.example/a/")
    assert not EXECUTABLE.search(out), out
    assert "before" in out
    assert sanitize_html(out) == out  # idempotent: already well-formed


def test_d2_only_http_https_mailto_survive_and_relative_links_resolve() -> None:
    out = sanitize_html(
        '<a href="/x">rel</a><a href="https://ok.example/">abs</a>'
        '<a href="mailto:a@b.example">m</a>'
        '<a href="ftp://f.example/">f</a><img src="pic.jpg" alt="p">',
        base_url="https://site.example/news/item",
    )
    assert 'href="https://site.example/x"' in out
    assert 'href="https://ok.example/"' in out
    assert 'href="mailto:a@b.example"' in out
    assert "ftp:" not in out
    assert 'src="https://site.example/news/pic.jpg"' in out


def test_d5_links_get_rel_noopener_noreferrer() -> None:
    out = sanitize_html('<a href="https://x.example/" target="_blank" rel="opener">x</a>')
    assert 'rel="noopener noreferrer"' in out
    assert "target" not in out and 'opener"' not in out.replace("noopener", "")


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:image/png;base64,AA",
        " vbscript:x",
        "file:///etc/passwd",
        "",
        "//x",
    ],
)
def test_d2_safe_url_refuses_non_http(url: str) -> None:
    assert safe_url(url) == ""


def test_safe_url_keeps_and_resolves_http() -> None:
    assert safe_url(" https://img.example/a.jpg ") == "https://img.example/a.jpg"
    assert safe_url("/a.jpg", base="http://img.example/x/") == "http://img.example/a.jpg"


def test_d3_plain_text_fields_hold_no_markup() -> None:
    assert html_to_text('"><img src=x onerror=alert(1)>{{7*7}} &amp;quot;') == '">{{7*7}} &quot;'
    assert html_to_text("<p>a</p><p>b<br>c</p><script>x()</script>") == "a\nb\nc"
    assert html_to_text("&lt;script&gt;alert(1)&lt;/script&gt;Hi") == "Hi"  # double-escaped
    assert html_to_text("x < y and AT&T") == "x < y and AT&T"


@pytest.mark.parametrize("vector", VECTORS)
def test_d3_plain_text_never_holds_a_tag(vector: str) -> None:
    # an extractor's output: the page escaped the markup, so it arrives here as text
    text = text_without_tags(f"Officials said {vector} on Tuesday. x < y, AT&amp;T")
    assert not re.search(r"<[a-zA-Z/!?]", text), text
    assert not EXECUTABLE.search(text), text
    assert text.startswith("Officials said ") and text.endswith(" x < y, AT&amp;T")


def test_d3_plain_text_keeps_blanks_and_defeats_nesting() -> None:
    assert text_without_tags("a\n\nb  c") == "a\n\nb  c"
    assert text_without_tags("<<b>img src=x onerror=alert(1)>") == ""
    assert "<" not in text_without_tags("<<<<b>b>b>img src=x onerror=alert(1)>")
    assert text_without_tags("< script>alert(1)") == "\u2039 script>alert(1)"
    assert text_without_tags("<img src=x onerror=alert(1)") == "\u2039img src=x onerror=alert(1)"


def test_d3_hostile_feed_fields_are_text_and_urls_are_http_only() -> None:
    result = parse_feed(
        (DATA / "hostile_items.xml").read_bytes(),
        {},
        "http://hostile.example/rss",
        __import__("datetime").datetime(2025, 1, 1, tzinfo=__import__("datetime").UTC),
    )
    assert result.error is None
    assert "<" not in result.title and "{{7*7}}" in result.title
    item = result.items[0]
    for value in (item.title, item.summary, *item.authors, *item.categories):
        assert not re.search(r"<\s*[a-zA-Z/!]", value), value
    assert item.url == ""  # javascript: link dropped
    assert item.image == ""  # javascript: thumbnail and data: enclosure dropped
    assert not EXECUTABLE.search(item.content_html), item.content_html
    # The nested CDATA breaks the description: feedparser hands it over as escaped text,
    # which stays inert text (&lt;script&gt;), never markup.
    assert "Hi" in item.summary and "Hi" in item.content_html


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["<", ">", "/", "script", "img", "svg", "a", " ", "=", '"', "'", "on", "load",
             "error", "href", "src", "javascript", ":", "&#x09;", "&lt;", "<!--", "-->",
             "<![CDATA[", "]]>", "iframe", "style", "data", "alert(1)", "\x00", "\t"]
        ),
        max_size=40,
    )
)  # fmt: skip
@example(["<", " ", "script", "script"])  # "< scriptscript" once slipped through
def test_d1_fuzzed_fragments_keep_the_invariant(parts: list[str]) -> None:
    out = sanitize_html("".join(parts))
    assert not EXECUTABLE.search(out), out
    text = html_to_text("".join(parts))
    assert not re.search(r"<\s*script", text, re.IGNORECASE)
