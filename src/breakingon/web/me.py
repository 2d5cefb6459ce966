"""The readers' own-data JSON API under /api/me, for scripts and apps of their own:
`Authorization: Bearer <token>` with a per-user token from `breakingon users token
NAME` (only its sha256 is stored). The admin API and its token are unrelated.

- `GET /api/me`: who the token belongs to.
- `GET /api/me/follows`, `POST /api/me/follows` ({"kind", "value", "title"?}: 201 when
  new, 200 when already followed), `DELETE /api/me/follows/{id}`.
- `GET /api/me/items/{story id}`, `PUT /api/me/items/{story id}` ({"read"?,
  "starred"?}): the user's state of one story.

A missing, wrong or revoked token is 401; another user's follow is 404, as is a story
that does not exist. Bad input is 422 (shape) or 400 (a stream that names nothing).
Documented in `web.openapi_me`. Handlers are thin: parse, one store call, JSON.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from breakingon.records import FOLLOW_KINDS, Follow, ItemState, User
from breakingon.store.base import Store, TooManyFollows
from breakingon.store.base_accounts import ItemQuery
from breakingon.web import greader_ids as ids
from breakingon.web.api import error_response
from breakingon.web.params import ParamError, parse_id
from breakingon.web.reader_auth import bearer_user
from breakingon.web.reader_follows import describe

NO_STORE = {"Cache-Control": "no-store"}


def _iso(dt: Any) -> str | None:
    return dt.isoformat() if dt is not None else None


def follow_json(f: Follow, base: str) -> dict[str, Any]:
    return {
        "id": f.id,
        "kind": f.kind,
        "value": f.value,
        "title": f.title,
        "stream_id": ids.follow_stream(f),
        "url": ids.page_url(base, f.kind, f.value),
        "created_at": _iso(f.created_at),
        "last_seen_at": _iso(f.last_seen_at),
    }


def state_json(story_id: int, s: ItemState | None) -> dict[str, Any]:
    read_at = s.read_at if s is not None else None
    starred_at = s.starred_at if s is not None else None
    return {
        "story_id": story_id,
        "read": read_at is not None,
        "starred": starred_at is not None,
        "read_at": _iso(read_at),
        "starred_at": _iso(starred_at),
    }


def _ok(value: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(value, status_code=status, headers=NO_STORE)


async def _who(request: Request) -> User | Response:
    """The token's user, or the 401 to answer."""
    user = await bearer_user(request)
    if user is None:
        resp = error_response(401, "unauthorized")
        resp.headers["WWW-Authenticate"] = "Bearer"
        return resp
    return user


def _ctx(request: Request) -> tuple[Store, str]:
    st = request.app.state
    return st.store, st.settings.public_base_url.rstrip("/")


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        raise ParamError("body", "expected a JSON object") from None
    if not isinstance(body, dict):
        raise ParamError("body", "expected a JSON object")
    return body


def _string(body: dict[str, Any], name: str, limit: int, required: bool = False) -> str:
    value = body.get(name, "")
    if not isinstance(value, str) or len(value) > limit or (required and not value):
        raise ParamError(name, f"expected a string of at most {limit} characters")
    return value.strip()


async def me(request: Request) -> Response:
    user = await _who(request)
    if isinstance(user, Response):
        return user
    store, _ = _ctx(request)
    follows = await run_in_threadpool(store.list_follows, user.id)
    return _ok(
        {
            "id": user.id,
            "name": user.name,
            "created_at": _iso(user.created_at),
            "follows": len(follows),
        }
    )


async def list_follows(request: Request) -> Response:
    user = await _who(request)
    if isinstance(user, Response):
        return user
    store, base = _ctx(request)
    follows = await run_in_threadpool(store.list_follows, user.id)
    return _ok({"follows": [follow_json(f, base) for f in follows]})


async def add_follow(request: Request) -> Response:
    user = await _who(request)
    if isinstance(user, Response):
        return user
    store, base = _ctx(request)
    body = await _body(request)
    kind = body.get("kind")
    if kind not in FOLLOW_KINDS:
        raise ParamError("kind", f"expected one of {', '.join(FOLLOW_KINDS)}")
    raw = body.get("value", "")
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    value = _string({"value": raw}, "value", 500)
    title = _string(body, "title", 200)
    try:
        value, default = await run_in_threadpool(describe, store, kind, value)
        follow, created = await run_in_threadpool(
            store.add_follow, user.id, kind, value, title or default, request.app.state.clock()
        )
    except ids.BadStream as exc:
        return error_response(400, "no_such_stream", str(exc))
    except TooManyFollows as exc:
        return error_response(400, "too_many_follows", str(exc))
    return _ok({"follow": follow_json(follow, base), "created": created}, 201 if created else 200)


async def remove_follow(request: Request) -> Response:
    user = await _who(request)
    if isinstance(user, Response):
        return user
    store, _ = _ctx(request)
    follow_id = parse_id("id", request.path_params["id"])
    assert follow_id is not None
    if not await run_in_threadpool(store.remove_follow, user.id, follow_id):
        return error_response(404, "not_found")
    return _ok({"removed": True, "id": follow_id})


async def _story_state(request: Request, store: Store, user: User, sid: int) -> Response:
    q = ItemQuery(user.id, request.app.state.clock(), story_ids=(sid,), limit=1)
    found = await run_in_threadpool(store.reader_items, q)
    if not found:
        return error_response(404, "not_found")
    return _ok(state_json(sid, found[0].state))


async def get_item(request: Request) -> Response:
    user = await _who(request)
    if isinstance(user, Response):
        return user
    store, _ = _ctx(request)
    sid = parse_id("id", request.path_params["id"])
    assert sid is not None
    return await _story_state(request, store, user, sid)


async def put_item(request: Request) -> Response:
    user = await _who(request)
    if isinstance(user, Response):
        return user
    store, _ = _ctx(request)
    sid = parse_id("id", request.path_params["id"])
    assert sid is not None
    body = await _body(request)
    flags: dict[str, bool | None] = {}
    for name in ("read", "starred"):
        value = body.get(name)
        if value is not None and not isinstance(value, bool):
            raise ParamError(name, "expected true or false")
        flags[name] = value
    now = request.app.state.clock()
    await run_in_threadpool(
        store.set_item_states, user.id, [sid], now, flags["read"], flags["starred"]
    )
    return await _story_state(request, store, user, sid)


def routes() -> list[BaseRoute]:
    return [
        Route("/api/me", me, methods=["GET"]),
        Route("/api/me/follows", list_follows, methods=["GET"]),
        Route("/api/me/follows", add_follow, methods=["POST"]),
        Route("/api/me/follows/{id}", remove_follow, methods=["DELETE"]),
        Route("/api/me/items/{id}", get_item, methods=["GET"]),
        Route("/api/me/items/{id}", put_item, methods=["PUT"]),
    ]
