"""Check a fetched image and make the copies the site serves (Pillow).

`process_image(data, content_type)` decodes the bytes an outlet sent, refuses what is
not a photograph we can serve, and re-encodes two fresh JPEGs from the pixels alone: a
story-size copy (at most `LEAD_MAX_WIDTH` wide) and a thumbnail (`THUMB_WIDTH` wide).
The outlet's bytes are never kept or served: no EXIF, ICC profile, comment, XMP or
trailing data survives, and every copy is addressed by the sha256 of its own bytes.

Refusals are `ImageRejected(code, detail)`: "empty", "too_large" (bytes),
"bad_content_type" (not image/jpeg, png, webp or gif; SVG never), "not_image" (the bytes
are not one of those formats, whatever the header said), "too_many_pixels"
(decompression bombs: the header's size is checked before any pixel is decoded),
"corrupt" (truncated or damaged), "too_small", "bad_aspect".

Pure: bytes in, records out; no network, no store, no settings.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from breakingon.records import ImageFile

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # 40 MP: an 8000 x 5000 photograph; bombs declare far more
MIN_WIDTH = 200
MIN_HEIGHT = 100
MAX_ASPECT = 3.0  # wider than 3:1 or taller than 1:3 is a banner or a strip, not a photo
LEAD_MAX_WIDTH = 1200
THUMB_WIDTH = 320
JPEG_QUALITY = 82
ALLOWED_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}


class ImageRejected(ValueError):
    """The image cannot be served; `code` says why (see the module doc)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """The two copies the site serves of one accepted image."""

    lead: ImageFile
    thumb: ImageFile
    source_format: str  # what the outlet sent ("JPEG", "PNG", ...), for logs


def media_type(content_type: str | None) -> str:
    """The bare media type of a Content-Type header value, lower case."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_content_type(content_type: str | None) -> None:
    """Refuse a Content-Type that is not one of the raster types we accept."""
    kind = media_type(content_type)
    if kind not in ALLOWED_TYPES:
        raise ImageRejected("bad_content_type", f"Content-Type {kind or 'missing'!r}")


def _encode(img: object, width: int) -> ImageFile:
    from PIL import Image

    assert isinstance(img, Image.Image)
    if img.width > width:
        height = max(1, round(img.height * width / img.width))
        img = img.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    # A fresh image from the pixels: no info dict, so no EXIF, ICC, XMP or comment.
    clean = Image.frombytes("RGB", img.size, img.tobytes())
    clean.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    data = out.getvalue()
    return ImageFile(
        sha256=hashlib.sha256(data).hexdigest(),
        data=data,
        mime="image/jpeg",
        width=clean.width,
        height=clean.height,
    )


def process_image(data: bytes, content_type: str | None = None) -> ProcessedImage:
    """Check `data` and return the re-encoded lead copy and thumbnail (or raise
    `ImageRejected`). `content_type`: the response's header, None when not known."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ImageRejected("empty")
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageRejected("too_large", f"{len(data)} bytes > {MAX_IMAGE_BYTES}")
    if content_type is not None:
        check_content_type(content_type)
    head = data[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype", b"<html")) or b"<svg" in head:
        raise ImageRejected("not_image", "markup (SVG or HTML), not a raster image")
    try:
        # formats=: only the four raster decoders we accept are ever tried.
        img = Image.open(io.BytesIO(data), formats=list(_FORMATS))
    except UnidentifiedImageError as exc:
        raise ImageRejected("not_image", "not a JPEG, PNG, WebP or GIF") from exc
    except Image.DecompressionBombError as exc:
        raise ImageRejected("too_many_pixels", str(exc)) from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ImageRejected("corrupt", str(exc)[:200]) from exc
    with img:
        width, height = img.size
        if width * height > MAX_PIXELS:
            raise ImageRejected("too_many_pixels", f"{width}x{height} > {MAX_PIXELS} pixels")
        if width < MIN_WIDTH or height < MIN_HEIGHT:
            raise ImageRejected("too_small", f"{width}x{height}")
        if max(width / height, height / width) > MAX_ASPECT:
            raise ImageRejected("bad_aspect", f"{width}x{height}")
        source_format = str(img.format)
        try:
            img.verify()  # structure check (checksums, truncation) before decoding
        except Exception as exc:
            raise ImageRejected("corrupt", str(exc)[:200] or type(exc).__name__) from exc
    try:
        with Image.open(io.BytesIO(data), formats=list(_FORMATS)) as img:
            img.seek(0)  # an animated GIF or WebP: its first frame
            img.load()
            rgb = ImageOps.exif_transpose(img) or img
            if rgb.mode in ("RGBA", "LA", "P", "PA"):
                rgba = rgb.convert("RGBA")
                flat = Image.new("RGB", rgba.size, (255, 255, 255))
                flat.paste(rgba, mask=rgba.getchannel("A"))
                rgb = flat
            else:
                rgb = rgb.convert("RGB")
            lead = _encode(rgb, LEAD_MAX_WIDTH)
            thumb = _encode(rgb, THUMB_WIDTH)
    except ImageRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise ImageRejected("too_many_pixels", str(exc)) from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageRejected("corrupt", str(exc)[:200] or type(exc).__name__) from exc
    return ProcessedImage(lead=lead, thumb=thumb, source_format=source_format)
