"""The Google Reader API's names for BreakingOn things, both ways (pure).

- Streams. A follow is the feed `feed/breakingon:KIND[/VALUE]`: `top`, `breaking`,
  `section/<slug>`, `place/<geonameid>`, `outlet/<id>`, `search/<terms joined by +>`,
  `story/<id>`. The special streams are `user/-/state/com.google/reading-list` (every
  follow), `.../starred`, `.../read`, and the folders `user/-/label/<Label>`, one per
  kind of follow (`LABELS`). A client may write `user/<id>/...` for `user/-/...`.
- Items. A story is the item `tag:google.com,2005:reader/item/<16 hex digits of its
  id>` (the long form); the short form is the id in decimal. Both are accepted, as is
  the bare 16-digit hex.
- Continuation: `<microseconds>_<id>` of the last item sent (opaque to clients).
- Page URLs: where each stream lives on the site (`page_url`, `feed_url`) and which
  stream a site URL names (`stream_for_url`, for `subscription/quickadd`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from breakingon.records import FOLLOW_KINDS, Follow, FollowKind
from breakingon.store.base import search_terms
from breakingon.web.params import MAX_ID, SECTIONS

FEED_PREFIX = "feed/breakingon:"
ITEM_PREFIX = "tag:google.com,2005:reader/item/"
STATE = "user/-/state/com.google/"
READING_LIST = STATE + "reading-list"
READ = STATE + "read"
UNREAD = STATE + "unread"
STARRED = STATE + "starred"
KEPT_UNREAD = STATE + "kept-unread"
FRESH = STATE + "fresh"
LABEL_PREFIX = "user/-/label/"
LABELS: dict[FollowKind, str] = {
    "top": "BreakingOn",
    "breaking": "BreakingOn",
    "section": "Sections",
    "place": "Places",
    "outlet": "Outlets",
    "search": "Searches",
    "story": "Stories",
}
_USER = re.compile(r"^user/[^/]{1,64}/")
_HEX16 = re.compile(r"^[0-9a-fA-F]{16}$")
_DIGITS = re.compile(r"^-?[0-9]{1,20}$")
MAX_SEARCH = 200


class BadStream(ValueError):
    """A stream id or site URL that names no BreakingOn stream."""


@dataclass(frozen=True, slots=True)
class Target:
    """What a stream id asks for: `kinds` (a folder), one follow (kind, value), every
    follow (reading list), or no follow at all (starred, by state)."""

    follow: tuple[FollowKind, str] | None = None
    kinds: tuple[FollowKind, ...] | None = None
    all_follows: bool = False
    read: bool | None = None
    starred: bool | None = None


def normal(stream: str) -> str:
    """`user/<anything>/...` written as `user/-/...`."""
    return _USER.sub("user/-/", stream.strip(), count=1)


def _search_value(query: str) -> str:
    terms = search_terms(query[:MAX_SEARCH])
    if not terms:
        raise BadStream("a search needs at least one word")
    return " ".join(terms)


def normal_value(kind: FollowKind, value: str) -> str:
    """The canonical stored value of a follow; BadStream when it names nothing."""
    if kind in ("top", "breaking"):
        if value:
            raise BadStream(f"{kind} takes no value")
        return ""
    if kind == "section":
        if value not in SECTIONS:
            raise BadStream(f"no section {value!r}")
        return value
    if kind == "search":
        return _search_value(value)
    if not value.isascii() or not value.isdigit() or not (1 <= int(value) <= MAX_ID):
        raise BadStream(f"a {kind} is a number")
    return str(int(value))


def stream_id(kind: FollowKind, value: str) -> str:
    if kind in ("top", "breaking"):
        return FEED_PREFIX + kind
    if kind == "search":
        value = "+".join(quote(t, safe="") for t in value.split())
    return f"{FEED_PREFIX}{kind}/{value}"


def follow_stream(f: Follow) -> str:
    try:
        return stream_id(f.kind, normal_value(f.kind, f.value))
    except BadStream:
        return stream_id(f.kind, f.value)


def parse_feed(stream: str) -> tuple[FollowKind, str]:
    """(kind, canonical value) of a `feed/breakingon:...` id; BadStream otherwise."""
    stream = stream.strip()
    if not stream.startswith(FEED_PREFIX) or len(stream) > 1_000:
        raise BadStream("not a BreakingOn feed")
    kind_text, _, value = stream[len(FEED_PREFIX) :].partition("/")
    if kind_text not in FOLLOW_KINDS:
        raise BadStream(f"no kind of stream {kind_text!r}")
    kind: FollowKind = kind_text
    if kind == "search":
        value = " ".join(unquote(t) for t in value.replace("+", " ").split())
    return kind, normal_value(kind, value)


def parse_target(stream: str) -> Target:
    stream = normal(stream)
    if stream == READING_LIST:
        return Target(all_follows=True)
    if stream == STARRED:
        return Target(starred=True)
    if stream == READ:
        return Target(all_follows=True, read=True)
    if stream.startswith(LABEL_PREFIX):
        label = stream[len(LABEL_PREFIX) :]
        kinds = tuple(k for k, v in LABELS.items() if v == label)
        if not kinds:
            raise BadStream(f"no folder {label!r}")
        return Target(kinds=kinds)
    return Target(follow=parse_feed(stream))


def label_id(kind: FollowKind) -> str:
    return LABEL_PREFIX + LABELS[kind]


def labels_of(follows: Iterable[Follow]) -> list[str]:
    """The folders these follows fill, in `LABELS` order, each once."""
    kinds = {f.kind for f in follows}
    return list(dict.fromkeys(LABELS[k] for k in LABELS if k in kinds))


# -- items ---------------------------------------------------------------------------------
def item_id(story_id: int) -> str:
    return f"{ITEM_PREFIX}{story_id & 0xFFFFFFFFFFFFFFFF:016x}"


def parse_item_id(text: str) -> int | None:
    """The story id of a long, short (decimal, possibly signed) or hex item id."""
    text = text.strip()
    if text.startswith(ITEM_PREFIX):
        text = text[len(ITEM_PREFIX) :]
        if not _HEX16.match(text):
            return None
        value = int(text, 16)
    elif _HEX16.match(text) and (text[0] == "0" or not text.isdigit()):
        value = int(text, 16)
    elif _DIGITS.match(text):
        value = int(text) & 0xFFFFFFFFFFFFFFFF
    else:
        return None
    return value if 1 <= value <= MAX_ID else None


# -- time ----------------------------------------------------------------------------------
ONE_USEC = timedelta(microseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LAST = 32_503_680_000 * 1_000_000  # year 3000, in microseconds


def from_unix(value: int) -> datetime:
    """A Unix time in seconds, milliseconds or microseconds (told apart by size)."""
    if value > 10**14:
        micros = value
    elif value > 10**11:
        micros = value * 1_000
    else:
        micros = value * 1_000_000
    return _EPOCH + timedelta(microseconds=min(max(micros, 0), _LAST))


def usec(dt: datetime) -> int:
    return (dt - _EPOCH) // ONE_USEC


def continuation(when: datetime | None, story_id: int) -> str:
    return f"{usec(when) if when is not None else 0}_{story_id}"


def parse_continuation(text: str) -> tuple[datetime | None, int] | None:
    """The (first report, id) a continuation names; None when it is not one of ours."""
    micros, sep, sid = text.strip().partition("_")
    if not sep or not micros.isdigit() or not sid.isdigit() or len(micros) > 17:
        return None
    if not (1 <= int(sid) <= MAX_ID):
        return None
    when = _EPOCH + timedelta(microseconds=int(micros)) if int(micros) else None
    return when, int(sid)


# -- the site's pages ------------------------------------------------------------------------
def page_url(base: str, kind: FollowKind, value: str) -> str:
    if kind in ("top", "breaking"):
        return base + "/"
    if kind == "search":
        return f"{base}/search?{urlencode({'q': value})}"
    return f"{base}/{kind}/{value}"


def feed_url(base: str, kind: FollowKind, value: str) -> str:
    """The site's Atom feed of the stream (the outlet page has none: its page)."""
    if kind in ("top", "breaking"):
        return base + "/feed.atom"
    if kind == "search":
        return f"{base}/search/feed.atom?{urlencode({'q': value})}"
    if kind == "outlet":
        return page_url(base, kind, value)
    return f"{base}/{kind}/{value}/feed.atom"


