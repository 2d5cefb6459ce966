"""Lead images of the newsroom simulator's articles, drawn with Pillow.

Each article gets an image kind from a hash of its id (deterministic across runs):
most get a photograph-sized JPEG (`LEAD_SIZE`: a two-colour gradient with a few
shapes, all seeded by the id, so every article's image differs and replays give the
same bytes); some have no image at all; some point at an image the crawler must refuse:
too small (a 120 x 80 badge) or broken (a JPEG cut off half-way). `image_kind(id)`
says which, `render_image(id)` returns (content type, bytes) for the served URL.
"""

from __future__ import annotations

import hashlib
import io
import random
from functools import lru_cache
from typing import Literal

ImageKind = Literal["photo", "none", "small", "broken"]
LEAD_SIZE = (1200, 675)
SMALL_SIZE = (120, 80)
# Shares of the kinds, in hundredths (photo takes the rest).
_NONE, _SMALL, _BROKEN = 10, 5, 5


def image_kind(article_id: str) -> ImageKind:
    """Which image the article's page points at (deterministic, by the id's hash)."""
    bucket = int(hashlib.sha256(f"image:{article_id}".encode()).hexdigest()[:8], 16) % 100
    if bucket < _NONE:
        return "none"
    if bucket < _NONE + _SMALL:
        return "small"
    if bucket < _NONE + _SMALL + _BROKEN:
        return "broken"
    return "photo"


def _draw(article_id: str, size: tuple[int, int]) -> bytes:
    from PIL import Image, ImageDraw

    rng = random.Random(hashlib.sha256(article_id.encode()).digest())
    top = tuple(rng.randrange(256) for _ in range(3))
    bottom = tuple(rng.randrange(256) for _ in range(3))
    mask = Image.linear_gradient("L").resize(size)
    img = Image.composite(Image.new("RGB", size, bottom), Image.new("RGB", size, top), mask)
    draw = ImageDraw.Draw(img)
    w, h = size
    for _ in range(rng.randint(3, 7)):
        x, y = rng.randrange(w), rng.randrange(h)
        r = rng.randint(max(4, w // 20), max(8, w // 5))
        fill = tuple(rng.randrange(256) for _ in range(3))
        box = (x - r, y - r, x + r, y + r)
        if rng.random() < 0.5:
            draw.ellipse(box, fill=fill)
        else:
            draw.rectangle(box, fill=fill)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


@lru_cache(maxsize=512)
def render_image(article_id: str) -> tuple[str, bytes] | None:
    """(content type, bytes) served for the article's image URL; None: no image."""
    kind = image_kind(article_id)
    if kind == "none":
        return None
    if kind == "small":
        return "image/jpeg", _draw(article_id, SMALL_SIZE)
    data = _draw(article_id, LEAD_SIZE)
    if kind == "broken":
        return "image/jpeg", data[: len(data) // 2]
    return "image/jpeg", data
