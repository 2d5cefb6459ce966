"""Image fetches get the page Fetcher's rules plus a byte cap and a raster-type check."""

from __future__ import annotations

import asyncio
import io

import pytest
from faultserver import (
    LOOPBACK_POLICY,
    ConnectLog,
    FakeResolver,
    FaultServer,
    ok,
    redirect,
    small_settings,
)
from PIL import Image

from breakingon.crawl.http import Fetcher
from breakingon.crawl.images import fetch_image
from breakingon.records import FetchResult

pytestmark = pytest.mark.timeout(30)


def jpeg(size: tuple[int, int] = (400, 300)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 40, 40)).save(out, "JPEG")
    return out.getvalue()


def _fetch(url: str, max_bytes: int | None = None, **kw: object) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(small_settings(), LOOPBACK_POLICY, **kw) as f:  # type: ignore[arg-type]
            if max_bytes is None:
                return await fetch_image(f, url)
            return await fetch_image(f, url, max_bytes=max_bytes)

    return asyncio.run(go())


def test_a_jpeg_is_fetched(server: FaultServer) -> None:
    body = jpeg()
    server.routes["/a.jpg"] = ok(body, {"Content-Type": "image/jpeg"})
    res = _fetch(server.url("/a.jpg"))
    assert res.error is None and res.body == body
    assert "image/" in (server.hits("/a.jpg")[0].headers.get("accept") or "")


@pytest.mark.parametrize(
    "content_type", ["text/html; charset=utf-8", "image/svg+xml", "application/octet-stream", ""]
)
def test_a_wrong_content_type_is_refused_with_no_body(
    server: FaultServer, content_type: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    server.routes["/x.jpg"] = ok(b"<svg onload=alert(1)></svg>", headers)
    res = _fetch(server.url("/x.jpg"))
    assert res.error == "bad_content_type" and res.body == b""


def test_an_oversize_body_is_refused(server: FaultServer) -> None:
    server.routes["/big.jpg"] = ok(b"\xff" * 300_000, {"Content-Type": "image/jpeg"})
    res = _fetch(server.url("/big.jpg"), max_bytes=100_000)
    assert res.error == "too_large" and res.body == b""


def test_a_redirect_to_a_private_address_never_connects(server: FaultServer) -> None:
    server.routes["/lead.jpg"] = redirect("http://internal.example/secret.jpg")
    resolver = FakeResolver({"img.test": ["127.0.0.1"], "internal.example": ["10.0.0.5"]})
    hook = ConnectLog()
    res = _fetch(f"http://img.test:{server.port}/lead.jpg", resolver=resolver, connect_hook=hook)
    assert res.error == "address_not_allowed"
    assert all(ip == "127.0.0.1" for _, ip, _ in hook.attempts)
    assert "internal.example" in resolver.calls
