"""Google Reader API streams: `stream/contents/<streamId>`, `reader/atom/<streamId>`
(FeedHQ clients such as newsboat), `stream/items/ids`, `stream/items/contents`,
`edit-tag` and `mark-all-as-read`.

Parameters as Google Reader had them: `n` (page size), `c` (continuation), `r=o`
(oldest first), `ot` / `nt` (first reported at or after / before a Unix time), `xt` /
`it` (exclude / include only `.../read`, `.../unread`, `.../starred`), `s` (the stream,
repeatable for ids), `i` (items, repeatable), `a` / `r` on edit-tag (add / remove
`.../read`, `.../kept-unread`, `.../starred`; labels are the follows' kinds and cannot
be edited). One store call makes a page, whatever the number of follows.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.responses import Response

from breakingon.records import Follow
from breakingon.store.base_accounts import ItemOrder, ItemQuery, ReaderItem
from breakingon.web import greader_ids as ids
from breakingon.web import greader_render as render
from breakingon.web.greader_http import BadRequest, Call, as_json, text
from breakingon.web.reader_follows import describe

MAX_PAGE = 1_000  # items in one stream/contents page
MAX_IDS = 10_000  # item ids in one stream/items/ids answer
MAX_ITEMS = 1_000  # i= values in one call


@dataclass(frozen=True, slots=True)
class Stream:
    """A resolved stream: its id and title, the follows it draws on (None: any story),
    the state filters, and the origin of items from a stream the user does not follow."""

    id: str
    title: str
    html_url: str
    follows: tuple[Follow, ...] | None
    read: bool | None = None
    starred: bool | None = None
    fallback: render.Origin | None = None


async def resolve(call: Call, stream_text: str, mine: list[Follow]) -> Stream:
    stream = ids.normal(stream_text or ids.READING_LIST)
    target = ids.parse_target(stream)
    base = call.base
    if target.all_follows:
        title = "Read items" if target.read else "Reading list"
        return Stream(stream, title, base + "/", tuple(mine), read=target.read)
    if target.starred:
        return Stream(stream, "Starred items", base + "/", None, starred=True)
    if target.kinds is not None:
        label = stream[len(ids.LABEL_PREFIX) :]
        chosen = tuple(f for f in mine if f.kind in target.kinds)
        return Stream(stream, label, base + "/", chosen)
    assert target.follow is not None
    kind, value = target.follow
    for f in mine:
        if ids.follow_stream(f) == ids.stream_id(kind, value):
            return Stream(stream, f.title, ids.page_url(base, kind, value), (f,))
    # A BreakingOn stream the user does not follow: readable too (it is public).
    value, title = await call.run(describe, call.store, kind, value)
    f = Follow(0, call.user.id, kind, value, title, call.now)
    origin = render.origin_of(f, base)
    return Stream(stream, title, origin.html_url, (f,), fallback=origin)


def _filters(call: Call, st: Stream) -> tuple[bool | None, bool | None]:
    read, starred = st.read, st.starred
    for name, keep in (("xt", False), ("it", True)):
        for raw in call.params.all(name):
            tag = ids.normal(raw)
            if tag == ids.READ:
                read = keep
            elif tag == ids.UNREAD:
                read = not keep
            elif tag == ids.STARRED:
                starred = keep
    return read, starred


def query(call: Call, st: Stream, mine: list[Follow], limit_max: int) -> ItemQuery:
    p = call.params
    read, starred = _filters(call, st)
    order: ItemOrder = "oldest" if p.get("r") == "o" else "newest"
    after = None
    if p.get("c"):
        after = ids.parse_continuation(p.get("c"))
        if after is None:
            raise BadRequest("c: not a continuation of this server")
    ot, nt = p.int("ot", 0, 0, 2**62), p.int("nt", 0, 0, 2**62)
    return ItemQuery(
        call.user.id,
        call.now,
        follows=st.follows,
        read=read,
        starred=starred,
        newer_than=ids.from_unix(ot) if ot else None,
        older_than=ids.from_unix(nt) if nt else None,
        after=after,
        order=order,
        limit=p.int("n", 20, 1, limit_max),
        origins=tuple(mine) if st.follows is None else None,
    )


def _next(items: list[ReaderItem], limit: int) -> str | None:
    if len(items) < limit or not items:
        return None
    last = items[-1].story
    return ids.continuation(last.first_reported, last.id)


async def _page(
    call: Call, stream_text: str
) -> tuple[Stream, list[ReaderItem], str | None, dict[int, Follow]]:
    mine: list[Follow] = await call.run(call.store.list_follows, call.user.id)
    st = await resolve(call, stream_text, mine)
    q = query(call, st, mine, MAX_PAGE)
    items: list[ReaderItem] = await call.run(call.store.reader_items, q, True)
    by_id = {f.id: f for f in [*mine, *(st.follows or ())] if f.id}
    return st, items, _next(items, q.limit), by_id


async def stream_contents(call: Call, stream_text: str) -> Response:
    st, items, nxt, by_id = await _page(call, stream_text or call.params.get("s"))
    return as_json(
        render.stream_json(st.id, st.title, items, by_id, call.base, call.now, nxt, st.fallback)
    )


async def atom(call: Call, stream_text: str) -> Response:
    st, items, nxt, by_id = await _page(call, stream_text)
    body = render.atom_feed(
        st.id, st.title, st.html_url, items, by_id, call.base, call.now, nxt, st.fallback
    )
    return Response(
        body,
        media_type="application/atom+xml; charset=utf-8",
        headers={"Cache-Control": "no-store"},
    )


async def item_ids(call: Call) -> Response:
    mine: list[Follow] = await call.run(call.store.list_follows, call.user.id)
    streams = call.params.all("s") or [ids.READING_LIST]
    if len(streams) > 1:
        # Several streams at once: their follows together (each item once).
        chosen: dict[str, Follow] = {}
        for s in streams[:50]:
            for f in (await resolve(call, s, mine)).follows or ():
                chosen[ids.follow_stream(f)] = f
        st = Stream(ids.READING_LIST, "", call.base, tuple(chosen.values()))
    else:
        st = await resolve(call, streams[0], mine)
    q = query(call, st, mine, MAX_IDS)
    found = await call.run(call.store.reader_item_ids, q)
    refs = [
        {"id": str(sid), "directStreamIds": [], "timestampUsec": str(ids.usec(when))}
        for sid, when in found
    ]
    out: dict[str, object] = {"itemRefs": refs}
    if found and len(found) >= q.limit:
        out["continuation"] = ids.continuation(found[-1][1], found[-1][0])
    return as_json(out)


def _item_ids(call: Call) -> list[int]:
    raw = call.params.all("i")
    if not raw:
        raise BadRequest("i: at least one item id")
    if len(raw) > MAX_ITEMS:
        raise BadRequest(f"i: at most {MAX_ITEMS} items in one call")
    out = []
    for r in raw:
        sid = ids.parse_item_id(r)
        if sid is None:
            raise BadRequest(f"i: {r[:80]!r} is not an item id")
        out.append(sid)
    return out


async def item_contents(call: Call) -> Response:
    wanted = _item_ids(call)
    mine: list[Follow] = await call.run(call.store.list_follows, call.user.id)
    q = ItemQuery(
        call.user.id,
        call.now,
        story_ids=tuple(wanted),
        limit=len(wanted),
        order="oldest" if call.params.get("r") == "o" else "newest",
        origins=tuple(mine),
    )
    items: list[ReaderItem] = await call.run(call.store.reader_items, q, True)
    by_id = {f.id: f for f in mine}
    body = render.stream_json(
        ids.READING_LIST, "Reading list", items, by_id, call.base, call.now, None
    )
    return as_json(body)


async def edit_tag(call: Call) -> Response:
    wanted = _item_ids(call)
    add = {ids.normal(t) for t in call.params.all("a")}
    remove = {ids.normal(t) for t in call.params.all("r")}
    read: bool | None = None
    if ids.READ in add:
        read = True
    elif ids.KEPT_UNREAD in add or ids.READ in remove:
        read = False
    starred: bool | None = True if ids.STARRED in add else False if ids.STARRED in remove else None
    await call.run(call.store.set_item_states, call.user.id, wanted, call.now, read, starred)
    return text("OK")


async def mark_all_read(call: Call) -> Response:
    stream_text = call.params.get("s")
    if not stream_text:
        raise BadRequest("s: the stream to mark read")
    mine: list[Follow] = await call.run(call.store.list_follows, call.user.id)
    st = await resolve(call, stream_text, mine)
    if st.follows is None:
        raise BadRequest("s: mark a feed, a folder or the reading list read")
    ts = call.params.int("ts", 0, 0, 2**62)
    before = ids.from_unix(ts) + ids.ONE_USEC if ts else None  # up to and including ts
    await call.run(call.store.mark_read, call.user.id, list(st.follows), before, call.now)
    return text("OK")
