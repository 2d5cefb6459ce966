"""What each channel builds: the signed webhook, the ntfy request, the Web Push request
(VAPID JWT and aes128gcm payload, checked as a push service would), the email digest."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from pushcheck import Browser, verify_vapid

from breakingon.alerts.digest import digest_email, next_digest_at
from breakingon.alerts.message import message_for, probe_message
from breakingon.alerts.model import AlertRule, Delivery, PushSubscription
from breakingon.alerts.ntfy import ntfy_request
from breakingon.alerts.webhook import signature, verify, webhook_request
from breakingon.alerts.webpush import (
    check_subscription,
    generate_vapid_keys,
    public_key_of,
    push_request,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
SECRET = "a-webhook-secret-of-some-length"


def rule(channel: str = "webhook", **config: str) -> AlertRule:
    return AlertRule(
        id=4,
        user_id=1,
        kind="breaking",
        target="",
        channel=channel,  # type: ignore[arg-type]
        config={"url": "https://hooks.example/in", "secret": SECRET, **config},
        created_at=NOW,
    )


def delivery(event: str = "breaking", **payload: object) -> Delivery:
    p: dict[str, object] = {
        "id": 9,
        "headline": "Dam breaks <b>upstream</b> — towns evacuated",
        "dek": "Water reached the valley at dawn.",
        "url": "https://news.example/story/9",
        "outlet_count": 3,
        "reason": "Breaking",
        "brief_version": 2,
    }
    p.update(payload)
    return Delivery(
        id=1,
        rule_id=4,
        user_id=1,
        story_id=9,
        event_key="breaking:9:1767000000",
        event=event,  # type: ignore[arg-type]
        channel="webhook",
        state="pending",
        attempts=0,
        next_attempt_at=NOW,
        created_at=NOW,
        event_at=NOW - timedelta(seconds=5),
        payload=p,
    )


def test_the_webhook_is_signed_over_timestamp_and_exact_body() -> None:
    msg = message_for(delivery())
    req = webhook_request(msg, rule(), NOW)
    headers = {k.lower(): v for k, v in req.headers}
    assert req.content_type == "application/json" and req.url == "https://hooks.example/in"
    assert headers["x-breakingon-delivery"] == "4:breaking:9:1767000000"
    assert headers["x-breakingon-event"] == "breaking"
    ts = int(headers["x-breakingon-timestamp"])
    assert ts == int(NOW.timestamp())
    assert headers["x-breakingon-signature"] == signature(SECRET, ts, req.body)
    assert verify(SECRET, req.body, headers, NOW + timedelta(seconds=30))
    doc = json.loads(req.body)
    assert doc["event"] == "breaking" and doc["story"]["id"] == 9 and doc["rule"]["id"] == 4
    assert doc["title"].startswith("Breaking: Dam breaks")
    # tampering, a wrong secret and a replay long after are all refused
    assert not verify(SECRET, req.body + b" ", headers, NOW)
    assert not verify("another-secret-entirely", req.body, headers, NOW)
    assert not verify(SECRET, req.body, {**headers, "x-breakingon-timestamp": str(ts + 1)}, NOW)
    assert not verify(SECRET, req.body, headers, NOW + timedelta(minutes=10))
    assert not verify(SECRET, req.body, {}, NOW)


def test_ntfy_request_carries_title_tags_click_priority_and_token() -> None:
    msg = message_for(delivery(headline="Séisme à Nice"))
    req = ntfy_request(msg, rule("ntfy", url="https://ntfy.example/breaking", token="tk_abc"))
    h = dict(req.headers)
    assert req.url == "https://ntfy.example/breaking"
    assert req.body.decode() == msg.text and "Water reached the valley" in msg.text
    assert h["Title"].startswith("=?UTF-8?B?")
    assert base64.b64decode(h["Title"][10:-2]).decode() == "Breaking: Séisme à Nice"
    assert h["Tags"] == "rotating_light" and h["Priority"] == "4"
    assert h["Click"] == "https://news.example/story/9"
    assert h["Authorization"] == "Bearer tk_abc"
    assert all(v.isascii() for v in h.values())
    plain = ntfy_request(message_for(delivery("new_story", headline="Plain")), rule("ntfy"))
    assert dict(plain.headers)["Title"] == "Plain" and dict(plain.headers)["Priority"] == "3"


def test_web_push_request_is_vapid_signed_and_decrypts_for_the_browser() -> None:
    private, public = generate_vapid_keys()
    assert public_key_of(private) == public
    browser = Browser()
    endpoint = "https://push.example:8443/wpush/v2/abc"
    sub = PushSubscription(1, 1, endpoint, browser.p256dh, browser.auth_b64, NOW)
    msg = message_for(delivery())
    req = push_request(sub, msg, private, "mailto:ops@news.example", NOW)
    h = dict(req.headers)
    assert h["Content-Encoding"] == "aes128gcm" and h["Urgency"] == "high" and int(h["TTL"]) > 0
    claims = verify_vapid(h["Authorization"], endpoint, public, "mailto:ops@news.example", NOW)
    assert claims["aud"] == "https://push.example:8443"
    doc = browser.decrypt(req.body)
    assert doc == {"title": msg.title, "body": msg.text, "url": msg.url, "tag": msg.key}


def test_unusable_push_subscriptions_and_keys_are_refused() -> None:
    browser = Browser()
    assert check_subscription("https://p.example/", browser.p256dh, browser.auth_b64) is None
    assert check_subscription("https://p.example/", browser.p256dh[:-4], browser.auth_b64)
    assert check_subscription("https://p.example/", browser.p256dh, "AAAA")
    assert check_subscription("https://p.example/", "!!!", browser.auth_b64)
    assert check_subscription("ftp://p.example/", browser.p256dh, browser.auth_b64)
    sub = PushSubscription(1, 1, "https://p.example/", browser.p256dh, "AAAA", NOW)
    private, _ = generate_vapid_keys()
    with pytest.raises(ValueError, match="auth"):
        push_request(sub, message_for(delivery()), private, "mailto:a@b.example", NOW)
    with pytest.raises(ValueError, match="VAPID private key"):
        public_key_of("not-a-key")


def test_the_digest_is_mime_with_a_text_and_an_escaped_html_part() -> None:
    msgs = [
        message_for(delivery()),
        message_for(delivery("brief_updated", headline="Vote delayed")),
    ]
    email = digest_email(
        msgs,
        to="reader@example.org",
        sender="alerts@news.example",
        site_name="Daily Wire",
        period="hourly",
        base_url="https://news.example",
        now=NOW,
    )
    parsed = message_from_bytes(email.as_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Daily Wire: 2 alerts (hourly)"
    assert parsed["To"] == "reader@example.org" and parsed["Auto-Submitted"] == "auto-generated"
    assert parsed["List-Unsubscribe"] == "<https://news.example/alerts>"
    assert parsed.get_content_type() == "multipart/alternative"
    text = parsed.get_body(("plain",))
    html = parsed.get_body(("html",))
    assert text is not None and html is not None
    plain, markup = text.get_content(), html.get_content()
    assert "Breaking: Dam breaks <b>upstream</b>" in plain and "Updated: Vote delayed" in plain
    assert "https://news.example/story/9" in plain
    assert "&lt;b&gt;upstream&lt;/b&gt;" in markup and "<b>upstream" not in markup
    assert 'href="https://news.example/story/9"' in markup
    with pytest.raises(ValueError):
        digest_email(
            [],
            to="a@b.example",
            sender="s@b.example",
            site_name="x",
            period="daily",
            base_url="https://b.example",
            now=NOW,
        )


def test_digest_times_and_the_test_message() -> None:
    at = datetime(2026, 12, 3, 12, 34, tzinfo=UTC)
    assert next_digest_at("hourly", at) == datetime(2026, 12, 3, 13, 0, tzinfo=UTC)
    assert next_digest_at("daily", at, 7) == datetime(2026, 12, 4, 7, 0, tzinfo=UTC)
    assert next_digest_at("daily", at, 18) == datetime(2026, 12, 3, 18, 0, tzinfo=UTC)
    t = probe_message(rule(), "https://news.example/", NOW)
    assert t.event == "test" and t.url == "https://news.example/alerts" and "Rule 4" in t.text
