"""Plain, typed records that every stage passes to the next.

Records are frozen dataclasses holding tuples (never lists), timezone-aware UTC
datetimes and ids (never ORM rows). This module imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

FeedStatus = Literal["active", "paused", "ended"]
PlaceKind = Literal["country", "region", "city"]
ExtractionStatus = Literal["ok", "feed_fallback"]


@dataclass(frozen=True, slots=True)
class Outlet:
    """A news organisation (one row of `sources`)."""

    name: str
    homepage: str = ""
    country: str = ""  # ISO 3166 alpha-2, upper case, "" when unknown
    language: str = ""  # ISO 639-1
    place: str = ""  # region or city for local outlets, e.g. "US | New York"
    owner: str = ""
    ownership: str = ""  # e.g. "public", "private", "state", "nonprofit", "" unknown
    weight: float = 1.0  # operator-set importance multiplier
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Feed:
    """One feed URL of an outlet, with the state the fetcher keeps for it."""

    url: str
    outlet: str
    country: str = ""
    language: str = ""
    sections: tuple[str, ...] = ()
    place: str = ""
    status: FeedStatus = "active"
    id: int | None = None
    source_id: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    next_check_at: datetime | None = None
    last_checked_at: datetime | None = None
    last_success_at: datetime | None = None
    interval_s: int = 900
    error_count: int = 0
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one HTTP fetch gave. An expected failure is data: `error` is set."""

    url: str
    final_url: str
    status: int | None = None
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()
    etag: str | None = None
    last_modified: str | None = None
    retry_after_s: float | None = None
    error: str | None = None  # typed code: timeout, dns, too_large, deadline_exceeded, ...
    detail: str = ""
    elapsed_s: float = 0.0
    permanent_redirect: str | None = None

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return None


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One item parsed from a feed, sanitized, before the article page is fetched."""

    item_key: str  # stable identity inside the feed: guid, else canonical link, else hash
    url: str  # canonical URL, tracking parameters removed ("" when the item has none)
    title: str
    summary: str  # plain text
    content_html: str  # sanitized HTML (nh3), may be ""
    published: datetime  # UTC; first-seen when missing or unparseable
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    image: str = ""
    guid: str = ""
    date_flag: str = ""  # "", "missing", "unparseable", "future_clamped"
    # The guid/url with scheme and host stripped: the same item under a changed GUID or a
    # moved host is recognised by it (with the title).
    alias_key: str = ""


@dataclass(frozen=True, slots=True)
class Extracted:
    """What the extractor found in an article page."""

    url: str
    title: str = ""
    text: str = ""
    authors: tuple[str, ...] = ()
    published: datetime | None = None
    language: str = ""
    image: str = ""
    error: str | None = None  # None when extraction succeeded


@dataclass(frozen=True, slots=True)
class Extraction:
    """Where an article's text came from: its page ("ok") or, failing that, its feed.

    `reason` says why the feed's text stands ("too_short", "not_article", "http_404",
    "extract_timeout", ...); an "ok" extraction may carry a note too ("warc": the page
    came from a web archive). Stored as "ok", "ok:<reason>" or "feed_fallback:<reason>".
    """

    status: ExtractionStatus = "ok"
    reason: str = ""

    @classmethod
    def fallback(cls, reason: str) -> Extraction:
        """The feed's text stands, for `reason`."""
        return cls("feed_fallback", reason)

    @property
    def ok(self) -> bool:
        return self.status == "ok"


EXTRACTED = Extraction()

# The headline of a story that no member title or lead sentence can head (a video
# description, a horoscope, a page of comments): stored so, and kept out of the lists.
UNTITLED = "(untitled)"


@dataclass(frozen=True, slots=True)
class Article:
    """A stored article: one item of one feed, with its full text."""

    url: str
    title: str
    text: str
    published: datetime
    id: int | None = None
    feed_id: int | None = None
    source_id: int | None = None
    outlet: str = ""
    country: str = ""
    # The outlet's recorded place ("Dayton, Ohio"; its feed's, else its source's): read
    # with the article as its outlet and country are, never stored on the article.
    place: str = ""
    language: str = ""
    authors: tuple[str, ...] = ()
    summary: str = ""
    image: str = ""
    item_key: str = ""
    alias_key: str = ""
    content_hash: str = ""
    simhash: int = 0
    duplicate_of: int | None = None  # id of the first copy of a syndicated text
    extraction: Extraction | None = EXTRACTED  # None until the page is extracted
    sections: tuple[str, ...] = ()
    places: tuple[Place, ...] = ()
    page_kind: str = ""  # "" for a news report, else the non-article kind (extract.pagekind)
    first_seen: datetime | None = None
    story_id: int | None = None


