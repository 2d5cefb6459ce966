"""Retry-After: how long a host asked us to wait (RFC 9110 section 10.2.3).

`parse_retry_after` reads delta-seconds or an HTTP-date, capped; `crawl.http` sets its
per-host embargo after a 429 or 503 with it.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

__all__ = ["parse_retry_after"]


def parse_retry_after(value: str | None, now: datetime, cap_s: float) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date), capped.

    Garbage gives None (the caller falls back to backoff); a date in the past gives 0.
    """
    if value is None:
        return None
    v = value.strip()
    if not v:
        return None
    if v.isdigit():
        return min(float(int(v)), cap_s)
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, min((when - now).total_seconds(), cap_s))
