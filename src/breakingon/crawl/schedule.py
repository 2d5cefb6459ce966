"""When to poll each feed next: adaptive intervals, backoff with jitter, Retry-After, 410.

`next_check(feed, result, new_items, now, cfg)` is pure: it takes the feed's stored state,
the outcome of the fetch just made (None for a feed never fetched) and the number of new
items it gave, and returns a `FeedCheck` intent record for the store to persist.

- Success: the interval adapts to the feed's publishing rate (more new items per poll ->
  shorter interval, none -> longer), bounded by `min_interval_s`..`max_interval_s`.
  A 304 is a success with no new items, never a failure (newsboat PR #2785).
- Failure: exponential backoff from the current interval, capped at `backoff_cap_s`
  (7 days); the feed stays active and keeps being retried (never silent death, Miniflux
  #3334) and `last_error` / `error_count` say why.
- 429/503 with Retry-After: the next check is not before that time, and it is not counted
  as a hard error. Garbage Retry-After falls back to backoff.
- 410 Gone: status "ended", no next check; the feed and its articles are kept.
- Jitter is positive only (never earlier than the rule allows) and deterministic, derived
  from the feed URL and attempt, so restarts do not synchronize polls (Miniflux #3130).

This module does no I/O and imports only `records` and the standard library.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from breakingon.records import Feed, FeedStatus, FetchResult


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """Bounds of the adaptive schedule."""

    min_interval_s: int = 120
    max_interval_s: int = 6 * 3600
    backoff_cap_s: int = 7 * 24 * 3600
    grow_factor: float = 1.5  # interval multiplier after a poll with no new item
    target_new_items: float = 1.0  # aim for about this many new items per poll
    max_shrink: float = 0.25  # never shrink by more than this factor in one step
    jitter_fraction: float = 0.1  # up to +10 % of the delay
    initial_spread_s: int = 900  # first polls of new feeds spread over this window


@dataclass(frozen=True, slots=True)
class FeedCheck:
    """The schedule's decision for one feed (an intent record for the store)."""

    next_check_at: datetime | None  # None when the feed has ended
    interval_s: int
    error_count: int
    status: FeedStatus
    last_error: str | None
    succeeded: bool = False


def _jitter_fraction(url: str, attempt: int, salt: str) -> float:
    digest = hashlib.sha256(f"{url}\x00{attempt}\x00{salt}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _clamp(value: float, lo: int, hi: int) -> int:
    return int(min(max(value, lo), hi))


def adapt_interval(interval_s: int, new_items: int, cfg: ScheduleSettings) -> int:
    """The next polling interval after a successful poll that found `new_items` new items."""
    current = _clamp(interval_s, cfg.min_interval_s, cfg.max_interval_s)
    if new_items <= 0:
        return _clamp(current * cfg.grow_factor, cfg.min_interval_s, cfg.max_interval_s)
    factor = max(cfg.max_shrink, min(1.0, cfg.target_new_items / new_items))
    return _clamp(current * factor, cfg.min_interval_s, cfg.max_interval_s)


def backoff_delay_s(interval_s: int, error_count: int, cfg: ScheduleSettings) -> float:
    """Delay before retrying after `error_count` consecutive failures (>= 1), capped."""
    base = max(interval_s, cfg.min_interval_s)
    exponent = min(max(error_count - 1, 0), 60)
    return float(min(base * math.pow(2.0, exponent), cfg.backoff_cap_s))


def _at(now: datetime, delay_s: float, url: str, attempt: int, cfg: ScheduleSettings) -> datetime:
    jitter = delay_s * cfg.jitter_fraction * _jitter_fraction(url, attempt, now.isoformat())
    return now + timedelta(seconds=delay_s + jitter)


def next_check(
    feed: Feed,
    result: FetchResult | None,
    new_items: int,
    now: datetime,
    cfg: ScheduleSettings,
) -> FeedCheck:
    """Decide the feed's next check from the fetch just made (see the module docstring)."""
    interval = _clamp(feed.interval_s, cfg.min_interval_s, cfg.max_interval_s)
    if feed.status == "ended":
        return FeedCheck(None, interval, feed.error_count, "ended", feed.last_error)
    if result is None:
        # Never fetched: spread first polls so a bulk import or restart does not burst.
        spread = min(cfg.initial_spread_s, interval)
        offset = spread * _jitter_fraction(feed.url, 0, "initial")
        return FeedCheck(
            now + timedelta(seconds=offset),
            interval,
            feed.error_count,
            feed.status,
            feed.last_error,
        )
    if result.error == "gone":
        return FeedCheck(None, interval, feed.error_count, "ended", "gone")
    if result.error is None:
        nxt = adapt_interval(interval, new_items, cfg)
        return FeedCheck(_at(now, nxt, feed.url, 0, cfg), nxt, 0, feed.status, None, succeeded=True)
    if result.error == "rate_limited" and result.retry_after_s is not None:
        delay = max(result.retry_after_s, float(interval))
        return FeedCheck(
            _at(now, delay, feed.url, feed.error_count, cfg),
            interval,
            feed.error_count,
            feed.status,
            "rate_limited",
        )
    errors = feed.error_count + 1
    delay = backoff_delay_s(interval, errors, cfg)
    return FeedCheck(
        _at(now, delay, feed.url, errors, cfg), interval, errors, feed.status, result.error
    )
