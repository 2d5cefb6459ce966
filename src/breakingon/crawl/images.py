"""Fetching a lead image: the page Fetcher's rules, a smaller cap, raster types only.

`fetch_image(fetcher, url)` goes through `Fetcher.fetch(kind="image")`, so an image gets
exactly what a page gets: the SSRF policy and allow-list on every hop (`NetPolicy`),
connections pinned to the checked address, hand-followed redirects, robots.txt,
per-host politeness, the connect/read timeouts and the total deadline. On top of
that, the body is capped at `IMAGE_MAX_BYTES` (declared and decoded) and the response
must say image/jpeg, image/png, image/webp or image/gif (never SVG, never HTML); the
bytes are checked again by `extract.picture`, whatever the header said.

Failures are `FetchResult.error` codes, as for pages: the Fetcher's, plus
"bad_content_type".
"""

from __future__ import annotations

import dataclasses

from breakingon.crawl.http import Fetcher
from breakingon.records import FetchResult

IMAGE_MAX_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


def image_type(res: FetchResult) -> str:
    """The response's bare media type, lower case ("" when missing)."""
    return (res.header("content-type") or "").split(";", 1)[0].strip().lower()


async def fetch_image(fetcher: Fetcher, url: str, max_bytes: int = IMAGE_MAX_BYTES) -> FetchResult:
    """Fetch one image URL under the crawler's rules; never raises for network trouble."""
    res = await fetcher.fetch(url, kind="image", max_bytes=max_bytes)
    if res.error is not None:
        return res
    if res.status == 304:
        return dataclasses.replace(res, error="http_304", detail="unexpected 304")
    kind = image_type(res)
    if kind not in IMAGE_TYPES:
        return dataclasses.replace(
            res, body=b"", error="bad_content_type", detail=f"Content-Type {kind or 'missing'!r}"
        )
    return res
