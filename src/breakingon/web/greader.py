"""The Google Reader API under /api/greader, for reader apps (NetNewsWire, Reeder,
ReadKit, FeedMe, Read You, FocusReader, Fluent Reader, NewsFlash, newsboat in FeedHQ
mode): a client's server address is BASE/api/greader, as with FreshRSS's greader.php.

- `accounts/ClientLogin` (Email, Passwd) answers `SID=..\\nLSID=..\\nAuth=..` (or JSON
  with `output=json`); failures are rate limited (`web.reader_auth`).
- Under `reader/api/0/`: `token`, `user-info`, `subscription/list|edit|quickadd`,
  `tag/list`, `unread-count`, and the streams (`web.greader_streams`):
  `stream/contents/<streamId>`, `stream/items/ids|contents`, `edit-tag`,
  `mark-all-as-read`; plus `reader/atom/<streamId>`, the Atom form FeedHQ clients read.

Every call but ClientLogin needs `Authorization: GoogleLogin auth=<Auth>` (or the
form field `T` with the same value); the token endpoint hands out that value as the
action token. A user's subscriptions are their follows (`user_follows`), each a
BreakingOn stream (`web.greader_ids`); folders are the kinds of follow. Answers are
never cached and name only the caller's own data. Handlers are thin: parse, a store
call or two, render with `web.greader_render`. No SQL here.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from breakingon.records import Follow, FollowKind
from breakingon.store.base import TooManyFollows
from breakingon.web import greader_ids as ids
from breakingon.web import greader_render as render
from breakingon.web import greader_streams as streams
from breakingon.web import reader_auth
from breakingon.web.greader_http import (
    PREFIX,
    BadRequest,
    Call,
    as_json,
    read_params,
    signed_in,
    text,
)
from breakingon.web.reader_follows import describe

API = PREFIX + "/reader/api/0"
MAX_EDIT = 100  # streams one subscription/edit may name


async def client_login(request: Request) -> Response:
    try:
        params = await read_params(request)
    except BadRequest as exc:
        return text(f"Error={exc}", 400)
    if "Passwd" in request.query_params:
        return text("Error=BadRequest: send the password in the body, not the URL", 400)
    name, password = params.get("Email").strip(), params.get("Passwd")
    wait = reader_auth.blocked(request, name)
    if wait is not None:
        return text("Error=TooManyAttempts", 429, **{"Retry-After": str(wait)})
    if not name or not password:
        return text("Error=BadAuthentication", 401)
    user = await reader_auth.password_user(request, name, password)
    if user is None:
        reader_auth.failed(request, name)
        return text("Error=BadAuthentication", 401)
    auth = reader_auth.reader_auth(user)
    if params.get("output") == "json":
        return as_json({"SID": auth, "LSID": auth, "Auth": auth})
    return text(f"SID={auth}\nLSID={auth}\nAuth={auth}\n")


async def token(call: Call) -> Response:
    return text(reader_auth.reader_auth(call.user))


async def user_info(call: Call) -> Response:
    uid = str(call.user.id)
    return as_json(
        {"userId": uid, "userName": call.user.name, "userProfileId": uid, "userEmail": ""}
    )


async def _follows(call: Call) -> list[Follow]:
    mine: list[Follow] = await call.run(call.store.list_follows, call.user.id)
    return mine


async def subscription_list(call: Call) -> Response:
    mine = await _follows(call)
    return as_json({"subscriptions": [render.subscription_json(f, call.base) for f in mine]})


async def tag_list(call: Call) -> Response:
    mine = await _follows(call)
    tags: list[dict[str, str]] = [{"id": ids.STARRED}]
    tags += [{"id": ids.LABEL_PREFIX + label, "type": "folder"} for label in ids.labels_of(mine)]
    return as_json({"tags": tags})


async def unread_count(call: Call) -> Response:
    mine = await _follows(call)
    counts = await call.run(call.store.unread_counts, call.user.id, mine, call.now)
    return as_json(render.unread_json(mine, counts))


async def _subscribe(call: Call, kind: FollowKind, value: str, title: str) -> Follow:
    value, default = await call.run(describe, call.store, kind, value)
    try:
        follow: Follow
        follow, _ = await call.run(
            call.store.add_follow, call.user.id, kind, value, title.strip() or default, call.now
        )
    except TooManyFollows as exc:
        raise BadRequest(str(exc)) from None
    return follow


async def subscription_edit(call: Call) -> Response:
    action = call.params.get("ac")
    names = call.params.all("s")
    titles = call.params.all("t")
    if not names or len(names) > MAX_EDIT:
        raise BadRequest(f"s: 1 to {MAX_EDIT} streams")
    if action not in ("subscribe", "unsubscribe", "edit"):
        raise BadRequest("ac: subscribe, unsubscribe or edit")
    mine = await _follows(call)
    by_stream = {ids.follow_stream(f): f for f in mine}
    for n, name in enumerate(names):
        kind, value = ids.parse_feed(ids.normal(name))
        title = titles[n] if n < len(titles) else ""
        current = by_stream.get(ids.stream_id(kind, value))
        if action == "subscribe":
            if current is None:
                await _subscribe(call, kind, value, title)
        elif action == "unsubscribe":
            if current is not None:
                await call.run(call.store.remove_follow, call.user.id, current.id)
        elif current is None:
            raise BadRequest(f"s: {name[:80]!r} is not a subscription")
        elif title.strip():
            await call.run(call.store.set_follow_title, call.user.id, current.id, title.strip())
        # a= / r= (folders) are the kinds of follow: nothing to move.
    return text("OK")


async def quickadd(call: Call) -> Response:
    query = call.params.get("quickadd").strip()
    if not query:
        raise BadRequest("quickadd: a BreakingOn page URL or stream id")
    kind, value = ids.stream_for_url(query, call.base)
    follow = await _subscribe(call, kind, value, "")
    return as_json(
        {
            "numResults": 1,
            "query": query,
            "streamId": ids.follow_stream(follow),
            "streamName": follow.title,
        }
    )


async def stream_contents(request: Request) -> Response:
    stream = request.path_params.get("stream", "")
    return await signed_in(lambda call: streams.stream_contents(call, stream))(request)


async def atom(request: Request) -> Response:
    stream = request.path_params.get("stream", "")
    return await signed_in(lambda call: streams.atom(call, stream))(request)


async def not_found(request: Request) -> Response:
    return text("Error=NotFound", 404)


def routes() -> list[BaseRoute]:
    """The Google Reader routes (mounted at the root by `create_app`)."""
    both = ["GET", "POST"]
    return [
        # POST only: a password in a query string would end up in access logs.
        Route(PREFIX + "/accounts/ClientLogin", client_login, methods=["POST"]),
        Route(API + "/token", signed_in(token), methods=both),
        Route(API + "/user-info", signed_in(user_info), methods=["GET"]),
        Route(API + "/subscription/list", signed_in(subscription_list), methods=["GET"]),
        Route(API + "/subscription/edit", signed_in(subscription_edit), methods=["POST"]),
        Route(API + "/subscription/quickadd", signed_in(quickadd), methods=["POST"]),
        Route(API + "/tag/list", signed_in(tag_list), methods=["GET"]),
        Route(API + "/unread-count", signed_in(unread_count), methods=["GET"]),
        Route(API + "/stream/contents", stream_contents, methods=both),
        Route(API + "/stream/contents/{stream:path}", stream_contents, methods=both),
        Route(API + "/stream/items/ids", signed_in(streams.item_ids), methods=both),
        Route(API + "/stream/items/contents", signed_in(streams.item_contents), methods=both),
        Route(API + "/edit-tag", signed_in(streams.edit_tag), methods=["POST"]),
        Route(API + "/mark-all-as-read", signed_in(streams.mark_all_read), methods=["POST"]),
        Route(PREFIX + "/reader/atom/{stream:path}", atom, methods=["GET"]),
        Route(PREFIX + "/{rest:path}", not_found, methods=both),
    ]
