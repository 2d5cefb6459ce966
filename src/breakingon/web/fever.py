"""The Fever API under /api/fever (`BASE/api/fever/?api`), as published at
feedafever.com/api, for Fever clients (Reeder, Unread, ReadKit, Fiery Feeds, ...).

Every request carries `api_key` = md5 hex of "name:password" (POSTed; the query string
is read too) and is answered `{"api_version": 3, "auth": 1, "last_refreshed_on_time":
...}` plus what it asks for: `groups` and `feeds` (each with `feeds_groups`),
`favicons`, `items` (50 at a time: `since_id`, `max_id`, `with_ids`; `total_items`),
`links` (none: BreakingOn has no hot links), `unread_item_ids`, `saved_item_ids`; and
the writes `mark=item&as=read|unread|saved|unsaved&id=N`, `mark=feed|group&as=read&
id=N&before=T` (group 0 is everything, -1 the Sparks, of which there are none).
`?api=xml` answers XML. A wrong or missing key is answered 401 with `auth: 0`, and
failures are rate limited like sign-ins (`web.reader_auth`).

Feeds are the user's follows (their ids), groups the kinds of follow (the folders of
the Google Reader API), items the stories of the followed streams (story ids, each in
the first follow it belongs to). Handlers are thin; no SQL here.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from breakingon.records import Follow, User
from breakingon.store.base import Store
from breakingon.store.base_accounts import ItemQuery, ReaderItem
from breakingon.web import greader_ids as ids
from breakingon.web import reader_auth
from breakingon.web.greader_http import BadRequest, Params, as_json, read_params
from breakingon.web.itemhtml import item_html

PATH = "/api/fever"
PAGE = 50  # items per request, as the API says
MAX_IDS = 50_000  # unread / saved ids in one answer
GROUPS: dict[str, int] = {label: n for n, label in enumerate(dict.fromkeys(ids.LABELS.values()), 1)}
_ICON = Path(__file__).parent / "static" / "favicon.svg"
NO_STORE = {"Cache-Control": "no-store"}


def _icon() -> str:
    return "image/svg+xml;base64," + base64.b64encode(_ICON.read_bytes()).decode()


def _xml(value: Any, tag: str, parent: ET.Element | None = None) -> ET.Element:
    el = ET.Element(tag) if parent is None else ET.SubElement(parent, tag)
    if isinstance(value, dict):
        for k, v in value.items():
            _xml(v, k, el)
    elif isinstance(value, list):
        child = tag[:-1] if tag.endswith("s") else "item"
        for v in value:
            _xml(v, child, el)
    else:
        el.text = str(value)
    return el


def _answer(request: Request, body: dict[str, Any], status: int = 200) -> Response:
    if request.query_params.get("api") == "xml":
        data = ET.tostring(_xml(body, "response"), encoding="utf-8", xml_declaration=True)
        return Response(data, status, media_type="text/xml; charset=utf-8", headers=NO_STORE)
    return as_json(body, status)


def _int(params: Params, name: str, lo: int = 0) -> int | None:
    raw = params.get(name).strip()
    if not raw:
        return None
    if not raw.lstrip("-").isdigit() or len(raw) > 12 or int(raw) < lo:
        raise BadRequest(f"{name}: expected an integer")
    return int(raw)


def _with_ids(params: Params) -> tuple[int, ...]:
    raw = [x.strip() for x in params.get("with_ids").split(",") if x.strip()]
    if len(raw) > PAGE or not all(x.isdigit() and len(x) < 12 for x in raw):
        raise BadRequest(f"with_ids: at most {PAGE} comma-separated item ids")
    return tuple(int(x) for x in raw)


def _group_of(f: Follow) -> int:
    return GROUPS[ids.LABELS[f.kind]]


def _feeds_groups(mine: list[Follow]) -> list[dict[str, Any]]:
    out: dict[int, list[str]] = {}
    for f in mine:
        out.setdefault(_group_of(f), []).append(str(f.id))
    return [{"group_id": g, "feed_ids": ",".join(v)} for g, v in sorted(out.items())]


def _item(i: ReaderItem, base: str) -> dict[str, Any]:
    s = i.story
    url = f"{base}/story/{s.id}"
    return {
        "id": s.id,
        "feed_id": i.origin or 0,
        "title": s.headline,
        "author": ", ".join(s.outlets[:3]),
        "html": item_html(s, i.brief, i.sources, url),
        "url": url,
        "is_saved": int(i.state.starred_at is not None),
        "is_read": int(i.state.read_at is not None),
        "created_on_time": int(s.first_reported.timestamp()),
    }


class _Fever:
    """One authenticated request."""

    def __init__(self, request: Request, user: User, params: Params) -> None:
        st = request.app.state
        self.request, self.user, self.params = request, user, params
        self.store: Store = st.store
        self.base = st.settings.public_base_url.rstrip("/")
        self.now = st.clock()

    def has(self, name: str) -> bool:
        return name in self.params.values

    def query(self, mine: list[Follow], **kw: Any) -> ItemQuery:
        return ItemQuery(self.user.id, self.now, follows=tuple(mine), **kw)

    def _ids(self, mine: list[Follow], **kw: Any) -> str:
        found = self.store.reader_item_ids(self.query(mine, order="id_asc", limit=MAX_IDS, **kw))
        return ",".join(str(sid) for sid, _ in found)

    def _items(self, mine: list[Follow]) -> dict[str, Any]:
        p = self.params
        since, top = _int(p, "since_id"), _int(p, "max_id")
        if p.get("with_ids").strip():
            q = self.query(mine, story_ids=_with_ids(p), order="id_asc", limit=PAGE)
        elif since is not None:
            q = self.query(mine, after=(None, since), order="id_asc", limit=PAGE)
        elif top:
            q = self.query(mine, after=(None, top), order="id_desc", limit=PAGE)
        else:
            q = self.query(mine, order="id_desc", limit=PAGE)
        items = self.store.reader_items(q, content=True)
        total = self.store.count_reader_items(self.query(mine))
        return {"items": [_item(i, self.base) for i in items], "total_items": total}

    def _marked(self, mine: list[Follow]) -> dict[str, Any]:
        p = self.params
        what, how = p.get("mark"), p.get("as")
        target = _int(p, "id", lo=-1)
        if target is None:
            raise BadRequest("id: the item, feed or group to mark")
        if what == "item" and how in ("read", "unread", "saved", "unsaved"):
            read = {"read": True, "unread": False}.get(how)
            starred = {"saved": True, "unsaved": False}.get(how)
            self.store.set_item_states(self.user.id, [target], self.now, read, starred)
            if read is not None:
                return {"unread_item_ids": self._ids(mine, read=False)}
            return {"saved_item_ids": self._ids(mine, starred=True)}
        if what in ("feed", "group") and how == "read":
            if what == "feed":
                chosen = [f for f in mine if f.id == target]
                if not chosen:
                    raise BadRequest("id: not one of your feeds")
            elif target == 0:
                chosen = mine
            elif target == -1:
                chosen = []  # the Sparks: BreakingOn has none
            else:
                chosen = [f for f in mine if _group_of(f) == target]
                if target not in GROUPS.values():
                    raise BadRequest("id: not a group")
            before = _int(p, "before")
            when = ids.from_unix(before) if before else None
            self.store.mark_read(self.user.id, chosen, when, self.now)
            return {"unread_item_ids": self._ids(mine, read=False)}
        raise BadRequest("mark: item (as read, unread, saved, unsaved), feed or group (as read)")

    def answer(self) -> dict[str, Any]:
        changed = self.store.last_change()
        body: dict[str, Any] = {
            "api_version": 3,
            "auth": 1,
            "last_refreshed_on_time": int(changed.timestamp()) if changed else 0,
        }
        if self.params.get("unread_recently_read"):
            raise BadRequest("unread_recently_read is not supported; mark items unread")
        mine = self.store.list_follows(self.user.id)
        if self.has("mark"):
            body.update(self._marked(mine))
        if self.has("groups") or self.has("feeds"):
            body["feeds_groups"] = _feeds_groups(mine)
        if self.has("groups"):
            body["groups"] = [
                {"id": GROUPS[label], "title": label} for label in ids.labels_of(mine)
            ]
        if self.has("feeds"):
            body["feeds"] = [
                {
                    "id": f.id,
                    "favicon_id": 1,
                    "title": f.title,
                    "url": ids.feed_url(self.base, f.kind, f.value),
                    "site_url": ids.page_url(self.base, f.kind, f.value),
                    "is_spark": 0,
                    "last_updated_on_time": body["last_refreshed_on_time"],
                }
                for f in mine
            ]
        if self.has("favicons"):
            body["favicons"] = [{"id": 1, "data": _icon()}]
        if self.has("items"):
            body.update(self._items(mine))
        if self.has("links"):
            body["links"] = []
        if self.has("unread_item_ids"):
            body["unread_item_ids"] = self._ids(mine, read=False)
        if self.has("saved_item_ids"):
            body["saved_item_ids"] = self._ids(mine, starred=True)
        return body


async def endpoint(request: Request) -> Response:
    refused = {"api_version": 3, "auth": 0}
    try:
        params = await read_params(request)
    except BadRequest as exc:
        return _answer(request, {**refused, "error": str(exc)}, 400)
    wait = reader_auth.blocked(request)
    if wait is not None:
        resp = _answer(request, {**refused, "error": "too many failed keys"}, 429)
        resp.headers["Retry-After"] = str(wait)
        return resp
    user = await reader_auth.fever_user(request, params.get("api_key"))
    if user is None:
        reader_auth.failed(request)
        return _answer(request, refused, 401)
    try:
        body = await run_in_threadpool(_Fever(request, user, params).answer)
    except BadRequest as exc:
        return _answer(request, {"api_version": 3, "auth": 1, "error": str(exc)}, 400)
    return _answer(request, body)


def routes() -> list[BaseRoute]:
    """The Fever routes (mounted at the root by `create_app`)."""
    return [
        Route(PATH, endpoint, methods=["GET", "POST"]),
        Route(PATH + "/", endpoint, methods=["GET", "POST"]),
    ]
