"""Hostile and unusable images are refused with a clear code; good ones are re-encoded
from their pixels alone (no metadata survives) at the story and thumbnail sizes."""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

import pytest
from PIL import Image

from breakingon.extract.picture import (
    LEAD_MAX_WIDTH,
    MAX_IMAGE_BYTES,
    THUMB_WIDTH,
    ImageRejected,
    process_image,
)


def encoded(size: tuple[int, int], fmt: str = "JPEG", mode: str = "RGB", **save: object) -> bytes:
    img = Image.new(mode, size, (30, 120, 200) if mode == "RGB" else None)
    out = io.BytesIO()
    img.save(out, fmt, **save)
    return out.getvalue()


def png_bomb(width: int, height: int) -> bytes:
    """A PNG whose header declares `width` x `height` pixels (a few bytes of data)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + chunk(b"IEND", b"")
    )


def _code(data: bytes, content_type: str | None = "image/jpeg") -> str:
    with pytest.raises(ImageRejected) as info:
        process_image(data, content_type)
    return info.value.code


def test_a_photo_is_re_encoded_without_its_metadata() -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make
    exif[0x8825] = {2: (51.0, 30.0, 0.0)}  # GPS
    original = encoded((1600, 900), exif=exif.tobytes(), comment=b"tracking-id-42")
    done = process_image(original, "image/jpeg")
    assert done.lead.data != original
    assert (done.lead.width, done.lead.height) == (LEAD_MAX_WIDTH, 675)
    assert (done.thumb.width, done.thumb.height) == (THUMB_WIDTH, 180)
    for copy in (done.lead, done.thumb):
        assert copy.sha256 == hashlib.sha256(copy.data).hexdigest()
        assert copy.mime == "image/jpeg"
        assert b"SecretCam" not in copy.data and b"tracking-id-42" not in copy.data
        with Image.open(io.BytesIO(copy.data)) as im:
            assert im.format == "JPEG" and not im.getexif()
            assert "icc_profile" not in im.info and "comment" not in im.info


def test_png_with_transparency_webp_and_animated_gif_are_accepted() -> None:
    assert process_image(encoded((800, 600), "PNG", "RGBA"), "image/png").lead.width == 800
    assert process_image(encoded((800, 600), "WEBP"), "image/webp").lead.height == 600
    frames = [Image.new("RGB", (640, 360), c) for c in ((255, 0, 0), (0, 255, 0))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:])
    assert process_image(out.getvalue(), "image/gif").lead.width == 640


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    assert _code(png_bomb(50_000, 50_000), "image/png") == "too_many_pixels"
    assert _code(png_bomb(9_000, 9_000), "image/png") == "too_many_pixels"


def test_a_truncated_file_is_corrupt() -> None:
    data = encoded((1200, 675), quality=95)
    assert _code(data[: len(data) // 2]) == "corrupt"
    assert _code(data[:40]) in {"corrupt", "not_image"}


def test_svg_with_script_is_never_an_image() -> None:
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">' \
        b"<script>alert(document.cookie)</script></svg>"  # fmt: skip
    assert _code(svg, "image/svg+xml") == "bad_content_type"
    assert _code(svg, "image/jpeg") == "not_image"  # a lying header changes nothing
    assert _code(svg, None) == "not_image"


def test_wrong_content_type_and_non_images() -> None:
    assert _code(encoded((800, 600)), "text/html") == "bad_content_type"
    assert _code(b"<html><body>hello</body></html>", "image/jpeg") == "not_image"
    assert _code(encoded((800, 600), "BMP"), "image/jpeg") == "not_image"
    assert _code(b"") == "empty"
    assert _code(b"\xff" * (MAX_IMAGE_BYTES + 1)) == "too_large"


def test_tiny_pixels_and_absurd_shapes_are_refused() -> None:
    assert _code(encoded((1, 1), "GIF", "P"), "image/gif") == "too_small"
    assert _code(encoded((150, 120))) == "too_small"
    assert _code(encoded((2000, 300))) == "bad_aspect"
    assert _code(encoded((300, 1400))) == "bad_aspect"
