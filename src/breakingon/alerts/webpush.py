"""Web Push (RFC 8030) with VAPID (RFC 8292) and aes128gcm payloads (RFC 8291, 8188).

`push_request(subscription, msg, private_key, subject, now)` builds the POST to the
browser's push service: the JSON payload `{"title", "body", "url", "tag"}` (what the
site's service worker, /sw.js, shows) encrypted to the subscription's keys by
pywebpush's `WebPusher.encode` (http_ece, aes128gcm), and the VAPID `Authorization:
vapid t=<ES256 JWT>,k=<public key>` header signed by py_vapid with claims `aud` (the
push service's origin), `sub` (BREAKINGON_VAPID_SUBJECT, a mailto: or https: URL) and
`exp` (12 hours ahead). Only the encoding is pywebpush's: the request is sent by the
alert stage through the crawler's Fetcher, under the SSRF policy, never by pywebpush's
own HTTP clients.

Keys are base64url without padding: the private key is the raw 32-byte P-256 scalar
(BREAKINGON_VAPID_PRIVATE_KEY), the public key the 65-byte uncompressed point the
browser's `applicationServerKey` takes (`public_key_of`). `generate_vapid_keys` makes a
pair (`breakingon alerts vapid-keys`).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from urllib.parse import urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02, VapidException
from pywebpush import WebPusher, WebPushException

from breakingon.alerts.model import AlertMessage, Outbound, PushSubscription

JWT_LIFETIME_S = 12 * 3600
DEFAULT_TTL_S = 24 * 3600  # how long a push service keeps a message for an offline browser
MAX_PAYLOAD = 3_000  # push services accept 4 KiB of ciphertext; leave room for the record


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    raw = text.strip().encode("ascii")
    return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))


def generate_vapid_keys() -> tuple[str, str]:
    """A new (private, public) VAPID key pair, base64url."""
    key = ec.generate_private_key(ec.SECP256R1())
    private = key.private_numbers().private_value.to_bytes(32, "big")
    return b64url(private), _public(key)


def _public(key: ec.EllipticCurvePrivateKey) -> str:
    point = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url(point)


def _private_key(private_key: str) -> ec.EllipticCurvePrivateKey:
    try:
        raw = b64url_decode(private_key)
    except (ValueError, UnicodeEncodeError) as exc:
        raise ValueError(f"VAPID private key is not base64url ({exc})") from None
    if len(raw) != 32:
        raise ValueError("VAPID private key: expected 32 bytes (base64url, 43 characters)")
    try:
        return ec.derive_private_key(int.from_bytes(raw, "big"), ec.SECP256R1())
    except ValueError as exc:
        raise ValueError(f"VAPID private key is not a P-256 key ({exc})") from None


def public_key_of(private_key: str) -> str:
    """The browser's `applicationServerKey` for `private_key` (ValueError if malformed)."""
    return _public(_private_key(private_key))


def check_subject(subject: str) -> str | None:
    """Why `subject` cannot be the VAPID `sub` claim (a mailto: or https: URL), or None."""
    if subject.startswith("mailto:") and "@" in subject:
        return None
    if subject.startswith("https://") and urlsplit(subject).hostname:
        return None
    return "expected a mailto: address or an https: URL"


def check_subscription(endpoint: str, p256dh: str, auth: str) -> str | None:
    """Why a browser's subscription is unusable (the keys' sizes and shape), or None."""
    try:
        key = b64url_decode(p256dh)
        secret = b64url_decode(auth)
    except (ValueError, UnicodeEncodeError):
        return "keys are not base64url"
    if len(key) != 65 or key[0] != 4:
        return "p256dh is not an uncompressed P-256 point"
    if len(secret) != 16:
        return "auth is not 16 bytes"
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
    except ValueError:
        return "p256dh is not on the P-256 curve"
    if not endpoint.startswith("https://") and not endpoint.startswith("http://"):
        return "endpoint is not an http(s) URL"
    return None


def push_payload(msg: AlertMessage) -> bytes:
    """The JSON the service worker reads, cut to fit a push message."""
    doc = {"title": msg.title, "body": msg.text, "url": msg.url, "tag": msg.key}
    data = json.dumps(doc, ensure_ascii=False).encode()
    if len(data) > MAX_PAYLOAD:
        doc["body"] = msg.text[: max(0, len(msg.text) - (len(data) - MAX_PAYLOAD) - 1)] + "…"
        data = json.dumps(doc, ensure_ascii=False).encode()
    return data


def vapid_headers(endpoint: str, private_key: str, subject: str, now: datetime) -> dict[str, str]:
    """The VAPID Authorization header for a push to `endpoint`."""
    parts = urlsplit(endpoint)
    claims = {
        "aud": f"{parts.scheme}://{parts.netloc}",
        "sub": subject,
        "exp": int(now.timestamp()) + JWT_LIFETIME_S,
    }
    vapid = Vapid02()
    vapid.private_key = _private_key(private_key)
    try:
        signed: dict[str, str] = vapid.sign(claims)
    except VapidException as exc:
        raise ValueError(f"VAPID claims refused: {exc}") from None
    return signed


def push_request(
    sub: PushSubscription,
    msg: AlertMessage,
    private_key: str,
    subject: str,
    now: datetime,
    ttl_s: int = DEFAULT_TTL_S,
) -> Outbound:
    """The encrypted, VAPID-signed push of `msg` to `sub` (ValueError when the keys or
    the subscription are unusable)."""
    why = check_subscription(sub.endpoint, sub.p256dh, sub.auth)
    if why is not None:
        raise ValueError(f"push subscription {sub.id}: {why}")
    try:
        encoded = WebPusher(sub.info()).encode(push_payload(msg), "aes128gcm")
    except WebPushException as exc:
        raise ValueError(f"push subscription {sub.id}: {exc.message}") from None
    headers = vapid_headers(sub.endpoint, private_key, subject, now)
    return Outbound(
        url=sub.endpoint,
        body=bytes(encoded["body"]),
        content_type="application/octet-stream",
        headers=(
            ("Authorization", headers["Authorization"]),
            ("Content-Encoding", "aes128gcm"),
            ("TTL", str(ttl_s)),
            ("Urgency", "high" if msg.event == "breaking" else "normal"),
        ),
    )
