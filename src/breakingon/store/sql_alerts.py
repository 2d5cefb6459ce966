"""`SQLStore` alerts: readers' rules and mutes, Web Push subscriptions, the stories the
alert stage scans and the delivery outbox. See `breakingon.store.base_alerts.AlertStore`
for the contract.

A reader's rules, mutes, subscriptions and outbox rows are read and changed only with
their `user_id` in the WHERE clause. The outbox's UNIQUE (rule_id, event_key) makes an
event queue once: `enqueue_alerts` skips keys already there (and a concurrent writer's
insert loses quietly, ON CONFLICT DO NOTHING), committing the scanner's cursor in the
same transaction. Deliveries are claimed like every other unit of work (a lease, SKIP
LOCKED on PostgreSQL, a dead owner's lease free at once).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from breakingon.records import (
    DELIVERY_STATES,
    AlertEvent,
    AlertKind,
    AlertRule,
    Channel,
    Delivery,
    DeliveryState,
    EventKind,
    Follow,
    PushSubscription,
    StoryChange,
)
from breakingon.store.base import LeaseLost, TooManyRules
from breakingon.store.base_alerts import MAX_PUSH_SUBSCRIPTIONS, MAX_RULES
from breakingon.store.codec import clean_text, dumps, to_utc
from breakingon.store.sql_base import _utc
from breakingon.store.sql_stories import _StoriesMixin
from breakingon.store.sql_users import _follow

ID_BATCH = 500
DIGEST_CAP = 200  # rows of one email rule claimed together (one digest)
ERROR_CAP = 500
UNKNOWN = "the worker stopped during the send; not sent again (at most once)"


def _config(text: str) -> dict[str, str]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _payload(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _rule(r: Any) -> AlertRule:
    return AlertRule(
        id=int(r.id),
        user_id=int(r.user_id),
        kind=cast(AlertKind, r.kind),
        target=r.target,
        channel=cast(Channel, r.channel),
        config=_config(r.config),
        created_at=_utc(r.created_at),
        digest=r.digest,
        muted_until=to_utc(r.muted_until),
        user_name=getattr(r, "user_name", "") or "",
        user_muted_until=to_utc(getattr(r, "user_muted_until", None)),
    )


def _delivery(r: Any) -> Delivery:
    return Delivery(
        id=int(r.id),
        rule_id=int(r.rule_id),
        user_id=int(r.user_id),
        story_id=r.story_id,
        event_key=r.event_key,
        event=cast(EventKind, r.event),
        channel=cast(Channel, r.channel),
        state=cast(DeliveryState, r.state),
        attempts=int(r.attempts),
        next_attempt_at=_utc(r.next_attempt_at),
        created_at=_utc(r.created_at),
        event_at=_utc(r.event_at),
        payload=_payload(r.payload),
        last_error=r.last_error,
        sent_at=to_utc(r.sent_at),
    )


def _subscription(r: Any) -> PushSubscription:
    return PushSubscription(
        id=int(r.id),
        user_id=int(r.user_id),
        endpoint=r.endpoint,
        p256dh=r.p256dh,
        auth=r.auth,
        created_at=_utc(r.created_at),
    )


class _AlertsMixin(_StoriesMixin):
    """Alert rules, mutes, push subscriptions, the scan and the outbox."""

    def _insert_ignore(self, table: sa.Table) -> Any:
        return (postgresql if self.dialect == "postgresql" else sqlite).insert(table)

    def _rules_select(self) -> sa.Select[Any]:
        ar, u, mu = self.t["alert_rules"], self.t["users"], self.t["alert_mutes"]
        return sa.select(
            ar, u.c.name.label("user_name"), mu.c.muted_until.label("user_muted_until")
        ).select_from(ar.join(u, u.c.id == ar.c.user_id).outerjoin(mu, mu.c.user_id == u.c.id))

    # -- a reader's own rules, mutes and subscriptions ---------------------------------
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
        ar = self.t["alert_rules"]
        with self._write() as conn:
            n = conn.execute(
                sa.select(sa.func.count()).select_from(ar).where(ar.c.user_id == user_id)
            ).scalar_one()
            if int(n) >= MAX_RULES:
                raise TooManyRules(f"a reader may have at most {MAX_RULES} alert rules")
            res = conn.execute(
                ar.insert().values(
                    user_id=user_id,
                    kind=kind,
                    target=clean_text(target, 500),
                    channel=channel,
                    config=dumps(dict(config)),
                    digest=digest,
                    created_at=now,
                )
            )
            pk = res.inserted_primary_key
            assert pk is not None
            row = conn.execute(self._rules_select().where(ar.c.id == int(pk[0]))).first()
        assert row is not None
        return _rule(row)

    def list_alert_rules(self, user_id: int) -> list[AlertRule]:
        ar = self.t["alert_rules"]
        stmt = self._rules_select().where(ar.c.user_id == user_id).order_by(ar.c.id)
        with self._read() as conn:
            return [_rule(r) for r in conn.execute(stmt)]

    def remove_alert_rule(self, user_id: int, rule_id: int) -> bool:
        ar, d = self.t["alert_rules"], self.t["alert_deliveries"]
        with self._write() as conn:
            mine = sa.and_(ar.c.id == rule_id, ar.c.user_id == user_id)
            if conn.execute(sa.select(ar.c.id).where(mine)).first() is None:
                return False
            conn.execute(d.delete().where(d.c.rule_id == rule_id, d.c.user_id == user_id))
            conn.execute(ar.delete().where(mine))
            return True

    def mute_alert_rule(self, user_id: int, rule_id: int, until: datetime | None) -> bool:
        ar = self.t["alert_rules"]
        with self._write() as conn:
            res = conn.execute(
                ar.update()
                .where(ar.c.id == rule_id, ar.c.user_id == user_id)
                .values(muted_until=until)
            )
            return bool(res.rowcount)

    def mute_user_alerts(self, user_id: int, until: datetime | None) -> None:
        mu = self.t["alert_mutes"]
        with self._write() as conn:
            conn.execute(mu.delete().where(mu.c.user_id == user_id))
            if until is not None:
                conn.execute(mu.insert().values(user_id=user_id, muted_until=until))

    def user_alerts_muted_until(self, user_id: int) -> datetime | None:
        mu = self.t["alert_mutes"]
        with self._read() as conn:
            r = conn.execute(sa.select(mu.c.muted_until).where(mu.c.user_id == user_id)).first()
        return to_utc(r.muted_until) if r is not None else None

    def add_push_subscription(
        self, user_id: int, endpoint: str, p256dh: str, auth: str, now: datetime
    ) -> PushSubscription:
        ps = self.t["push_subscriptions"]
        values = {"user_id": user_id, "p256dh": p256dh, "auth": auth}
        with self._write() as conn:
            old = conn.execute(sa.select(ps.c.id).where(ps.c.endpoint == endpoint)).first()
            if old is not None:
                conn.execute(ps.update().where(ps.c.id == old.id).values(**values))
                sub_id = int(old.id)
            else:
                n = conn.execute(
                    sa.select(sa.func.count()).select_from(ps).where(ps.c.user_id == user_id)
                ).scalar_one()
                if int(n) >= MAX_PUSH_SUBSCRIPTIONS:
                    raise TooManyRules(
                        f"Web Push is on in at most {MAX_PUSH_SUBSCRIPTIONS} browsers per reader"
                    )
                res = conn.execute(ps.insert().values(endpoint=endpoint, created_at=now, **values))
                pk = res.inserted_primary_key
                assert pk is not None
                sub_id = int(pk[0])
            row = conn.execute(sa.select(ps).where(ps.c.id == sub_id)).first()
        assert row is not None
        return _subscription(row)

    def list_push_subscriptions(self, user_id: int) -> list[PushSubscription]:
        ps = self.t["push_subscriptions"]
        stmt = sa.select(ps).where(ps.c.user_id == user_id).order_by(ps.c.id)
        with self._read() as conn:
            return [_subscription(r) for r in conn.execute(stmt)]

    def remove_push_subscription(self, user_id: int, endpoint: str) -> bool:
        ps = self.t["push_subscriptions"]
        with self._write() as conn:
            res = conn.execute(
                ps.delete().where(ps.c.user_id == user_id, ps.c.endpoint == endpoint)
            )
            return bool(res.rowcount)

    def list_alert_deliveries(self, user_id: int, limit: int = 50) -> list[Delivery]:
        d = self.t["alert_deliveries"]
        stmt = sa.select(d).where(d.c.user_id == user_id).order_by(d.c.id.desc()).limit(limit)
        with self._read() as conn:
            return [_delivery(r) for r in conn.execute(stmt)]

    # -- the alert stage -----------------------------------------------------------------
    def get_alert_rule(self, rule_id: int) -> AlertRule | None:
        ar = self.t["alert_rules"]
        with self._read() as conn:
            r = conn.execute(self._rules_select().where(ar.c.id == rule_id)).first()
        return _rule(r) if r is not None else None

    def active_alert_rules(self) -> list[AlertRule]:
        ar, u = self.t["alert_rules"], self.t["users"]
        stmt = self._rules_select().where(u.c.disabled == 0).order_by(ar.c.id)
        with self._read() as conn:
            return [_rule(r) for r in conn.execute(stmt)]

    def follows_of(self, user_ids: Sequence[int]) -> dict[int, list[Follow]]:
        f = self.t["user_follows"]
        ids = sorted({int(i) for i in user_ids})
        out: dict[int, list[Follow]] = {}
        with self._read() as conn:
            for i in range(0, len(ids), ID_BATCH):
                stmt = sa.select(f).where(f.c.user_id.in_(ids[i : i + ID_BATCH])).order_by(f.c.id)
                for r in conn.execute(stmt):
                    out.setdefault(int(r.user_id), []).append(_follow(r))
        return out

    def changed_stories(self, since: datetime, after_id: int, limit: int) -> list[StoryChange]:
        st, v = self.t["stories"], self.t["story_versions"]
        brief_at = (
            sa.select(v.c.created_at)
            .where(v.c.story_id == st.c.id, v.c.version == st.c.brief_version)
            .limit(1)
            .scalar_subquery()
            .label("brief_at")
        )
        stmt = (
            sa.select(*self._story_cols(), brief_at)
            .where(
                st.c.merged_into.is_(None),
                sa.or_(
                    st.c.updated_at > since,
                    sa.and_(st.c.updated_at == since, st.c.id > after_id),
                ),
            )
            .order_by(st.c.updated_at, st.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [StoryChange(self._story(r), to_utc(r.brief_at)) for r in conn.execute(stmt)]

    def _fence(self, conn: Connection, lease: tuple[str, str], now: datetime) -> None:
        lt = self.t["leases"]
        q = sa.select(lt.c.owner, lt.c.until).where(lt.c.name == lease[0])
        if self.dialect == "postgresql":
            q = q.with_for_update()
        held = conn.execute(q).first()
        if held is None or held.owner != lease[1] or _utc(held.until) < now:
            raise LeaseLost(f"lease {lease[0]!r} is no longer held by {lease[1]}")

    def enqueue_alerts(
        self,
        events: Sequence[tuple[AlertEvent, str, datetime]],
        now: datetime,
        cursor: tuple[str, str] | None = None,
        lease: tuple[str, str] | None = None,
    ) -> int:
        d, ar, m = self.t["alert_deliveries"], self.t["alert_rules"], self.t["meta"]
        new = 0
        with self._write() as conn:
            if lease is not None:
                self._fence(conn, lease, now)
            rule_ids = sorted({e.rule_id for e, _, _ in events})
            live: set[int] = set()
            queued: set[tuple[int, str]] = set()
            for i in range(0, len(rule_ids), ID_BATCH):
                part = rule_ids[i : i + ID_BATCH]
                live.update(
                    int(r.id) for r in conn.execute(sa.select(ar.c.id).where(ar.c.id.in_(part)))
                )
                keys = sorted({e.key for e, _, _ in events if e.rule_id in part})
                for j in range(0, len(keys), ID_BATCH):
                    rows = conn.execute(
                        sa.select(d.c.rule_id, d.c.event_key).where(
                            d.c.rule_id.in_(part), d.c.event_key.in_(keys[j : j + ID_BATCH])
                        )
                    )
                    queued.update((int(r.rule_id), r.event_key) for r in rows)
            for event, channel, first_at in events:
                if event.rule_id not in live or (event.rule_id, event.key) in queued:
                    continue  # the rule is gone, or the event is queued already
                queued.add((event.rule_id, event.key))
                res = conn.execute(
                    self._insert_ignore(d)
                    .values(
                        rule_id=event.rule_id,
                        user_id=event.user_id,
                        story_id=event.story_id,
                        event_key=event.key,
                        event=event.kind,
                        channel=channel,
                        payload=dumps(dict(event.payload)),
                        state="pending",
                        attempts=0,
                        next_attempt_at=first_at,
                        event_at=event.at,
                        created_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["rule_id", "event_key"])
                    .returning(d.c.id)
                )
                new += len(res.fetchall())
            if cursor is not None:
                key, value = cursor
                if conn.execute(sa.select(m.c.key).where(m.c.key == key)).first() is None:
                    conn.execute(m.insert().values(key=key, value=value))
                else:
                    conn.execute(m.update().where(m.c.key == key).values(value=value))
        return new

    def claim_alert_deliveries(
        self, worker: str, now: datetime, limit: int, lease_s: int
    ) -> list[Delivery]:
        d = self.t["alert_deliveries"]
        due = [d.c.state == "pending", d.c.next_attempt_at <= now]
        with self._write() as conn:
            ids = self._claimable_ids(conn, d, due, [d.c.next_attempt_at, d.c.id], limit, now)
            if not ids:
                return []
            digests = conn.execute(
                sa.select(d.c.rule_id).where(d.c.id.in_(ids), d.c.channel == "email").distinct()
            )
            for r in list(digests):
                same = [*due, d.c.rule_id == r.rule_id]
                ids.extend(self._claimable_ids(conn, d, same, [d.c.id], DIGEST_CAP, now))
            ids = sorted(set(ids))
            conn.execute(
                d.update()
                .where(d.c.id.in_(ids))
                .values(
                    state="sending",
                    lease_owner=worker,
                    lease_until=now + timedelta(seconds=lease_s),
                    attempts=d.c.attempts + 1,
                )
            )
            rows = conn.execute(sa.select(d).where(d.c.id.in_(ids)).order_by(d.c.id))
            return [_delivery(r) for r in rows]

    def finish_alert_deliveries(
        self,
        ids: Sequence[int],
        worker: str,
        state: DeliveryState,
        now: datetime,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> int:
        d = self.t["alert_deliveries"]
        values: dict[str, Any] = {
            "state": state,
            "lease_owner": None,
            "lease_until": None,
            "last_error": clean_text(error, ERROR_CAP) if error else None,
        }
        if state == "sent":
            values["sent_at"] = now
        if retry_at is not None:
            values["next_attempt_at"] = retry_at
        done = 0
        with self._write() as conn:
            for i in range(0, len(ids), ID_BATCH):
                res = conn.execute(
                    d.update()
                    .where(
                        d.c.id.in_(list(ids[i : i + ID_BATCH])),
                        d.c.state == "sending",
                        d.c.lease_owner == worker,
                    )
                    .values(**values)
                )
                done += res.rowcount or 0
        return done

    def recover_alert_deliveries(self, now: datetime) -> tuple[int, int]:
        d = self.t["alert_deliveries"]
        sending = [d.c.state == "sending"]
        with self._write() as conn:
            stale = [d.c.lease_until.is_(None), d.c.lease_until < now]
            dead = self._dead_holders(conn, d, sending, now)
            if dead:
                stale.append(d.c.lease_owner.in_(dead))
            orphans = sa.and_(*sending, sa.or_(*stale))
            cleared = {"lease_owner": None, "lease_until": None}
            requeued = conn.execute(
                d.update()
                .where(orphans, d.c.channel == "webhook")
                .values(state="pending", next_attempt_at=now, **cleared)
            ).rowcount
            unknown = conn.execute(
                d.update()
                .where(orphans, d.c.channel != "webhook")
                .values(state="unknown", last_error=UNKNOWN, **cleared)
            ).rowcount
        return int(requeued or 0), int(unknown or 0)

    def drop_push_subscription(self, subscription_id: int) -> None:
        ps = self.t["push_subscriptions"]
        with self._write() as conn:
            conn.execute(ps.delete().where(ps.c.id == subscription_id))

    def alert_outbox_counts(self) -> dict[str, int]:
        d = self.t["alert_deliveries"]
        out = dict.fromkeys(DELIVERY_STATES, 0)
        stmt = sa.select(d.c.state, sa.func.count()).group_by(d.c.state)
        with self._read() as conn:
            for state, n in conn.execute(stmt):
                out[str(state)] = int(n)
        return out
