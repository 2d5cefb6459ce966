"""The adaptive feed schedule (error backoff, adaptive intervals, 2 min..6 h bounds); pure."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from breakingon.crawl.schedule import (
    ScheduleSettings,
    adapt_interval,
    next_check,
)
from breakingon.records import Feed, FetchResult

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
CFG = ScheduleSettings()


def _feed(**kw: object) -> Feed:
    base: dict[str, object] = {"url": "https://news.example/rss", "outlet": "News"}
    base.update(kw)
    return Feed(**base)  # type: ignore[arg-type]


def _ok(status: int = 200) -> FetchResult:
    return FetchResult(url="u", final_url="u", status=status)


def _err(code: str, status: int | None = None) -> FetchResult:
    return FetchResult(url="u", final_url="u", status=status, error=code)


def _delay(check_at: datetime | None) -> float:
    assert check_at is not None
    return (check_at - NOW).total_seconds()


def test_busy_feed_is_polled_more_often_quiet_feed_less() -> None:
    feed = _feed(interval_s=1800)
    busy = next_check(feed, _ok(), 6, NOW, CFG)
    steady = next_check(feed, _ok(), 1, NOW, CFG)
    quiet = next_check(feed, _ok(), 0, NOW, CFG)
    assert busy.interval_s < steady.interval_s < quiet.interval_s
    assert steady.interval_s == 1800
    assert busy.succeeded and busy.error_count == 0 and busy.last_error is None
    # Jitter only ever delays, by at most 10 %.
    assert 1800 <= _delay(steady.next_check_at) <= 1800 * 1.1


def test_interval_stays_within_bounds() -> None:
    interval = 900
    for _ in range(30):
        interval = adapt_interval(interval, 1000, CFG)
    assert interval == CFG.min_interval_s == 120
    for _ in range(30):
        interval = adapt_interval(interval, 0, CFG)
    assert interval == CFG.max_interval_s == 6 * 3600
    custom = ScheduleSettings(min_interval_s=900, max_interval_s=3600)
    assert adapt_interval(60, 50, custom) == 900


def test_304_is_a_success_not_a_failure() -> None:
    feed = _feed(interval_s=600, error_count=3, last_error="timeout")
    check = next_check(feed, _ok(304), 0, NOW, CFG)
    assert check.succeeded and check.error_count == 0 and check.last_error is None
    assert check.interval_s == 900  # nothing new: a little slower
    assert check.status == "active"


def test_failures_back_off_exponentially_to_a_cap_and_never_stop() -> None:
    feed = _feed(interval_s=600)
    delays = []
    for _ in range(20):
        check = next_check(feed, _err("timeout"), 0, NOW, CFG)
        delays.append(_delay(check.next_check_at))
        assert check.status == "active" and check.last_error == "timeout"
        feed = _feed(interval_s=check.interval_s, error_count=check.error_count)
    assert feed.error_count == 20
    assert delays[0] >= 600 and delays[1] >= 1200 and delays[2] >= 2400
    assert all(b >= a * 0.9 for a, b in itertools.pairwise(delays))
    cap = CFG.backoff_cap_s
    assert max(delays) <= cap * (1 + CFG.jitter_fraction)
    assert delays[-1] >= cap  # still scheduled, at the cap


def test_gone_ends_the_feed_and_ended_feeds_stay_ended() -> None:
    check = next_check(_feed(), _err("gone", 410), 0, NOW, CFG)
    assert check.status == "ended" and check.next_check_at is None
    again = next_check(_feed(status="ended"), _ok(), 3, NOW, CFG)
    assert again.status == "ended" and again.next_check_at is None


def test_retry_after_is_a_floor() -> None:
    res = FetchResult(
        url="u", final_url="u", status=503, error="rate_limited", retry_after_s=86400.0
    )
    check = next_check(_feed(interval_s=300), res, 0, NOW, CFG)
    assert _delay(check.next_check_at) >= 86400
    garbage = FetchResult(
        url="u", final_url="u", status=429, error="rate_limited", retry_after_s=None
    )
    fallback = next_check(_feed(interval_s=300), garbage, 0, NOW, CFG)
    assert fallback.error_count == 1 and _delay(fallback.next_check_at) >= 300


def test_new_feeds_and_restarts_are_spread_not_synchronized() -> None:
    feeds = [_feed(url=f"https://host.example/feed/{i}", interval_s=900) for i in range(50)]
    firsts = [next_check(f, None, 0, NOW, CFG).next_check_at for f in feeds]
    offsets = sorted(_delay(t) for t in firsts)
    assert all(0 <= o < 900 for o in offsets)
    assert len({round(o, 3) for o in offsets}) == 50
    assert offsets[-1] - offsets[0] > 600  # spread across most of the window
    # After a poll, 50 feeds with the same interval still do not come due together.
    after = sorted(_delay(next_check(f, _ok(), 1, NOW, CFG).next_check_at) for f in feeds)
    assert after[-1] - after[0] > 900 * CFG.jitter_fraction * 0.5
    # Deterministic: the same inputs give the same decision.
    assert next_check(feeds[0], _ok(), 1, NOW, CFG) == next_check(feeds[0], _ok(), 1, NOW, CFG)


@pytest.mark.parametrize(
    "code",
    ["timeout", "dns", "connect", "tls", "deadline_exceeded", "too_large", "protocol", "http_500"],
)
def test_every_error_is_recorded(code: str) -> None:
    check = next_check(_feed(), _err(code), 0, NOW, CFG)
    assert check.last_error == code and check.error_count == 1 and check.next_check_at is not None
