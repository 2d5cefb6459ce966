"""The alert records: rules, story changes, events, outbox rows, messages, requests.

A reader's `AlertRule` says what to watch (`kind` and `target`) and where to send it
(`channel` and its `config`). The alert stage hands `rules.match` a `StoryChange` (a
story as the story stage saved it) and gets `AlertEvent`s, each with a key unique per
rule (`AlertEvent.key`): the outbox keeps one `Delivery` per (rule, key), so an event is
queued once however often the story is seen. The records the store also passes
(rules, story changes, events, outbox rows, push subscriptions) live in `records` and
are re-exported here; a reader's follows are `records.Follow`. Standard library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from breakingon.records import (
    ALERT_KINDS,
    CHANNELS,
    DELIVERY_STATES,
    DIGESTS,
    AlertEvent,
    AlertKind,
    AlertRule,
    Channel,
    Delivery,
    DeliveryState,
    EventKind,
    PushSubscription,
    StoryChange,
)

__all__ = [
    "ALERT_KINDS",
    "AT_MOST_ONCE",
    "CHANNELS",
    "DELIVERY_STATES",
    "DIGESTS",
    "AlertEvent",
    "AlertKind",
    "AlertMessage",
    "AlertRule",
    "Channel",
    "Delivery",
    "DeliveryState",
    "EventKind",
    "Outbound",
    "PushSubscription",
    "StoryChange",
]

# Channels whose send is at most once: a send whose outcome a crash left unknown is not
# repeated (a reader would see it twice). Webhooks are at least once instead, with an
# idempotency key (`X-BreakingOn-Delivery`) the receiver can drop a repeat by.
AT_MOST_ONCE: frozenset[str] = frozenset({"email", "ntfy", "webpush"})


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
