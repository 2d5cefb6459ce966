"""Which member's image leads a story: an ordered shortlist of image URLs to try.

`image_shortlist(candidates, representative_article_id, weights)` puts first the image of
the article the story stage chose to represent the story (its lead report), then the
other original reports' images, the most prominent outlet (operator weight) and the
earliest report first; syndicated copies come last, and each URL appears once. Every
URL passes `extract.leadimage.usable_image_url` again (a feed's media:content URL
was never checked). The image stage fetches them in this order until one passes.

Pure: records in, a tuple out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from breakingon.extract.leadimage import usable_image_url
from breakingon.records import ImageCandidate

SHORTLIST = 4  # at most this many URLs are tried for one story update


def image_shortlist(
    candidates: Sequence[ImageCandidate],
    representative_article_id: int | None,
    weights: Mapping[str, float] | None = None,
    limit: int = SHORTLIST,
) -> tuple[ImageCandidate, ...]:
    """The candidates worth fetching, best first (see the module doc)."""
    weights = weights or {}

    def key(c: ImageCandidate) -> tuple[int, int, float, float, int]:
        return (
            0 if c.article_id == representative_article_id else 1,
            1 if c.duplicate else 0,
            -weights.get(c.outlet, 1.0),
            c.published.timestamp(),
            c.article_id,
        )

    seen: set[str] = set()
    out: list[ImageCandidate] = []
    for c in sorted(candidates, key=key):
        url = usable_image_url(c.url)
        if not url or url in seen:
            continue
        seen.add(url)
        out.append(c if url == c.url else ImageCandidate(
            c.article_id, url, c.outlet, c.published, c.duplicate
        ))  # fmt: skip
        if len(out) >= limit:
            break
    return tuple(out)
