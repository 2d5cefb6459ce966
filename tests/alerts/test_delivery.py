"""Each channel end to end, on loopback: the alert stage sends through its channel and a
real receiver checks what arrived — an email digest at a real SMTP server (aiosmtpd),
parsed as MIME with a text and an HTML part; a Web Push message at a push endpoint with
a valid VAPID JWT (ES256 signature, aud, exp, sub) and a payload the browser's key
decrypts (http_ece); an ntfy publish with its headers."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta
from pathlib import Path

import pytest
from fakes import save_story, settings, smtp_server
from pushcheck import Browser, verify_vapid
from receiver import Receiver
from test_stage import Clock, T, add_rule, stage_for, steps, user

from breakingon.alerts.webpush import generate_vapid_keys
from breakingon.store import Store

pytestmark = pytest.mark.timeout(120)


def test_an_email_digest_reaches_a_real_smtp_server_as_text_and_html(
    store: Store, tmp_path: Path
) -> None:
    with smtp_server() as (inbox, smtp_url):
        cfg = settings(tmp_path, smtp_url=smtp_url, smtp_from="desk@news.example")
        a = user(store, "alice")
        add_rule(store, a, "email", to="alice@example.org", digest="hourly")
        save_story(store, T, headline="Dam breaks <upstream> & floods the valley")
        save_story(store, T + timedelta(seconds=1), headline="Second bridge closes")
        clock = Clock(T + timedelta(seconds=5))
        assert steps(stage_for(store, cfg, clock), 2) == 2  # queued for 13:00, none sent
        assert inbox.messages == []
        clock.at = T + timedelta(hours=1)
        steps(stage_for(store, cfg, clock, "w2"), 2)
        assert len(inbox.messages) == 1  # one digest for the two alerts
        rcpt, msg = inbox.messages[0]
        assert rcpt == ["alice@example.org"]
        assert msg["From"] == "desk@news.example" and msg["To"] == "alice@example.org"
        assert msg["Subject"] == "Test Desk: 2 alerts (hourly)"
        assert msg.get_content_type() == "multipart/alternative"
        text, html = msg.get_body(("plain",)), msg.get_body(("html",))
        assert text is not None and html is not None
        plain, markup = text.get_content(), html.get_content()
        assert "Breaking: Dam breaks <upstream> & floods the valley" in plain
        assert "Breaking: Second bridge closes" in plain
        assert "Dam breaks &lt;upstream&gt; &amp; floods" in markup
        assert "https://news.example/story/" in markup
    assert store.alert_outbox_counts()["sent"] == 2


def test_web_push_reaches_a_push_endpoint_signed_and_encrypted(
    store: Store, tmp_path: Path
) -> None:
    private, public = generate_vapid_keys()
    subject = "mailto:ops@news.example"
    with Receiver(lambda r: 201 if r.path == "/push/live" else 410) as push:
        cfg = settings(tmp_path, vapid_private_key=private, vapid_subject=subject)
        a = user(store, "alice")
        browser, gone = Browser(), Browser()
        store.add_push_subscription(
            a.id, push.url("/push/live"), browser.p256dh, browser.auth_b64, T
        )
        store.add_push_subscription(a.id, push.url("/push/gone"), gone.p256dh, gone.auth_b64, T)
        add_rule(store, a, "webpush")
        save_story(store, T)
        clock = Clock(T + timedelta(seconds=1))
        steps(stage_for(store, cfg, clock), 2)
        live = [r for r in push.received if r.path == "/push/live"]
        assert len(live) == 1 and len(push.received) == 2
        got = live[0]
        assert got.headers["content-encoding"] == "aes128gcm" and int(got.headers["ttl"]) > 0
        claims = verify_vapid(
            got.headers["authorization"], push.url("/push/live"), public, subject, clock.at
        )
        assert claims["aud"] == f"http://127.0.0.1:{push.port}"
        doc = browser.decrypt(got.body)
        assert doc["title"] == "Breaking: Dam breaks upstream of the valley"
        assert doc["url"].startswith("https://news.example/story/")
    # the subscription its push service called gone (410) is forgotten
    assert [s.endpoint for s in store.list_push_subscriptions(a.id)] == [push.url("/push/live")]
    assert store.alert_outbox_counts()["sent"] == 1


def test_ntfy_publishes_to_the_topic_url(store: Store, tmp_path: Path) -> None:
    with Receiver() as rx:
        a = user(store, "alice")
        add_rule(store, a, "ntfy", url=rx.url("/breaking-news"), token="tk_123", priority="5")
        save_story(store, T, headline="Séisme à Nice")
        steps(stage_for(store, settings(tmp_path), Clock(T + timedelta(seconds=1))), 2)
        [got] = rx.received
        assert got.path == "/breaking-news"
        assert (
            got.headers["title"]
            == "=?UTF-8?B?" + base64.b64encode("Breaking: Séisme à Nice".encode()).decode() + "?="
        )
        assert got.headers["priority"] == "5" and got.headers["tags"] == "rotating_light"
        assert got.headers["click"].startswith("https://news.example/story/")
        assert got.headers["authorization"] == "Bearer tk_123"
        assert "Water reached the town" in got.body.decode()


def test_the_probe_goes_through_the_channel_without_queueing(store: Store, tmp_path: Path) -> None:
    with Receiver() as rx:
        rule = add_rule(store, user(store, "alice"), "webhook", url=rx.url("/probe"))
        stage = stage_for(store, settings(tmp_path), Clock(T))

        async def probe() -> str:
            async with stage:
                return (await stage.send_probe(rule)).state

        assert asyncio.run(probe()) == "sent"
        [got] = rx.received
        assert json.loads(got.body)["event"] == "test"
    assert sum(store.alert_outbox_counts().values()) == 0
