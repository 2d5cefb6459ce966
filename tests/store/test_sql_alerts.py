"""Alerts in the store, on SQLite and PostgreSQL: rules, mutes and push subscriptions
scoped to their reader; the scan; the outbox queueing each (rule, event key) once with
the cursor in the same transaction, fenced by the scanner's lease; claims, outcomes and
the recovery of sends a dead worker left (webhooks again, at-most-once channels not)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_sql_images import _story
from test_store import T0, _brief, _story_update

from breakingon.records import AlertEvent, User
from breakingon.store import Store
from breakingon.store.base import LeaseLost, TooManyRules
from breakingon.store.base_alerts import MAX_RULES

HOOK = {"url": "https://hooks.example/in", "secret": "s" * 24}


def _users(store: Store) -> tuple[User, User]:
    a = store.add_user("alice", "h", None, T0)
    b = store.add_user("bob", "h", None, T0)
    assert a is not None and b is not None
    return a, b


def _event(rule_id: int, user_id: int, key: str, story_id: int | None = 1) -> AlertEvent:
    return AlertEvent(rule_id, user_id, story_id, key, "breaking", T0, {"headline": "Quake"})


def test_rules_are_scoped_to_their_reader(store: Store) -> None:
    a, b = _users(store)
    r1 = store.add_alert_rule(a.id, "breaking", "", "webhook", HOOK, "", T0)
    r2 = store.add_alert_rule(a.id, "search", "rates", "email", {"to": "a@x.example"}, "daily", T0)
    rb = store.add_alert_rule(b.id, "place", "2988507", "webpush", {}, "", T0)
    assert r1.config == HOOK and r1.user_name == "alice" and r2.digest == "daily"
    assert [r.id for r in store.list_alert_rules(a.id)] == [r1.id, r2.id]
    assert [r.id for r in store.list_alert_rules(b.id)] == [rb.id]
    # bob can neither mute nor remove alice's rule
    assert not store.mute_alert_rule(b.id, r1.id, T0 + timedelta(days=1))
    assert not store.remove_alert_rule(b.id, r1.id)
    assert store.list_alert_rules(a.id)[0].muted_until is None
    assert store.mute_alert_rule(a.id, r1.id, T0 + timedelta(hours=2))
    got = store.get_alert_rule(r1.id)
    assert got is not None and got.muted_until == T0 + timedelta(hours=2)
    assert store.mute_alert_rule(a.id, r1.id, None)
    store.mute_user_alerts(a.id, T0 + timedelta(hours=1))
    assert store.user_alerts_muted_until(a.id) == T0 + timedelta(hours=1)
    assert all(r.user_muted_until == T0 + timedelta(hours=1) for r in store.list_alert_rules(a.id))
    assert store.user_alerts_muted_until(b.id) is None
    store.mute_user_alerts(a.id, None)
    assert store.user_alerts_muted_until(a.id) is None
    assert {r.id for r in store.active_alert_rules()} == {r1.id, r2.id, rb.id}
    store.set_user_disabled("bob", True)
    assert {r.id for r in store.active_alert_rules()} == {r1.id, r2.id}
    assert store.remove_alert_rule(a.id, r2.id) and not store.remove_alert_rule(a.id, r2.id)
    # removing a reader takes their rules and outbox rows along
    store.enqueue_alerts([(_event(r1.id, a.id, "k"), "webhook", T0)], T0)
    assert store.remove_user("alice")
    assert store.get_alert_rule(r1.id) is None
    assert store.alert_outbox_counts()["pending"] == 0


def test_rules_are_capped(store: Store) -> None:
    a, _ = _users(store)
    for _ in range(MAX_RULES):
        store.add_alert_rule(a.id, "breaking", "", "webpush", {}, "", T0)
    with pytest.raises(TooManyRules):
        store.add_alert_rule(a.id, "breaking", "", "webpush", {}, "", T0)


def test_push_subscriptions_are_scoped_and_move_with_the_browser(store: Store) -> None:
    a, b = _users(store)
    s1 = store.add_push_subscription(a.id, "https://push.example/1", "P1", "A1", T0)
    store.add_push_subscription(b.id, "https://push.example/2", "P2", "A2", T0)
    assert [s.endpoint for s in store.list_push_subscriptions(a.id)] == ["https://push.example/1"]
    assert not store.remove_push_subscription(b.id, "https://push.example/1")
    # the same browser subscribing again (new keys) keeps one row
    again = store.add_push_subscription(a.id, "https://push.example/1", "P1b", "A1b", T0)
    assert again.id == s1.id and again.p256dh == "P1b"
    assert len(store.list_push_subscriptions(a.id)) == 1
    store.drop_push_subscription(s1.id)
    assert store.list_push_subscriptions(a.id) == []
    assert store.remove_push_subscription(b.id, "https://push.example/2")


def test_changed_stories_come_in_order_with_the_brief_time(store: Store) -> None:
    sid = _story(store)
    store.save_story(_story_update(sid, _brief("One.")), T0 + timedelta(minutes=5))
    got = store.changed_stories(T0 - timedelta(days=1), 0, 10)
    assert [c.story.id for c in got] == [sid]
    assert got[0].story.brief_version == 1 and got[0].brief_at == T0 + timedelta(minutes=5)
    saved = got[0].story.updated_at
    assert saved is not None
    assert store.changed_stories(saved, sid, 10) == []  # strictly after the cursor
    assert [c.story.id for c in store.changed_stories(saved, sid - 1, 10)] == [sid]


def test_an_event_is_queued_once_and_the_cursor_commits_with_it(store: Store) -> None:
    a, _ = _users(store)
    r = store.add_alert_rule(a.id, "breaking", "", "webhook", HOOK, "", T0)
    events = [(_event(r.id, a.id, "breaking:1:1"), "webhook", T0)]
    assert store.enqueue_alerts(events, T0, cursor=("alerts.cursor", "c1")) == 1
    assert store.enqueue_alerts(events + events, T0, cursor=("alerts.cursor", "c2")) == 0
    assert store.get_meta("alerts.cursor") == "c2"
    # an event of a rule removed meanwhile is skipped, not an error
    assert store.enqueue_alerts([(_event(99_999, a.id, "x"), "webhook", T0)], T0) == 0
    # fenced: a scanner that lost its lease commits nothing, not even the cursor
    assert store.try_lease("alert-scan", "w1", T0, 60)[0]
    assert store.try_lease("alert-scan", "w2", T0 + timedelta(seconds=61), 60)[0]
    with pytest.raises(LeaseLost):
        store.enqueue_alerts(
            [(_event(r.id, a.id, "breaking:1:2"), "webhook", T0)],
            T0 + timedelta(seconds=62),
            cursor=("alerts.cursor", "c3"),
            lease=("alert-scan", "w1"),
        )
    assert store.get_meta("alerts.cursor") == "c2"
    assert store.alert_outbox_counts()["pending"] == 1


def test_claims_outcomes_and_recovery(store: Store) -> None:
    a, b = _users(store)
    hook = store.add_alert_rule(a.id, "breaking", "", "webhook", HOOK, "", T0)
    mail = store.add_alert_rule(b.id, "breaking", "", "email", {"to": "b@x.example"}, "hourly", T0)
    later = T0 + timedelta(hours=1)
    store.enqueue_alerts(
        [
            (_event(hook.id, a.id, "h1"), "webhook", T0),
            (_event(hook.id, a.id, "h2"), "webhook", later),  # not due yet
            (_event(mail.id, b.id, "m1"), "email", T0),
            (_event(mail.id, b.id, "m2"), "email", T0),
        ],
        T0,
    )
    # limit 2 claims h1 and m1, and m2 with it: a digest goes out whole
    got = store.claim_alert_deliveries("w1", T0, 2, 60)
    assert sorted(d.event_key for d in got) == ["h1", "m1", "m2"]
    assert all(d.state == "sending" and d.attempts == 1 for d in got)
    assert store.claim_alert_deliveries("w2", T0, 10, 60) == []  # nothing due is left
    ids = {d.event_key: d.id for d in got}
    assert store.finish_alert_deliveries([ids["h1"]], "w2", "sent", T0) == 0  # not w2's
    assert store.finish_alert_deliveries([ids["h1"]], "w1", "sent", T0) == 1
    # w1 dies with the digest in hand: after its lease the email is not sent again
    assert store.recover_alert_deliveries(T0 + timedelta(seconds=30)) == (0, 0)
    assert store.recover_alert_deliveries(T0 + timedelta(seconds=61)) == (0, 2)
    counts = store.alert_outbox_counts()
    assert counts["sent"] == 1 and counts["unknown"] == 2 and counts["pending"] == 1
    # a webhook whose sender died is sent again (same row, same idempotency key)
    [h2] = store.claim_alert_deliveries("w1", later, 10, 60)
    assert store.recover_alert_deliveries(later + timedelta(seconds=61)) == (1, 0)
    [again] = store.claim_alert_deliveries("w3", later + timedelta(seconds=62), 10, 60)
    assert again.id == h2.id and again.attempts == 2
    assert again.idempotency_key == h2.idempotency_key == f"{hook.id}:h2"
    retry = later + timedelta(minutes=5)
    assert store.finish_alert_deliveries([again.id], "w3", "pending", later, "http_503", retry)
    assert store.claim_alert_deliveries("w3", retry - timedelta(seconds=1), 10, 60) == []
    [third] = store.claim_alert_deliveries("w3", retry, 10, 60)
    assert third.last_error == "http_503" and third.attempts == 3
    # each reader sees only their own outbox rows
    assert {d.user_id for d in store.list_alert_deliveries(a.id)} == {a.id}
    assert {d.event_key for d in store.list_alert_deliveries(b.id)} == {"m1", "m2"}
