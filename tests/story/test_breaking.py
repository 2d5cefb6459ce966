"""Breaking flag on crafted coverage: fast starts flag, slow spreads don't, flags expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from breakingon.story.breaking import (
    BreakingSettings,
    StreamArticle,
    breaking_state,
    replay_breaking,
)
from breakingon.story.rank import Coverage, CoverageItem

T0 = datetime(2025, 2, 10, 8, 0, tzinfo=UTC)
CFG = BreakingSettings(min_outlets=3, window_min=30, expire_h=6)


def _cov(*minutes: float, copies: int = 0) -> Coverage:
    items = [
        CoverageItem(outlet=f"o{i}", published=T0 + timedelta(minutes=m), article_id=str(i))
        for i, m in enumerate(minutes)
    ]
    items += [
        CoverageItem(
            outlet=f"copy{j}", published=T0 + timedelta(minutes=1 + j), copy_of="0", article_id=""
        )
        for j in range(copies)
    ]
    return Coverage(tuple(items))


def test_three_outlets_in_twenty_minutes_is_breaking() -> None:
    flag = breaking_state(_cov(0, 8, 20), T0 + timedelta(minutes=25), CFG)
    assert flag.is_breaking
    assert flag.since == T0 + timedelta(minutes=20)
    assert flag.until == T0 + timedelta(minutes=20, hours=6)
    assert "fast start" in flag.reason


def test_three_outlets_over_five_hours_is_not() -> None:
    flag = breaking_state(_cov(0, 150, 300), T0 + timedelta(hours=5, minutes=5), CFG)
    assert not flag.is_breaking
    assert flag.since is None


def test_not_breaking_before_the_third_report() -> None:
    assert not breaking_state(_cov(0, 8, 20), T0 + timedelta(minutes=15), CFG).is_breaking


def test_syndicated_copies_do_not_make_a_story_breaking() -> None:
    flag = breaking_state(_cov(0, copies=6), T0 + timedelta(minutes=10), CFG)
    assert not flag.is_breaking


def test_flag_expires() -> None:
    cov = _cov(0, 5, 10)
    assert breaking_state(cov, T0 + timedelta(hours=5), CFG).is_breaking
    late = breaking_state(cov, T0 + timedelta(hours=6, minutes=11), CFG)
    assert not late.is_breaking
    assert late.until == T0 + timedelta(hours=6, minutes=10)


def test_surge_after_slow_start_flags() -> None:
    # Two outlets in the morning, then eight within an hour in the afternoon.
    minutes = [0, 200] + [400 + 6 * i for i in range(8)]
    flag = breaking_state(_cov(*minutes), T0 + timedelta(minutes=450), CFG)
    assert flag.is_breaking
    assert "surge" in flag.reason


def test_replay_reports_delay_and_count() -> None:
    def art(story: str, outlet: str, minute: float, lag_s: float = 0.0) -> StreamArticle:
        pub = T0 + timedelta(minutes=minute)
        return StreamArticle(story, outlet, pub, seen=pub + timedelta(seconds=lag_s))

    stream = [
        art("fast", "a", 0),
        art("fast", "b", 5),
        art("fast", "c", 12, lag_s=40),
        art("slow", "a", 0),
        art("slow", "b", 120),
        art("slow", "c", 240),
    ]
    res = replay_breaking(stream, CFG)
    assert [f.story for f in res.flags] == ["fast"]
    assert res.flags[0].delay_s == 40.0
    assert res.evaluations == 6
    ticked = replay_breaking(stream, CFG, tick_s=600)
    assert 40.0 <= ticked.flags[0].delay_s <= 600.0
