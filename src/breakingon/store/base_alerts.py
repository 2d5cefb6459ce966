"""The storage contract of alerts (part of `breakingon.store.base`, which re-exports it
and makes `AlertStore` part of `Store`): readers' alert rules and mutes, Web Push
subscriptions, the stories the alert stage scans and the delivery outbox. This module
holds no SQL; `store.sql_alerts` implements it.

Every method that reads or changes one reader's rules or subscriptions takes that
reader's `user_id` and never touches another's rows. The outbox keeps one row per
(rule, event key): `enqueue_alerts` skips an event already queued, so a story seen
twice is alerted once, and it commits the scanner's cursor in the same transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from breakingon.records import (
    AlertEvent,
    AlertRule,
    Delivery,
    DeliveryState,
    Follow,
    PushSubscription,
    StoryChange,
)

MAX_RULES = 100  # alert rules one reader may have
MAX_PUSH_SUBSCRIPTIONS = 20  # browsers one reader may enable Web Push in


class AlertStore(Protocol):
    """Alerts: rules, mutes, push subscriptions, the stage's scan and the outbox."""

    # -- a reader's own rules, mutes and subscriptions (scoped by user_id) ------------
    def add_alert_rule(
        self,
        user_id: int,
        kind: str,
        target: str,
        channel: str,
        config: Mapping[str, str],
        digest: str,
        now: datetime,
    ) -> AlertRule:
        """Store a checked rule (`alerts.validate.rule_spec`). TooManyRules at the cap."""
        ...

    def list_alert_rules(self, user_id: int) -> list[AlertRule]:
        """The reader's rules, oldest first."""
        ...

    def remove_alert_rule(self, user_id: int, rule_id: int) -> bool:
        """Delete the reader's rule (and its outbox rows); False if it is not theirs."""
        ...

    def mute_alert_rule(self, user_id: int, rule_id: int, until: datetime | None) -> bool:
        """Mute the reader's rule until `until` (None: unmute); False if not theirs."""
        ...

    def mute_user_alerts(self, user_id: int, until: datetime | None) -> None:
        """Mute every rule of the reader until `until` (None: unmute)."""
        ...

    def user_alerts_muted_until(self, user_id: int) -> datetime | None: ...

    def add_push_subscription(
        self, user_id: int, endpoint: str, p256dh: str, auth: str, now: datetime
    ) -> PushSubscription:
        """Store a browser's subscription (an endpoint already stored is given the new
        keys and owner: the browser subscribed again). TooManyRules at the cap."""
        ...

    def list_push_subscriptions(self, user_id: int) -> list[PushSubscription]: ...

    def remove_push_subscription(self, user_id: int, endpoint: str) -> bool: ...

    def list_alert_deliveries(self, user_id: int, limit: int = 50) -> list[Delivery]:
        """The reader's latest outbox rows, newest first."""
        ...

    # -- the alert stage -----------------------------------------------------------------
    def get_alert_rule(self, rule_id: int) -> AlertRule | None:
        """Any rule by id, with its reader's name and mute (the stage and the CLI)."""
        ...

    def active_alert_rules(self) -> list[AlertRule]:
        """Every rule of every enabled reader, with the reader's name and mute."""
        ...

    def follows_of(self, user_ids: Sequence[int]) -> dict[int, list[Follow]]:
        """The follows of these readers, by user id (for `follows` rules)."""
        ...

    def changed_stories(self, since: datetime, after_id: int, limit: int) -> list[StoryChange]:
        """Live stories saved after (`since`, `after_id`), in (updated_at, id) order,
        each with the time its current brief version was written."""
        ...

    def enqueue_alerts(
        self,
        events: Sequence[tuple[AlertEvent, str, datetime]],
        now: datetime,
        cursor: tuple[str, str] | None = None,
        lease: tuple[str, str] | None = None,
    ) -> int:
        """Queue (event, channel, first attempt time) rows, skipping any (rule, key)
        already queued, and set the meta `cursor` (key, value): one transaction. With
        `lease` (name, worker), only while that worker holds the lease (else
        LeaseLost). Returns how many rows were new."""
        ...

    def claim_alert_deliveries(
        self, worker: str, now: datetime, limit: int, lease_s: int
    ) -> list[Delivery]:
        """Lease up to `limit` due pending rows (with every due row of the same email
        rules, so a digest goes out whole): state `sending`, attempts + 1, committed
        before the caller sends."""
        ...

    def finish_alert_deliveries(
        self,
        ids: Sequence[int],
        worker: str,
        state: DeliveryState,
        now: datetime,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> int:
        """Record the send's outcome of rows `worker` still holds: `sent` (with
        sent_at), `pending` again at `retry_at`, `failed`, `muted`. Returns how many."""
        ...

    def recover_alert_deliveries(self, now: datetime) -> tuple[int, int]:
        """Rows left `sending` by a worker that died (its lease expired, or its process
        is gone): webhooks go back to `pending` (resent with the same idempotency key),
        at-most-once channels (email, ntfy, Web Push) become `unknown`, never resent.
        Returns (requeued, unknown)."""
        ...

    def drop_push_subscription(self, subscription_id: int) -> None:
        """Forget a subscription its push service said is gone (404, 410)."""
        ...

    def alert_outbox_counts(self) -> dict[str, int]:
        """Outbox rows by state (every state of DELIVERY_STATES, 0 when none)."""
        ...
