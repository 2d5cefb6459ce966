"""The HTTP side of the Google Reader API, shared by its handlers (and the Fever API's):
request parameters (query string and url-encoded or multipart body, repeated names
kept, bounded, no files), the sign-in check,
plain-text and JSON answers that are never cached, and bad input as 400.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from breakingon.records import User
from breakingon.store.base import Store
from breakingon.web.greader_ids import BadStream
from breakingon.web.reader_auth import google_user

PREFIX = "/api/greader"
MAX_FIELDS = 2_000  # parameters in one request (i= may repeat: items in one call)
NO_STORE = {"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*"}


class BadRequest(ValueError):
    """Input the API cannot act on; answered 400 with the message."""


@dataclass(frozen=True, slots=True)
class Params:
    """Every parameter of a request, by name, in order (query string, then body)."""

    values: dict[str, list[str]]

    def get(self, name: str, default: str = "") -> str:
        got = self.values.get(name)
        return got[0] if got else default

    def all(self, name: str) -> list[str]:
        return self.values.get(name, [])

    def int(self, name: str, default: int, lo: int, hi: int) -> int:
        raw = self.get(name).strip()
        if not raw:
            return default
        if not raw.lstrip("-").isdigit() or len(raw) > 20:
            raise BadRequest(f"{name}: expected an integer")
        return min(hi, max(lo, int(raw)))


async def read_params(request: Request) -> Params:
    pairs = list(request.query_params.multi_items())
    if request.method == "POST":
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if kind == "multipart/form-data":
            try:
                form = await request.form(max_files=0, max_fields=MAX_FIELDS)
            except Exception:  # python-multipart's errors: a malformed or oversized form
                raise BadRequest("the body is not a valid form") from None
            pairs += [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
            return _collect(pairs)
        body = await request.body()
        if body and kind not in ("", "application/x-www-form-urlencoded", "text/plain"):
            raise BadRequest("send the parameters url-encoded")
        try:
            text = body.decode("utf-8")
            pairs += parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("the body is not url-encoded UTF-8") from None
    return _collect(pairs)


def _collect(pairs: list[tuple[str, str]]) -> Params:
    if len(pairs) > MAX_FIELDS:
        raise BadRequest("too many parameters")
    values: dict[str, list[str]] = {}
    for name, value in pairs:
        values.setdefault(name, []).append(value)
    return Params(values)


def text(body: str, status: int = 200, **headers: str) -> Response:
    return Response(
        body, status, media_type="text/plain; charset=utf-8", headers={**NO_STORE, **headers}
    )


def as_json(value: Any, status: int = 200) -> Response:
    data = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    return Response(data, status, media_type="application/json", headers=NO_STORE)


def unauthorized() -> Response:
    return text(
        "Unauthorized", 401, **{"Google-Bad-Token": "true", "WWW-Authenticate": "GoogleLogin"}
    )


@dataclass(frozen=True, slots=True)
class Call:
    """A signed-in call: who, what they sent, the store, the site's base URL and now."""

    user: User
    params: Params
    store: Store
    base: str
    now: datetime

    async def run(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """A store call in a worker thread."""
        return await run_in_threadpool(fn, *args, **kw)


Handler = Callable[[Call], Awaitable[Response]]


def signed_in(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Wrap `handler`: parse the parameters, check the sign-in (401 otherwise), answer
    bad input with 400."""

    async def endpoint(request: Request) -> Response:
        try:
            params = await read_params(request)
        except BadRequest as exc:
            return text(f"Error={exc}", 400)
        user = await google_user(request, params.get("T"))
        if user is None:
            return unauthorized()
        st = request.app.state
        call = Call(user, params, st.store, st.settings.public_base_url.rstrip("/"), st.clock())
        try:
            return await handler(call)
        except (BadRequest, BadStream) as exc:
            return text(f"Error={exc}", 400)

    return endpoint
