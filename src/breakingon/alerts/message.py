"""What a reader gets for one event: its title, text and link, whatever the channel.

`message_for(delivery)` reads the story as the outbox row kept it (the story at the
event); `probe_message(rule, ...)` is the test alert `breakingon alerts test` sends.
"""

from __future__ import annotations

from datetime import datetime

from breakingon.alerts.model import AlertMessage, AlertRule, Delivery

MAX_TITLE = 200
MAX_TEXT = 1_000


def _clip(text: str, n: int) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= n else flat[: n - 1].rstrip() + "…"


def message_for(d: Delivery) -> AlertMessage:
    """The message of outbox row `d`."""
    p = d.payload
    headline = str(p.get("headline") or "A story")
    reason = str(p.get("reason") or "")
    dek = str(p.get("dek") or "")
    outlets = int(p.get("outlet_count") or 0)
    if d.event == "breaking":
        title, tags = f"Breaking: {headline}", ("breaking",)
    elif d.event == "brief_updated":
        title, tags = f"Updated: {headline}", ("updated",)
    else:
        title, tags = headline, ("new",)
    lines = [dek] if dek else []
    if d.event == "brief_updated":
        lines.append(f"The brief was revised (version {int(p.get('brief_version') or 0)}).")
    if outlets:
        lines.append(f"Reported by {outlets} outlet{'s' if outlets != 1 else ''}.")
    if reason and d.event != "breaking":
        lines.append(reason)
    return AlertMessage(
        event=d.event,
        title=_clip(title, MAX_TITLE),
        text=_clip(" ".join(lines), MAX_TEXT) or headline,
        url=str(p.get("url") or ""),
        key=d.idempotency_key,
        at=d.event_at,
        story_id=d.story_id,
        tags=tags,
        payload=p,
    )


def probe_message(rule: AlertRule, base_url: str, now: datetime) -> AlertMessage:
    """The message `breakingon alerts test` sends through `rule`'s channel."""
    target = f" ({rule.target})" if rule.target else ""
    return AlertMessage(
        event="test",
        title="BreakingOn test alert",
        text=f"Rule {rule.id}: {rule.kind}{target} by {rule.channel}. Alerts reach you here.",
        url=f"{base_url.rstrip('/')}/alerts",
        key=f"{rule.id}:test:{int(now.timestamp())}",
        at=now,
        tags=("test",),
        payload={"reason": "test", "rule": rule.id},
    )
