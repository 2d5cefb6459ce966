"""Lead images served from the site's own origin: `/media/<sha256>.<ext>`.

The bytes are the re-encoded copies the image stage stored (never an outlet's file),
addressed by the sha256 of those bytes, so a URL's content never changes: responses
carry `Cache-Control: public, max-age=31536000, immutable` and the sha256 as ETag, the
stored content type (the extension must agree with it) and, like every response,
`X-Content-Type-Options: nosniff` and the CSP (`img-src 'self'`) of `web.security`.
An unknown or malformed name is a 404. The story-size copy and the thumbnail are two
images with two names.
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from breakingon.store.base import ReadStore

EXTENSIONS = {"image/jpeg": "jpg", "image/webp": "webp"}
_NAME = re.compile(r"^([0-9a-f]{64})\.(jpg|webp)$")
IMMUTABLE = "public, max-age=31536000, immutable"


def media_path(sha256: str, mime: str = "image/jpeg") -> str:
    """The site path of a stored image."""
    return f"/media/{sha256}.{EXTENSIONS.get(mime, 'jpg')}"


def _not_found() -> Response:
    return Response(
        b"not found\n",
        status_code=404,
        media_type="text/plain",
        headers={"cache-control": "no-store"},
    )


async def media(request: Request) -> Response:
    match = _NAME.match(request.path_params["name"])
    if match is None:
        return _not_found()
    sha256, ext = match.groups()
    etag = f'"{sha256}"'
    store: ReadStore = request.app.state.store
    image = await run_in_threadpool(store.get_image, sha256)
    if image is None or EXTENSIONS.get(image.mime) != ext:
        return _not_found()
    headers = {"cache-control": IMMUTABLE, "etag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(image.data, media_type=image.mime, headers=headers)


def routes() -> list[BaseRoute]:
    return [Route("/media/{name}", media, methods=["GET", "HEAD"])]
