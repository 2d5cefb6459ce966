"""Trends: a bursting term trends, a steady one doesn't; terms come from real text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from breakingon.story.trends import Mention, TrendSettings, extract_terms, find_trends

NOW = datetime(2025, 2, 12, 12, 0, tzinfo=UTC)
CFG = TrendSettings(bucket_min=60, recent_buckets=3, baseline_buckets=48, min_z=3, min_mentions=3)


def _steady(term: str, per_hour: int, hours: int) -> list[Mention]:
    return [
        Mention(term, f"s-{term}-{h}", NOW - timedelta(hours=h, minutes=10 + 7 * k))
        for h in range(hours)
        for k in range(per_hour)
    ]


def test_burst_term_trends_steady_term_does_not() -> None:
    steady = _steady("Weather", 2, 51)
    burst = [
        Mention(
            "Harvey Weinstein", "story-a" if i % 3 else "story-b", NOW - timedelta(minutes=5 * i)
        )
        for i in range(12)
    ]
    trends = find_trends(steady + burst, NOW, CFG)
    terms = [t.term for t in trends]
    assert terms == ["Harvey Weinstein"]
    top = trends[0]
    assert top.recent_mentions == 12
    assert top.story_ids == ("story-a", "story-b")
    assert top.score > 3


def test_future_and_old_mentions_are_ignored() -> None:
    old = [Mention("Old News", "s", NOW - timedelta(days=5, minutes=i)) for i in range(30)]
    future = [Mention("Future", "s", NOW + timedelta(minutes=i + 1)) for i in range(30)]
    assert find_trends(old + future, NOW, CFG) == []


def test_term_forms_are_merged_case_insensitively() -> None:
    ms = [Mention("NASA" if i % 2 else "Nasa", "s1", NOW - timedelta(minutes=i)) for i in range(6)]
    trends = find_trends(ms, NOW, CFG)
    assert len(trends) == 1 and trends[0].recent_mentions == 6


def test_extract_terms_finds_names_and_key_phrases() -> None:
    terms = extract_terms(
        "Bank of England raises interest rates as inflation bites",
        "The Bank of England on Thursday raised interest rates. Governor Andrew Bailey said "
        "interest rates would stay high. However, the Treasury in London disagreed.",
    )
    assert terms[0] == "Bank of England"
    assert "interest rates" in terms
    assert "London" in terms
    assert any("Andrew Bailey" in t for t in terms)
    assert "However" not in terms and "The" not in terms and "Thursday" not in terms


def test_a_quiet_site_widens_the_recent_window_up_to_a_day() -> None:
    # a burst 10 to 14 hours ago, nothing since: the last 3 hours are empty
    burst = [Mention("Kiruna", "s-k", NOW - timedelta(hours=10, minutes=20 * i)) for i in range(9)]
    steady = _steady("Weather", 1, 72)
    trends = find_trends(burst + steady, NOW, CFG)
    assert [t.term for t in trends] == ["Kiruna"]
    # a day back is the limit: a burst two days ago is no trend now
    old = [Mention("Kiruna", "s-k", NOW - timedelta(hours=30, minutes=20 * i)) for i in range(9)]
    assert find_trends(old + steady, NOW, CFG) == []
    # a busy recent window keeps its three hours
    fresh = [Mention("Tokyo", "s-t", NOW - timedelta(minutes=15 * i)) for i in range(6)]
    assert [t.term for t in find_trends(burst + fresh + steady, NOW, CFG)] == ["Tokyo"]