_PATHS: tuple[tuple[re.Pattern[str], FollowKind], ...] = (
    (re.compile(r"^/(?:feed\.(?:atom|rss|json))?$"), "top"),
    (re.compile(r"^/section/([^/]+)(?:/feed\.(?:atom|rss|json))?$"), "section"),
    (re.compile(r"^/place/([0-9]+)(?:/feed\.(?:atom|rss|json))?$"), "place"),
    (re.compile(r"^/outlet/([0-9]+)$"), "outlet"),
    (re.compile(r"^/story/([0-9]+)(?:/feed\.(?:atom|rss|json)|/changes)?$"), "story"),
    (re.compile(r"^/search(?:/feed\.(?:atom|rss|json))?$"), "search"),
)


def stream_for_url(text: str, base: str) -> tuple[FollowKind, str]:
    """The stream a BreakingOn page or feed URL (on this site, or a path) or a stream id
    names; BadStream for anything else (another site, an unknown page)."""
    text = text.strip()
    if not text or len(text) > 2_000:
        raise BadStream("a BreakingOn page URL or stream id")
    if text.startswith(FEED_PREFIX):
        return parse_feed(text)
    try:
        parts, home = urlsplit(text), urlsplit(base)
    except ValueError:
        raise BadStream("not a URL") from None
    if parts.netloc and (parts.scheme, parts.netloc.lower()) != (home.scheme, home.netloc.lower()):
        raise BadStream("not a page of this site")
    path = parts.path or "/"
    prefix = home.path.rstrip("/")
    if prefix and path.startswith(prefix):
        path = path[len(prefix) :] or "/"
    for pattern, kind in _PATHS:
        m = pattern.match(path)
        if m is None:
            continue
        if kind == "search":
            query = parse_qs(parts.query).get("q", [""])[0]
            return kind, normal_value(kind, query)
        return kind, normal_value(kind, m.group(1) if m.groups() else "")
    raise BadStream("not a BreakingOn stream page")
