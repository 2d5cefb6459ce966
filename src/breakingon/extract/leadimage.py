"""The lead image URL of an article page: og:image, twitter:image, JSON-LD, first figure.

`lead_image_url(html, url)` reads the page the crawler already fetched and returns the
first usable candidate, in this order: `og:image` (and `og:image:secure_url`),
`twitter:image`, the JSON-LD `image` of the article (a string, a list, or an
ImageObject), `<link rel="image_src">`, then the first `<img>` of a `<figure>` inside
the page's first `<article>` (else its `<main>`). Each is resolved against the page URL and refused
when it is not plain http(s) (data:, javascript:, blob:, relative nonsense), when its
declared size marks a tracking pixel or a tiny badge, or when its path names a logo,
icon, sprite, avatar or placeholder. `usable_image_url(url, base)` is the same check
for an image URL from elsewhere (a feed's media:content).

Pure: no network, no store; lxml only. The bytes are fetched and checked later
(`crawl.images`, `extract.picture`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from breakingon.feeds.sanitize import safe_url

MIN_DECLARED_WIDTH = 200  # a declared width below this is a badge, an icon or a pixel
_HEAD_BYTES = 600_000  # enough for every real page's head and lead figure

# Path words of images that are not a report's photograph.
_NOT_PHOTO = re.compile(
    r"(?i)(?:^|[/_.\-])(?:logo|logos|icon|icons|favicon|sprite|sprites|avatar|avatars|"
    r"placeholder|blank|spacer|pixel|1x1|transparent|badge|default[-_]?(?:image|share|og)|"
    r"apple-touch-icon|beacon|tracking|gravatar)(?:$|[/_.\-\d])"
)
_NOT_PHOTO_EXT = (".svg", ".svgz", ".ico", ".bmp", ".tif", ".tiff")
_META_KEYS = (
    ("property", "og:image:secure_url"),
    ("property", "og:image"),
    ("property", "og:image:url"),
    ("name", "og:image"),
    ("name", "twitter:image"),
    ("name", "twitter:image:src"),
    ("property", "twitter:image"),
)


def usable_image_url(url: str, base: str | None = None) -> str:
    """`url` resolved against `base` if it can be a report's photograph, else ""."""
    if not url or len(url) > 2000:
        return ""
    resolved = safe_url(url.strip(), base=base or None)
    if not resolved.startswith(("http://", "https://")):
        return ""
    path = resolved.split("?", 1)[0].split("#", 1)[0].split("://", 1)[-1]
    folders, _, tail = path.partition("/")[2].rpartition("/")
    if not tail or tail.lower().endswith(_NOT_PHOTO_EXT) or _NOT_PHOTO.search(tail):
        return ""
    # A folder counts only when it is the word itself (/icons/, /logos/), not a slug
    # that contains it (/pixel-9-review/).
    if any(_NOT_PHOTO.fullmatch(folder) for folder in folders.split("/") if folder):
        return ""
    return resolved


def _small(width: Any, height: Any) -> bool:
    """A declared size that is a pixel or a badge (unknown sizes pass)."""
    for value, floor in ((width, MIN_DECLARED_WIDTH), (height, 2)):
        text = str(value or "").strip().lower().removesuffix("px")
        if text.isdigit() and int(text) < floor:
            return True
    return False


def _ld_images(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > 4:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value[:5]:
            yield from _ld_images(item, depth + 1)
    elif isinstance(value, dict):
        if _small(value.get("width"), value.get("height")):
            return
        for key in ("url", "contentUrl"):
            if isinstance(value.get(key), str):
                yield value[key]
                return


def _ld_candidates(doc: Any) -> Iterator[str]:
    for script in list(doc.iter("script"))[:30]:
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        nodes = data if isinstance(data, list) else [data]
        graph = [n for item in nodes if isinstance(item, dict) for n in item.get("@graph", [])]
        for node in [*nodes, *graph][:20]:
            if not isinstance(node, dict):
                continue
            kind = node.get("@type")
            kinds = kind if isinstance(kind, list) else [kind]
            if any(isinstance(k, str) and k.endswith("Article") for k in kinds) or (
                "headline" in node
            ):
                yield from _ld_images(node.get("image"))
                yield from _ld_images(node.get("thumbnailUrl"))


def _figure_candidates(doc: Any) -> Iterator[str]:
    # The page's first <article> is the report (later ones are related-story cards).
    for root in doc.xpath("//article")[:1] or doc.xpath("//main")[:1]:
        for img in root.xpath(".//figure//img")[:5]:
            if _small(img.get("width"), img.get("height")):
                continue
            src = img.get("src") or img.get("data-src") or ""
            if src:
                yield src


def _candidates(doc: Any) -> Iterator[str]:
    metas = {}
    for meta in doc.iter("meta"):
        for attr in ("property", "name"):
            key = (meta.get(attr) or "").strip().lower()
            if key and (attr, key) not in metas:
                metas[(attr, key)] = meta
    declared = metas.get(("property", "og:image:width")), metas.get(("property", "og:image:height"))
    og_small = _small(*(m.get("content") if m is not None else None for m in declared))
    for key in _META_KEYS:
        meta = metas.get(key)
        if meta is None or (og_small and key[1].startswith("og:")):
            continue
        content = meta.get("content") or ""
        if content:
            yield content
    yield from _ld_candidates(doc)
    for link in doc.iter("link"):
        if (link.get("rel") or "").strip().lower() == "image_src" and link.get("href"):
            yield link.get("href")
    yield from _figure_candidates(doc)


def lead_image_url(html: str | bytes, url: str) -> str:
    """The page's lead image URL, absolute and plausible, or "" (never raises)."""
    import lxml.html

    head = html[:_HEAD_BYTES]
    if not head or not head.strip():
        return ""
    try:
        doc = lxml.html.document_fromstring(head)
    except Exception:  # an unparseable or hostile page has no lead image, it is no crash
        return ""
    base = url or None
    for candidate in _candidates(doc):
        found = usable_image_url(candidate, base)
        if found:
            return found
    return ""