@dataclass(frozen=True, slots=True)
class Place:
    """A place an article or story is about, resolved to GeoNames."""

    geonameid: int
    name: str
    country: str  # ISO 3166 alpha-2
    kind: PlaceKind
    lat: float
    lon: float
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class Citation:
    """A pointer from a brief sentence to a source article."""

    article_id: str  # article id (str so batch entry points can use their own ids)
    outlet: str = ""
    url: str = ""


@dataclass(frozen=True, slots=True)
class BriefSentence:
    text: str
    citations: tuple[Citation, ...]


@dataclass(frozen=True, slots=True)
class BriefSection:
    heading: str  # "What happened", "Details", "Reactions", "What comes next"
    sentences: tuple[BriefSentence, ...]


@dataclass(frozen=True, slots=True)
class LanguageReport:
    """A story's reporting in one of its other languages, as its brief lists it under
    "Reporting in other languages": the outlets that reported in it and one or two lead
    sentences, verbatim in that language (never translated), each cited."""

    language: str  # ISO 639-1
    outlets: tuple[str, ...]
    sentences: tuple[BriefSentence, ...]


@dataclass(frozen=True, slots=True)
class Brief:
    """A cited, multi-source story brief. Its dek and sections are in one language
    (`language`, ISO 639-1; "" unknown); the story's reporting in other languages is
    listed apart (`other_languages`), never mixed into them."""

    headline: str
    dek: tuple[BriefSentence, ...]
    sections: tuple[BriefSection, ...]
    credits: tuple[str, ...]  # outlets (and bylines) whose reporting it draws on
    writer: str = "extractive"
    # "A reported 12 people; B reported 15 people.": outlets that give different figures
    # for the same fact, each figure verbatim and cited; shown apart from the text
    disagreements: tuple[BriefSentence, ...] = ()
    language: str = ""
    other_languages: tuple[LanguageReport, ...] = ()

    def summary_text(self) -> str:
        parts = [s.text for s in self.dek]
        for sec in self.sections:
            parts.extend(s.text for s in sec.sentences)
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class Story:
    """A real-world event and the articles that report it."""

    id: int
    headline: str
    first_reported: datetime
    last_reported: datetime
    article_count: int = 0
    outlet_count: int = 0
    representative_article_id: int | None = None
    outlets: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    places: tuple[Place, ...] = ()
    score: float = 0.0
    score_explanation: str = ""
    breaking_until: datetime | None = None
    dek: str = ""
    merged_into: int | None = None
    related: tuple[int, ...] = ()  # ids of related stories the story stage found
    breaking_since: datetime | None = None
    brief_version: int = 0  # how many times the brief changed (0: never written)
    updated_at: datetime | None = None  # when the story stage last saved it
    image: StoryImage | None = None  # the lead image, stored and served by the site


@dataclass(frozen=True, slots=True)
class StoryImage:
    """A story's lead image as the site serves it: re-encoded copies addressed by the
    sha256 of their bytes (`/media/<sha256>.<ext>`), credited to the outlet."""

    sha256: str
    thumb_sha256: str
    width: int
    height: int
    credit: str  # the outlet whose article the image came from
    mime: str = "image/jpeg"
    source_url: str = ""


@dataclass(frozen=True, slots=True)
class ImageFile:
    """One re-encoded image (bytes we made, never the outlet's): lead size or thumbnail."""

    sha256: str
    data: bytes
    mime: str
    width: int
    height: int


@dataclass(frozen=True, slots=True)
class ImageCandidate:
    """A member article's image URL, as the story's lead image might come from it."""

    article_id: int
    url: str
    outlet: str
    published: datetime
    duplicate: bool = False  # a syndicated copy of another member


# -- accounts (the reader side: optional, private) -----------------------------------------
FollowKind = Literal["top", "breaking", "section", "place", "outlet", "search", "story"]
FOLLOW_KINDS: tuple[FollowKind, ...] = (
    "top",
    "breaking",
    "section",
    "place",
    "outlet",
    "search",
    "story",
)


