"""ntfy-compatible push: a POST of the message text to the topic URL, as ntfy documents
publishing (https://docs.ntfy.sh/publish/): the body is the message, and the headers
`Title`, `Tags`, `Click` and `Priority` carry the rest. A title that is not ASCII is
sent RFC 2047-encoded (`=?UTF-8?B?...?=`), which ntfy decodes. An access token from the
rule's config goes in `Authorization: Bearer`. Works with ntfy.sh, a self-hosted ntfy
server, or anything that reads the same request.
"""

from __future__ import annotations

import base64

from breakingon.alerts.model import AlertMessage, AlertRule, Outbound

PRIORITIES = {"min": 1, "low": 2, "default": 3, "high": 4, "max": 5, "urgent": 5}
_TAGS = {"breaking": "rotating_light", "updated": "pencil2", "new": "newspaper", "test": "bell"}


def parse_priority(raw: str) -> int:
    """ntfy's priority, 1-5 or a name (min, low, default, high, max/urgent)."""
    value = raw.strip().lower()
    if value.isdigit() and 1 <= int(value) <= 5:
        return int(value)
    if value in PRIORITIES:
        return PRIORITIES[value]
    raise ValueError(f"ntfy priority {raw!r}: expected 1-5 or one of {', '.join(PRIORITIES)}")


def header_text(value: str) -> str:
    """`value` on one line, as is when ASCII, else RFC 2047 base64 UTF-8."""
    flat = " ".join(value.split())
    if flat.isascii():
        return flat
    return "=?UTF-8?B?" + base64.b64encode(flat.encode()).decode("ascii") + "?="


def ntfy_request(msg: AlertMessage, rule: AlertRule) -> Outbound:
    """The publish request of `msg` to `rule`'s topic URL (config url, token?, priority?)."""
    url = rule.config.get("url", "")
    if not url:
        raise ValueError(f"rule {rule.id}: ntfy needs the topic url")
    raw = rule.config.get("priority", "")
    priority = parse_priority(raw) if raw else (4 if msg.event == "breaking" else 3)
    headers = [
        ("Title", header_text(msg.title)),
        ("Tags", ",".join(_TAGS.get(t, t) for t in msg.tags if t.isascii())),
        ("Priority", str(priority)),
    ]
    if msg.url:
        headers.append(("Click", msg.url))
    token = rule.config.get("token", "")
    if token:
        headers.append(("Authorization", f"Bearer {token}"))
    return Outbound(
        url=url,
        body=msg.text.encode(),
        content_type="text/plain; charset=utf-8",
        headers=tuple(headers),
    )
