"""The alert records: rules, follows, story changes, events, outbox rows, messages.

A reader's `AlertRule` says what to watch (`kind` and `target`) and where to send it
(`channel` and its `config`). The alert stage hands `rules.match` a `StoryChange` (a
story as the story stage saved it) and gets `AlertEvent`s, each with a key unique per
rule (`AlertEvent.key`): the outbox keeps one `Delivery` per (rule, key), so an event is
queued once however often the story is seen. Standard library only (plus `records`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from breakingon.records import Story

AlertKind = Literal["breaking", "follows", "search", "place"]
Channel = Literal["webhook", "ntfy", "webpush", "email"]
Digest = Literal["hourly", "daily"]
EventKind = Literal["breaking", "new_story", "brief_updated", "test"]
DeliveryState = Literal["pending", "sending", "sent", "failed", "unknown", "muted"]
FollowKind = Literal["top", "breaking", "section", "place", "outlet", "search", "story"]

ALERT_KINDS: tuple[str, ...] = get_args(AlertKind)
CHANNELS: tuple[str, ...] = get_args(Channel)
DIGESTS: tuple[str, ...] = get_args(Digest)
DELIVERY_STATES: tuple[str, ...] = get_args(DeliveryState)
FOLLOW_KINDS: tuple[str, ...] = get_args(FollowKind)
# Channels whose send is at most once: a send whose outcome a crash left unknown is not
# repeated (a reader would see it twice). Webhooks are at least once instead, with an
# idempotency key (`X-BreakingOn-Delivery`) the receiver can drop a repeat by.
AT_MOST_ONCE: frozenset[str] = frozenset({"email", "ntfy", "webpush"})


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
class Follow:
    """One thing a reader follows (a row of `user_follows`), as matching needs it."""

    user_id: int
    kind: str  # one of FOLLOW_KINDS
    value: str  # section slug, geonameid, outlet id, query, story id; "" for top/breaking
    title: str
    created_at: datetime


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


@dataclass(frozen=True, slots=True)
class AlertMessage:
    """What a reader gets for one event, whatever the channel."""

    event: EventKind
    title: str
    text: str
    url: str
    key: str  # the delivery's idempotency key
    at: datetime
    story_id: int | None = None
    tags: tuple[str, ...] = ()
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outbound:
    """An HTTP POST a channel sends (the alert stage sends it through the crawler's
    `Fetcher`, under the SSRF policy): ASCII header values only."""

    url: str
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()

    def header(self, name: str) -> str | None:
        """The value of header `name` (case-insensitive), or None."""
        low = name.lower()
        return next((v for k, v in self.headers if k.lower() == low), None)