@dataclass(frozen=True, slots=True)
class User:
    """A reader's account (one row of `users`). The hashes never leave the server: the
    password's argon2 hash, the sha256 of the per-user API token and of the Fever key."""

    id: int
    name: str
    created_at: datetime
    password_hash: str = field(default="", repr=False)
    api_token_hash: str | None = field(default=None, repr=False)
    fever_key_hash: str | None = field(default=None, repr=False)
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class Follow:
    """One stream a user follows (a row of `user_follows`): the Google Reader / Fever
    subscriptions and the site's follows. `value` is the section slug, the place's
    geonameid, the outlet id, the search query or the story id ("" for top, breaking)."""

    id: int
    user_id: int
    kind: FollowKind
    value: str
    title: str
    created_at: datetime
    last_seen_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ItemState:
    """A user's state of one story: read and starred (saved), with when."""

    story_id: int
    read_at: datetime | None = None
    starred_at: datetime | None = None


# -- alerts (readers' alert rules, the outbox; breakingon.alerts) ------------------------
AlertKind = Literal["breaking", "follows", "search", "place"]
Channel = Literal["webhook", "ntfy", "webpush", "email"]
Digest = Literal["hourly", "daily"]
EventKind = Literal["breaking", "new_story", "brief_updated", "test"]
DeliveryState = Literal["pending", "sending", "sent", "failed", "unknown", "muted"]

ALERT_KINDS: tuple[str, ...] = get_args(AlertKind)
CHANNELS: tuple[str, ...] = get_args(Channel)
DIGESTS: tuple[str, ...] = get_args(Digest)
DELIVERY_STATES: tuple[str, ...] = get_args(DeliveryState)


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One reader's rule.

    kind/target: `breaking` ("" for every breaking story, or a section slug),
    `follows` ("": everything the reader follows), `search` (a query: every term in
    the headline or dek), `place` (a geonameid; a country's id matches the country).
    channel/config: `webhook` {url, secret}, `ntfy` {url, token?, priority?}, `webpush`
    {} (every push subscription of the reader), `email` {to, hour?} with `digest`
    hourly or daily. A rule (or its reader) muted until a time queues nothing meanwhile.
    """

    id: int
    user_id: int
    kind: AlertKind
    target: str
    channel: Channel
    config: Mapping[str, str]
    created_at: datetime
    digest: str = ""  # "hourly" | "daily" for email, "" for the other channels
    muted_until: datetime | None = None
    user_name: str = ""
    user_muted_until: datetime | None = None  # the reader's own mute (every rule)

    def muted_at(self, now: datetime) -> bool:
        """True while the rule or its reader is muted."""
        return any(t is not None and t > now for t in (self.muted_until, self.user_muted_until))


@dataclass(frozen=True, slots=True)
class StoryChange:
    """A story as the story stage last saved it, and when its current brief was written
    (the latest brief version's time; None when it has none)."""

    story: Story
    brief_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An event for one rule: queued once per (rule_id, key)."""

    rule_id: int
    user_id: int
    story_id: int | None
    key: str  # e.g. "breaking:42:1767225600", "story:42", "brief:42:3"
    kind: EventKind
    at: datetime  # when it happened: the story's save that showed it
    payload: Mapping[str, Any] = field(default_factory=dict)  # the story as it was then


@dataclass(frozen=True, slots=True)
class Delivery:
    """One row of the outbox: an event on its way to a rule's channel."""

    id: int
    rule_id: int
    user_id: int
    story_id: int | None
    event_key: str
    event: EventKind
    channel: Channel
    state: DeliveryState
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    event_at: datetime
    payload: Mapping[str, Any] = field(default_factory=dict)
    last_error: str | None = None
    sent_at: datetime | None = None

    @property
    def idempotency_key(self) -> str:
        """The same for every attempt of this delivery (webhook `X-BreakingOn-Delivery`)."""
        return f"{self.rule_id}:{self.event_key}"


@dataclass(frozen=True, slots=True)
class PushSubscription:
    """A browser's Web Push subscription (PushSubscription.toJSON()): where to send and
    the keys the payload is encrypted to."""

    id: int
    user_id: int
    endpoint: str
    p256dh: str  # the browser's P-256 public key, base64url
    auth: str  # the 16-byte auth secret, base64url
    created_at: datetime

    def info(self) -> dict[str, Any]:
        """The subscription as pywebpush reads it."""
        return {"endpoint": self.endpoint, "keys": {"p256dh": self.p256dh, "auth": self.auth}}
