"""HTML sanitizing for feed and page content (scripts, dangerous URL schemes, framing).

`sanitize_html` runs nh3 (ammonia) with an allowlist: no script, style, iframe,
object, embed, form or meta survives, no on*= handler, only http, https and mailto
URLs, and every link gets rel="noopener noreferrer". `html_to_text` turns HTML into
plain text for text-only fields; `text_without_tags` makes already-plain text (an
extractor's output) free of anything a parser would read as a tag; `safe_url` keeps
http(s) URLs only (enclosures, thumbnails, images). Pure functions: no I/O, no network,
no settings, no store.
"""

from __future__ import annotations

import html as _html
import re
from urllib.parse import urljoin, urlsplit

import nh3

_ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "acronym", "article", "aside", "b", "bdi", "bdo", "blockquote", "br",
        "caption", "center", "cite", "code", "col", "colgroup", "data", "dd", "del",
        "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure", "footer", "h1",
        "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "i", "img", "ins", "kbd",
        "li", "mark", "ol", "p", "pre", "q", "rp", "rt", "rtc", "ruby", "s", "samp",
        "section", "small", "span", "strike", "strong", "sub", "summary", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "wbr",
    }
)  # fmt: skip
# Removed together with everything inside them (not just the tag).
_DROP_WITH_CONTENT = frozenset(
    {
        "script", "style", "iframe", "object", "embed", "form", "meta", "noscript",
        "template", "svg", "math", "frame", "frameset", "applet", "textarea", "select",
        "button", "link", "base", "title", "head", "audio", "video", "canvas",
    }
)  # fmt: skip
_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "hreflang", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "acronym": {"title"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "del": {"cite", "datetime"},
    "ins": {"cite", "datetime"},
    "time": {"datetime"},
    "td": {"colspan", "rowspan", "headers"},
    "th": {"colspan", "rowspan", "headers", "scope"},
    "ol": {"start"},
    "bdo": {"dir"},
}
_URL_SCHEMES = frozenset({"http", "https", "mailto"})
_URL_ATTRS = frozenset({"href", "src", "cite"})
_CTRL = re.compile(r"[\x00-\x1f\x7f]")
_BLOCK_BREAK = re.compile(
    r"<(?:br|hr|/?p|/?div|/?li|/?ul|/?ol|/?h[1-6]|/?blockquote|/?pre|/?tr|/?table|"
    r"/?section|/?article|/?header|/?footer|/?figure|/?figcaption|/?dd|/?dt|/?dl)\b[^>]*>",
    re.IGNORECASE,
)
_ANY_TAG = re.compile(r"<[^>]*>")
_TAG_LIKE = re.compile(r"<[a-zA-Z/!?]")
_SPACED_TAG_LIKE = re.compile(
    r"<(?=\s*/?\s*(?:script|iframe|frame|object|embed|style|svg|math|img|link|meta|base|form))",
    re.IGNORECASE,
)
# What an HTML parser opens a tag with: "<" right before a letter, "/", "!" or "?".
_TAG_SHAPED = re.compile(r"<[a-zA-Z/!?][^<>]*>")
_TAG_OPEN = re.compile(r"<(?=[a-zA-Z/!?])")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_NEWLINES = re.compile(r"\s*\n\s*")


def safe_url(url: str, base: str | None = None) -> str:
    """Return `url` (resolved against `base`) if it is http(s), else ""."""
    value = _CTRL.sub("", url or "").strip()
    if not value:
        return ""
    try:
        if base:
            value = urljoin(_CTRL.sub("", base).strip(), value)
        parts = urlsplit(value)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return ""
    return value


def _url_filter(base_url: str | None) -> object:
    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        if attr not in _URL_ATTRS:
            return value
        cleaned = _CTRL.sub("", value).strip()
        if not cleaned:
            return None
        try:
            resolved = urljoin(base_url, cleaned) if base_url else cleaned
            scheme = urlsplit(resolved).scheme.lower()
        except ValueError:
            return None
        if scheme in ("http", "https") or (scheme == "mailto" and attr == "href"):
            return resolved
        if not scheme:  # still relative (no base): keep, ammonia passes it through
            return resolved if not resolved.lstrip().startswith("//") else "https:" + resolved
        return None

    return attribute_filter


def sanitize_html(html: str, base_url: str | None = None) -> str:
    """Return `html` cleaned by an allowlist; relative links resolved against `base_url`."""
    if not html:
        return ""
    return nh3.clean(
        html,
        tags=set(_ALLOWED_TAGS),
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes=_ATTRIBUTES,
        attribute_filter=_url_filter(base_url),  # type: ignore[arg-type]
        url_schemes=set(_URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: markup and script/style content removed.

    Block elements become line breaks; runs of blanks collapse to one space. Feeds
    often escape their HTML twice, so text that still looks like markup after one
    pass is stripped again (at most three passes): a text field never holds a tag.
    """
    text = html or ""
    for _ in range(3):
        text = _strip_once(text)
        if not _TAG_LIKE.search(text):
            break
    else:
        text = text.replace("<", "\u2039").replace(">", "\u203a")
    text = _SPACES.sub(" ", _CTRL.sub(lambda m: "\n" if m.group() == "\n" else " ", text))
    # "< script" is text to a parser, but reads as a tag to a careless consumer: a "<"
    # before the name of an active element, even across blanks, becomes the look-alike
    # "‹" ("x < y" stays as it is).
    text = _SPACED_TAG_LIKE.sub("\u2039", text)
    return _NEWLINES.sub("\n", text).strip()


def text_without_tags(text: str) -> str:
    """Plain `text` with every tag-shaped run ("<img onerror=...>", "</p>") removed.

    For text that is already plain (an extractor's output, where "&lt;img&gt;" in the
    page became "<img>"): entities are not decoded and blanks are kept as they are. A
    "<" that would still open a tag (unclosed, or nested to defeat one pass) becomes the
    look-alike "‹", as does "< script" (see `html_to_text`); "x < y" stays.
    """
    for _ in range(3):
        if not _TAG_SHAPED.search(text):
            break
        text = _TAG_SHAPED.sub("", text)
    return _SPACED_TAG_LIKE.sub("\u2039", _TAG_OPEN.sub("\u2039", text))


def _strip_once(html: str) -> str:
    if "<" not in html and "&" not in html:
        return html
    cleaned = nh3.clean(
        html,
        tags={"p", "br", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "pre"},
        clean_content_tags=set(_DROP_WITH_CONTENT),
        attributes={},
        link_rel=None,
        strip_comments=True,
    )
    return _html.unescape(_ANY_TAG.sub("", _BLOCK_BREAK.sub("\n", cleaned)))
