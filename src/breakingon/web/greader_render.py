"""Google Reader API shapes (pure): items as JSON (`stream/contents`,
`stream/items/contents`) and as Atom (`reader/atom/...`, which FeedHQ clients such as
newsboat read), subscriptions, unread counts.

An item is a story: id from `greader_ids.item_id`, title the headline, `summary` and
`content` the brief as HTML (`web.itemhtml`), `published` its first report and
`updated` its last change (a new brief updates the item in place, same id), alternate
the story page, origin the followed stream it came through, categories its states
(`reading-list`, `read` or `fresh`, `starred`) and its folder. In Atom the states are
`<category scheme="http://www.google.com/reader/" label=...>`, the way Google Reader
wrote them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from breakingon.records import Follow
from breakingon.store.base_accounts import ReaderItem, UnreadCounts
from breakingon.web import greader_ids as ids
from breakingon.web.itemhtml import item_html

ATOM = "http://www.w3.org/2005/Atom"
GR = "http://www.google.com/schemas/reader/atom/"
GR_SCHEME = "http://www.google.com/reader/"
ET.register_namespace("", ATOM)
ET.register_namespace("gr", GR)


@dataclass(frozen=True, slots=True)
class Origin:
    stream: str
    title: str
    html_url: str


def origin_of(f: Follow, base: str) -> Origin:
    return Origin(ids.follow_stream(f), f.title, ids.page_url(base, f.kind, f.value))


def _secs(dt: datetime) -> int:
    return int(dt.timestamp())


def _states(item: ReaderItem, origin: Follow | None) -> list[str]:
    out = [ids.READING_LIST]
    out.append(ids.READ if item.state.read_at is not None else ids.FRESH)
    if item.state.starred_at is not None:
        out.append(ids.STARRED)
    if origin is not None:
        out.append(ids.label_id(origin.kind))
    return out


def _origin(
    item: ReaderItem, follows: Mapping[int, Follow], fallback: Origin | None, base: str
) -> tuple[Origin, Follow | None]:
    f = follows.get(item.origin) if item.origin is not None else None
    if f is not None:
        return origin_of(f, base), f
    if fallback is not None:
        return fallback, None
    s = item.story
    return Origin(ids.stream_id("story", str(s.id)), s.headline, f"{base}/story/{s.id}"), None


def item_json(
    item: ReaderItem, follows: Mapping[int, Follow], base: str, fallback: Origin | None = None
) -> dict[str, Any]:
    s = item.story
    url = f"{base}/story/{s.id}"
    origin, follow = _origin(item, follows, fallback, base)
    html = item_html(s, item.brief, item.sources, url)
    updated = s.updated_at or s.last_reported
    return {
        "id": ids.item_id(s.id),
        "crawlTimeMsec": str(ids.usec(s.first_reported) // 1000),
        "timestampUsec": str(ids.usec(s.first_reported)),
        "published": _secs(s.first_reported),
        "updated": _secs(updated),
        "title": s.headline,
        "author": ", ".join(s.outlets[:3]),
        "canonical": [{"href": url}],
        "alternate": [{"href": url, "type": "text/html"}],
        "categories": _states(item, follow),
        "origin": {"streamId": origin.stream, "title": origin.title, "htmlUrl": origin.html_url},
        "summary": {"direction": "ltr", "content": html},
        "content": {"direction": "ltr", "content": html},
    }


def stream_json(
    stream: str,
    title: str,
    items: Sequence[ReaderItem],
    follows: Mapping[int, Follow],
    base: str,
    now: datetime,
    next_page: str | None,
    fallback: Origin | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "direction": "ltr",
        "id": stream,
        "title": title,
        "self": [{"href": f"{base}/api/greader/reader/api/0/stream/contents/{stream}"}],
        "updated": _secs(now),
        "items": [item_json(i, follows, base, fallback) for i in items],
    }
    if next_page:
        out["continuation"] = next_page
    return out


def subscription_json(f: Follow, base: str) -> dict[str, Any]:
    label = ids.LABELS[f.kind]
    return {
        "id": ids.follow_stream(f),
        "title": f.title,
        "categories": [{"id": ids.label_id(f.kind), "label": label, "type": "folder"}],
        "url": ids.feed_url(base, f.kind, f.value),
        "htmlUrl": ids.page_url(base, f.kind, f.value),
        "iconUrl": f"{base}/static/favicon.svg",
        "sortid": f"{f.id:08X}",
        "firstitemmsec": str(ids.usec(f.created_at) // 1000),
    }


def unread_json(follows: Sequence[Follow], counts: UnreadCounts) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []

    def row(stream: str, n: int, newest: datetime | None) -> None:
        rows.append(
            {
                "id": stream,
                "count": n,
                "newestItemTimestampUsec": str(ids.usec(newest)) if newest else "0",
            }
        )

    for f in follows:
        n, newest = counts.follows.get(f.id, (0, None))
        row(ids.follow_stream(f), n, newest)
    for label in ids.labels_of(follows):
        kinds = [k for k, v in ids.LABELS.items() if v == label]
        pairs = [counts.kinds[k] for k in kinds if k in counts.kinds]
        stamps = [p[1] for p in pairs if p[1] is not None]
        # Folders of two kinds (top and breaking) may count a story twice.
        row(ids.LABEL_PREFIX + label, sum(p[0] for p in pairs), max(stamps, default=None))
    row(ids.READING_LIST, *counts.total)
    return {"max": max(1000, counts.total[0]), "unreadcounts": rows}


_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml(text: str) -> str:
    """`text` without the characters XML 1.0 cannot hold (controls, lone surrogates)."""
    return _NOT_XML.sub("", text)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: _xml(v) for k, v in attrs.items()})
    if text is not None:
        el.text = _xml(text)
    return el


def _atom_time(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def atom_feed(
    stream: str,
    title: str,
    html_url: str,
    items: Sequence[ReaderItem],
    follows: Mapping[int, Follow],
    base: str,
    now: datetime,
    next_page: str | None,
    fallback: Origin | None = None,
) -> bytes:
    """The stream as Atom 1.0 with Google Reader's extensions."""
    a = f"{{{ATOM}}}"
    feed = ET.Element(f"{a}feed")
    _sub(feed, f"{a}id", f"tag:google.com,2005:reader/{stream}")
    _sub(feed, f"{a}title", title)
    _sub(feed, f"{a}link", rel="alternate", href=html_url, type="text/html")
    _sub(feed, f"{a}updated", _atom_time(now))
    if next_page:
        _sub(feed, f"{{{GR}}}continuation", next_page)
    for item in items:
        data = item_json(item, follows, base, fallback)
        s = item.story
        entry = _sub(feed, f"{a}entry")
        entry.set(f"{{{GR}}}crawl-timestamp-msec", data["crawlTimeMsec"])
        ident = _sub(entry, f"{a}id", data["id"])
        ident.set(f"{{{GR}}}original-id", data["alternate"][0]["href"])
        for term in data["categories"]:
            label = term.rsplit("/", 1)[-1]
            _sub(entry, f"{a}category", term=term, scheme=GR_SCHEME, label=label)
        _sub(entry, f"{a}title", s.headline, type="text")
        _sub(entry, f"{a}published", _atom_time(s.first_reported))
        _sub(entry, f"{a}updated", _atom_time(s.updated_at or s.last_reported))
        _sub(
            entry, f"{a}link", rel="alternate", href=data["alternate"][0]["href"], type="text/html"
        )
        _sub(entry, f"{a}content", data["content"]["content"], type="html")
        author = _sub(entry, f"{a}author")
        _sub(author, f"{a}name", data["author"] or "BreakingOn")
        source = _sub(entry, f"{a}source")
        source.set(f"{{{GR}}}stream-id", data["origin"]["streamId"])
        _sub(source, f"{a}id", f"tag:google.com,2005:reader/{data['origin']['streamId']}")
        _sub(source, f"{a}title", data["origin"]["title"])
        _sub(source, f"{a}link", rel="alternate", href=data["origin"]["htmlUrl"], type="text/html")
    out: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return out
