"""The email digest: a period's alerts of one rule in one MIME message.

`digest_email(messages, ...)` renders the Jinja2 templates `templates/digest.txt` and
`templates/digest.html` (autoescaped: headlines come from feeds) into an
`email.message.EmailMessage` with a text/plain part and a text/html alternative, with
`Subject`, `From`, `To`, `Date`, `Message-ID`, `Auto-Submitted: auto-generated` and a
`List-Unsubscribe` link to the reader's alert settings page. `next_digest_at` says when
a rule's digest of an event is due (the next hour, or the next day at the rule's hour).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

import jinja2

from breakingon.alerts.model import AlertMessage

TEMPLATES = Path(__file__).parent / "templates"
DEFAULT_HOUR = 7  # a daily digest's hour (UTC) unless the rule names another


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def next_digest_at(period: str, after: datetime, hour: int = DEFAULT_HOUR) -> datetime:
    """When the digest holding an event at `after` is sent: the next full hour (hourly)
    or the next `hour`:00 UTC (daily)."""
    top = after.replace(minute=0, second=0, microsecond=0)
    if period == "hourly":
        return top + timedelta(hours=1)
    day = top.replace(hour=hour)
    return day if day > after else day + timedelta(days=1)


def digest_email(
    messages: Sequence[AlertMessage],
    *,
    to: str,
    sender: str,
    site_name: str,
    period: str,
    base_url: str,
    now: datetime,
) -> EmailMessage:
    """One digest of `messages` (oldest first in the list), as a MIME message."""
    if not messages:
        raise ValueError("a digest needs at least one message")
    n = len(messages)
    kind = "test" if all(m.event == "test" for m in messages) else period
    subject = f"{site_name}: {n} alert{'s' if n != 1 else ''} ({kind})"
    settings_url = f"{base_url.rstrip('/')}/alerts"
    values = {
        "site_name": site_name,
        "messages": list(messages),
        "period": period,
        "settings_url": settings_url,
        "now": now,
    }
    msg = EmailMessage()
    msg["Subject"] = " ".join(subject.split())
    msg["From"] = sender
    msg["To"] = to
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = make_msgid(domain=urlsplit(base_url).hostname or "localhost")
    msg["Auto-Submitted"] = "auto-generated"
    msg["List-Unsubscribe"] = f"<{settings_url}>"
    msg.set_content(_env().get_template("digest.txt").render(values))
    msg.add_alternative(_env().get_template("digest.html").render(values), subtype="html")
    return msg
