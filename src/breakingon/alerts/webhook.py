"""Webhooks: a JSON POST signed with HMAC-SHA256, and how a receiver checks it.

The request (`webhook_request`):

    POST <the rule's url>
    Content-Type: application/json
    X-BreakingOn-Event: breaking | new_story | brief_updated | test
    X-BreakingOn-Delivery: <idempotency key: the same on every retry of one alert>
    X-BreakingOn-Timestamp: <unix seconds when this attempt was signed>
    X-BreakingOn-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>." + body)>

The signature covers the timestamp and the exact body bytes, so neither can be changed;
a receiver recomputes it over the raw body it read (`verify`, constant time) and refuses
a timestamp older than a few minutes (a replayed request) and a delivery key it has
already seen (a retry after an answer that was lost). The body:

    {"id": <delivery key>, "event": ..., "title": ..., "text": ..., "url": ...,
     "at": <ISO time of the event>, "rule": {"id", "kind", "target"},
     "story": {"id", "headline", "dek", "url", "sections", "places", "outlets", ...}}
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime

from breakingon.alerts.model import AlertMessage, AlertRule, Outbound

SIGNATURE_HEADER = "X-BreakingOn-Signature"
TIMESTAMP_HEADER = "X-BreakingOn-Timestamp"
DELIVERY_HEADER = "X-BreakingOn-Delivery"
EVENT_HEADER = "X-BreakingOn-Event"
TOLERANCE_S = 300  # a receiver refuses signatures older (or newer) than this


def webhook_body(msg: AlertMessage, rule: AlertRule) -> bytes:
    """The JSON body (UTF-8, keys sorted, compact)."""
    story = {k: v for k, v in msg.payload.items() if k != "reason"} if msg.story_id else None
    doc = {
        "id": msg.key,
        "event": msg.event,
        "title": msg.title,
        "text": msg.text,
        "url": msg.url,
        "at": msg.at.isoformat(),
        "reason": msg.payload.get("reason", ""),
        "rule": {"id": rule.id, "kind": rule.kind, "target": rule.target},
        "story": story,
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 with `secret` over `"<timestamp>." + body`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def webhook_request(msg: AlertMessage, rule: AlertRule, now: datetime) -> Outbound:
    """The signed POST of `msg` to `rule`'s webhook (config url and secret)."""
    url = rule.config.get("url", "")
    secret = rule.config.get("secret", "")
    if not url or not secret:
        raise ValueError(f"rule {rule.id}: a webhook needs a url and a secret")
    body = webhook_body(msg, rule)
    ts = int(now.timestamp())
    return Outbound(
        url=url,
        body=body,
        content_type="application/json",
        headers=(
            (EVENT_HEADER, msg.event),
            (DELIVERY_HEADER, msg.key),
            (TIMESTAMP_HEADER, str(ts)),
            (SIGNATURE_HEADER, signature(secret, ts, body)),
        ),
    )


def verify(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    now: datetime,
    tolerance_s: int = TOLERANCE_S,
) -> bool:
    """A receiver's check: the signature matches `body` and the timestamp, and the
    timestamp is within `tolerance_s` of `now`. `headers` keys are lower-case."""
    raw_ts = headers.get(TIMESTAMP_HEADER.lower(), "")
    given = headers.get(SIGNATURE_HEADER.lower(), "")
    if not raw_ts.isdigit() or not given.startswith("sha256="):
        return False
    ts = int(raw_ts)
    if abs(now.timestamp() - ts) > tolerance_s:
        return False
    return hmac.compare_digest(given.encode(), signature(secret, ts, body).encode())
