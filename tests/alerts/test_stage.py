"""The alert stage over a real store (SQLite and PostgreSQL) and loopback receivers: a
breaking story fires exactly one delivery per rule and reader; a stage killed between
queueing and sending (or before the queue commits, or in the middle of a send) neither
loses nor repeats an alert; retries back off; mutes hold; private addresses are refused
before any connection."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fakes import ConnectLog, FakeResolver, save_story, settings, smtp_server
from receiver import Receiver

from breakingon.alerts.validate import rule_spec
from breakingon.alerts.webhook import verify
from breakingon.crawl.http import Fetcher
from breakingon.crawl.netpolicy import NetPolicy
from breakingon.pipeline.alert_stage import AlertStage, alert_fetch_settings
from breakingon.records import AlertRule, User
from breakingon.settings import Settings
from breakingon.store import Store

pytestmark = pytest.mark.timeout(120)
T = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SECTIONS = ("world", "politics", "sports")


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def user(store: Store, name: str) -> User:
    u = store.add_user(name, "argon-hash", None, T - timedelta(days=1))
    assert u is not None
    return u


def add_rule(
    store: Store, u: User, channel: str, target: str = "", kind: str = "breaking", **opts: str
) -> AlertRule:
    spec = rule_spec(
        kind, target, channel, opts, sections=SECTIONS, policy=NetPolicy.from_setting("127.0.0.0/8")
    )
    return store.add_alert_rule(
        u.id, spec.kind, spec.target, spec.channel, spec.config, spec.digest, T - timedelta(hours=1)
    )


def run(stage: AlertStage, fn: Callable[[AlertStage], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        async with stage:
            return await fn(stage)

    return asyncio.run(go())


def steps(stage: AlertStage, n: int = 1) -> int:
    async def go(s: AlertStage) -> int:
        return sum([await s.step() for _ in range(n)])

    return int(run(stage, go))


def stage_for(
    store: Store, cfg: Settings, clock: Clock, worker: str = "w1", **kw: Any
) -> AlertStage:
    return AlertStage(cfg, store, worker, clock=clock, **kw)


def test_a_breaking_story_fires_exactly_one_delivery_per_rule_and_reader(
    store: Store, tmp_path: Path
) -> None:
    cfg = settings(tmp_path)
    with Receiver() as rx:
        alice, bob, carol = user(store, "alice"), user(store, "bob"), user(store, "carol")
        rules = [
            add_rule(store, alice, "webhook", url=rx.url("/alice-1")),
            add_rule(store, alice, "webhook", url=rx.url("/alice-2")),
            add_rule(store, bob, "webhook", url=rx.url("/bob")),
        ]
        add_rule(store, carol, "webhook", target="sports", url=rx.url("/carol"))  # another section
        sid = save_story(store, T)
        clock = Clock(T + timedelta(seconds=2))
        assert steps(stage_for(store, cfg, clock), 3) == 3 + 3  # queued 3, sent 3
        # the story saved again (a new article, the same breaking episode), a fresh stage
        save_story(store, T + timedelta(minutes=1), story_id=sid)
        clock.at = T + timedelta(minutes=1, seconds=2)
        assert steps(stage_for(store, cfg, clock, "w2"), 2) == 0
        assert sorted(r.path for r in rx.received) == ["/alice-1", "/alice-2", "/bob"]
        secrets = {r.config["url"].rsplit("/", 1)[1]: r.config["secret"] for r in rules}
        for got in rx.received:
            assert verify(secrets[got.path[1:]], got.body, got.headers, clock.at)
        assert len({g.headers["x-breakingon-delivery"] for g in rx.received}) == 3
    counts = store.alert_outbox_counts()
    assert counts["sent"] == 3 and sum(counts.values()) == 3


def test_killed_between_queueing_and_sending_loses_and_repeats_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = settings(tmp_path)
    with Receiver() as rx:
        a, b = user(store, "alice"), user(store, "bob")
        add_rule(store, a, "webhook", url=rx.url("/a"))
        add_rule(store, b, "webhook", url=rx.url("/b"))
        save_story(store, T)
        clock = Clock(T + timedelta(seconds=1))
        dying = stage_for(store, cfg, clock)

        async def crash(limit: int = 32) -> int:
            raise RuntimeError("killed after the queue committed, before any send")

        monkeypatch.setattr(dying, "send_due", crash)
        with pytest.raises(RuntimeError):
            steps(dying)
        assert rx.received == [] and store.alert_outbox_counts()["pending"] == 2
        # a fresh stage (a restarted worker; the scan lease moved on) sends each once
        clock.at += timedelta(seconds=61)
        assert steps(stage_for(store, cfg, clock, "w2"), 3) == 2
        assert sorted(r.path for r in rx.received) == ["/a", "/b"]
    assert store.alert_outbox_counts()["sent"] == 2


def test_killed_before_the_queue_commits_loses_nothing(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = settings(tmp_path)
    with Receiver() as rx:
        add_rule(store, user(store, "alice"), "webhook", url=rx.url("/a"))
        save_story(store, T)
        clock = Clock(T + timedelta(seconds=1))
        real = store.enqueue_alerts
        monkeypatch.setattr(
            store, "enqueue_alerts", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("killed"))
        )
        with pytest.raises(RuntimeError):
            steps(stage_for(store, cfg, clock))
        assert store.get_meta("alerts.cursor") is None  # the cursor did not move
        monkeypatch.setattr(store, "enqueue_alerts", real)
        clock.at += timedelta(seconds=61)
        assert steps(stage_for(store, cfg, clock, "w2"), 2) == 2
        assert [r.path for r in rx.received] == ["/a"]


def test_killed_mid_send_webhooks_come_again_with_their_key_emails_never(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Receiver() as rx, smtp_server() as (inbox, smtp_url):
        cfg = settings(tmp_path, smtp_url=smtp_url)
        a = user(store, "alice")
        add_rule(store, a, "webhook", url=rx.url("/a"))
        add_rule(store, a, "email", to="alice@example.org", digest="hourly")
        save_story(store, T)
        clock = Clock(T + timedelta(seconds=1))
        real = store.finish_alert_deliveries

        def killed(*args: Any, **kw: Any) -> int:
            # both sends are out (each records its outcome in a thread of its own): die
            deadline = time.monotonic() + 30
            while not (rx.received and inbox.messages) and time.monotonic() < deadline:
                time.sleep(0.05)
            raise RuntimeError("killed after the send, before its outcome was recorded")

        monkeypatch.setattr(store, "finish_alert_deliveries", killed)
        dying = stage_for(store, cfg, clock)
        run(dying, lambda s: asyncio.to_thread(s.scan))
        clock.at = T + timedelta(hours=1)  # the hourly digest is due too
        with pytest.raises(RuntimeError):
            run(dying, lambda s: s.send_due())
        assert len(rx.received) == 1 and len(inbox.messages) == 1
        assert store.alert_outbox_counts()["sending"] == 2
        monkeypatch.setattr(store, "finish_alert_deliveries", real)
        clock.at += timedelta(seconds=cfg.lease_s + 1)  # the dead worker's lease is over
        steps(stage_for(store, cfg, clock, "w2"), 3)
        # the webhook came again with the same idempotency key; the email did not
        assert len(rx.received) == 2 and len(inbox.messages) == 1
        keys = {r.headers["x-breakingon-delivery"] for r in rx.received}
        assert len(keys) == 1
    counts = store.alert_outbox_counts()
    assert counts["sent"] == 1 and counts["unknown"] == 1


def test_failed_sends_back_off_and_honour_retry_after(store: Store, tmp_path: Path) -> None:
    answers = iter([503, 429, 200])
    cfg = settings(tmp_path)
    with Receiver(lambda _r: next(answers)) as rx:
        add_rule(store, user(store, "alice"), "webhook", url=rx.url("/a"))
        save_story(store, T)
        clock = Clock(T + timedelta(seconds=1))
        stage = stage_for(store, cfg, clock)
        steps(stage)  # 503
        [d] = store.list_alert_deliveries(store.find_user("alice").id)  # type: ignore[union-attr]
        assert d.state == "pending" and d.attempts == 1 and "503" in (d.last_error or "")
        assert d.next_attempt_at == clock.at + timedelta(seconds=30)
        clock.at += timedelta(seconds=20)
        assert steps(stage) == 0 and len(rx.received) == 1  # not due yet
        clock.at += timedelta(seconds=11)
        steps(stage)  # 429 (rate_limited, the default embargo of the host)
        [d] = store.list_alert_deliveries(d.user_id)
        assert d.state == "pending" and d.attempts == 2
        assert d.next_attempt_at >= clock.at + timedelta(seconds=60)
        clock.at = d.next_attempt_at + timedelta(seconds=61)
        steps(stage_for(store, cfg, clock, "w2"))
        [d] = store.list_alert_deliveries(d.user_id)
        assert d.state == "sent" and d.attempts == 3 and len(rx.received) == 3


def test_mutes_per_rule_and_per_reader(store: Store, tmp_path: Path) -> None:
    cfg = settings(tmp_path)
    with Receiver() as rx:
        a, b = user(store, "alice"), user(store, "bob")
        ra = add_rule(store, a, "webhook", url=rx.url("/a"))
        add_rule(store, b, "webhook", url=rx.url("/b"))
        store.mute_alert_rule(a.id, ra.id, T + timedelta(hours=1))
        store.mute_user_alerts(b.id, T + timedelta(hours=1))
        save_story(store, T)
        clock = Clock(T + timedelta(seconds=1))
        assert steps(stage_for(store, cfg, clock), 2) == 0
        assert rx.received == []
        # unmuted (the mute ends now): the story saved while muted stays dropped
        clock.at = T + timedelta(minutes=1)
        store.mute_alert_rule(a.id, ra.id, clock.at)
        store.mute_user_alerts(b.id, clock.at)
        assert steps(stage_for(store, cfg, clock), 2) == 0 and rx.received == []
        # muted after the event was queued: it is dropped at the send, not delivered later
        save_story(store, T + timedelta(hours=2), headline="A second dam breaks")
        clock.at = T + timedelta(hours=2, seconds=1)
        stage = stage_for(store, cfg, clock, "w2")
        run(stage, lambda s: asyncio.to_thread(s.scan))
        store.mute_user_alerts(a.id, T + timedelta(days=1))
        steps(stage)
        assert [r.path for r in rx.received] == ["/b"]
    assert store.alert_outbox_counts()["muted"] == 1


@pytest.mark.parametrize(
    ("url", "answers", "needle"),
    [
        ("http://10.0.0.7/hook", {}, "10.0.0.7"),
        ("http://169.254.169.254/latest/meta-data/", {}, "169.254.169.254"),
        ("http://hooks.corp.example/in", {"hooks.corp.example": ["10.20.30.40"]}, "10.20.30.40"),
        ("http://metadata.example/", {"metadata.example": ["169.254.169.254"]}, "169.254.169.254"),
        ("http://me.example:8080/", {"me.example": ["127.0.0.1"]}, "127.0.0.1"),
        ("http://localhost:8080/hook", {}, "127.0.0.1"),
        (
            "http://mixed.example/",
            {"mixed.example": ["93.184.216.34", "192.168.1.5"]},
            "192.168.1.5",
        ),
    ],
)
def test_a_webhook_at_a_private_address_is_refused_with_no_connection(
    store: Store, tmp_path: Path, url: str, answers: dict[str, list[str]], needle: str
) -> None:
    cfg = settings(tmp_path, fetch_allow_networks=())  # production: no range re-allowed
    a = user(store, "mallory")
    # stored as it would be after a DNS change (the add-time check cannot see names)
    store.add_alert_rule(
        a.id,
        "breaking",
        "",
        "webhook",
        {"url": url, "secret": "s" * 20},
        "",
        T - timedelta(hours=1),
    )
    save_story(store, T)
    hook, resolver = ConnectLog(), FakeResolver(answers)
    fetcher = Fetcher(alert_fetch_settings(cfg), NetPolicy(), resolver=resolver, connect_hook=hook)
    steps(stage_for(store, cfg, Clock(T + timedelta(seconds=1)), fetcher=fetcher), 2)
    [d] = store.list_alert_deliveries(a.id)
    assert d.state == "failed" and d.attempts == 1
    assert (
        d.last_error is not None
        and d.last_error.startswith("address_not_allowed")
        and needle in d.last_error
    )
    assert hook.attempts == []  # no connection was made, to any address
