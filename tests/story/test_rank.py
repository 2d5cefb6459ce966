"""Importance score on crafted coverage where the right order is known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from breakingon.story.rank import Coverage, CoverageItem, RankSettings, score_story

NOW = datetime(2025, 2, 10, 12, 0, tzinfo=UTC)
CFG = RankSettings()


def _item(outlet: str, country: str, minutes_ago: float, **kw: object) -> CoverageItem:
    return CoverageItem(
        outlet=outlet, country=country, published=NOW - timedelta(minutes=minutes_ago), **kw
    )  # type: ignore[arg-type]


def test_wide_coverage_outranks_two_outlets() -> None:
    countries = ["US", "GB", "FR", "DE", "IN", "JP", "BR"]
    big = Coverage(tuple(_item(f"o{i}", countries[i % 7], 10 + i * 5) for i in range(12)))
    small = Coverage((_item("a", "US", 10), _item("b", "US", 20)))
    s_big, s_small = score_story(big, NOW, CFG), score_story(small, NOW, CFG)
    assert s_big.score > s_small.score
    assert "12 outlets in 7 countries in the last 3 hours" in s_big.explanation


def test_explanation_says_growth() -> None:
    before = [_item(f"old{i}", "US", 300 + i) for i in range(2)]
    recent = [_item(f"new{i}", ["US", "GB", "FR"][i % 3], 30 + i) for i in range(12)]
    imp = score_story(Coverage(tuple(before + recent)), NOW, CFG)
    assert "12 outlets in 3 countries in the last 3 hours, up from 2" in imp.explanation


def test_syndicated_copies_count_once() -> None:
    orig = _item("Wire", "US", 60, article_id="1")
    copies = tuple(
        _item(f"paper{i}", "US", 50 - i, article_id=str(10 + i), copy_of="1") for i in range(8)
    )
    only_orig = score_story(Coverage((orig,)), NOW, CFG)
    with_copies = score_story(Coverage((orig, *copies)), NOW, CFG)
    assert with_copies.score == only_orig.score
    assert "8 syndicated copies counted once" in with_copies.explanation
    # Eight independent reports instead do raise the score.
    indep = tuple(_item(f"paper{i}", "US", 50 - i, article_id=str(10 + i)) for i in range(8))
    assert score_story(Coverage((orig, *indep)), NOW, CFG).score > only_orig.score


def test_operator_weight_raises_a_source() -> None:
    plain = Coverage((_item("a", "US", 30), _item("b", "GB", 40)))
    boosted = Coverage((_item("a", "US", 30, weight=3.0), _item("b", "GB", 40)))
    assert score_story(boosted, NOW, CFG).score > score_story(plain, NOW, CFG).score


def test_recency_decays_and_is_deterministic() -> None:
    cov = Coverage((_item("a", "US", 30), _item("b", "GB", 40), _item("c", "FR", 50)))
    fresh = score_story(cov, NOW, CFG)
    later = score_story(cov, NOW + timedelta(hours=24), CFG)
    assert later.score < fresh.score / 4
    assert score_story(cov, NOW, CFG) == fresh
    assert "none in the last 3 hours" in later.explanation


def test_spread_over_countries_and_ownership_counts() -> None:
    same = Coverage(tuple(_item(f"o{i}", "US", 20 + i, ownership="private") for i in range(4)))
    spread = Coverage(
        tuple(
            _item(f"o{i}", c, 20 + i, ownership=own)
            for i, (c, own) in enumerate(
                [("US", "private"), ("GB", "public"), ("IN", "state"), ("KE", "nonprofit")]
            )
        )
    )
    assert score_story(spread, NOW, CFG).score > score_story(same, NOW, CFG).score


def test_future_reports_are_ignored() -> None:
    cov = Coverage((_item("a", "US", 30), _item("b", "US", -60)))
    assert score_story(cov, NOW, CFG) == score_story(Coverage((_item("a", "US", 30),)), NOW, CFG)


def test_newest_one_outlet_story_stays_below_a_developing_multi_outlet_story() -> None:
    # a developing story: three independent outlets, the latest 2 h 50 min ago
    developing = Coverage(
        (_item("a", "US", 170), _item("b", "GB", 200), _item("c", "FR", 240, ownership="public"))
    )
    # the newest item of all, from one outlet with the highest operator weight, many
    # countries' worth of metadata and every growth term it can have
    lone = Coverage((_item("Solo", "US", 0, weight=CFG.max_weight, ownership="state"),))
    dev, one = score_story(developing, NOW, CFG), score_story(lone, NOW, CFG)
    assert one.score < dev.score
    assert one.score < CFG.single_cap
    assert "one independent source: ranked below developing stories" in one.explanation
    # the same holds for any developing story: the floor alone beats the cap
    minimal = Coverage(
        (_item("a", "", 179, weight=0.0), _item("b", "", 179.5, weight=0.0)),
    )
    assert score_story(minimal, NOW, CFG).score > CFG.single_cap > one.score


def test_two_mastheads_of_one_owner_are_one_source() -> None:
    same_owner = Coverage(
        (_item("Daily A", "GB", 10, owner="Group"), _item("Daily B", "GB", 20, owner="group "))
    )
    two_owners = Coverage((_item("Daily A", "GB", 10, owner="Group"), _item("Other", "GB", 20)))
    assert score_story(same_owner, NOW, CFG).score < CFG.single_cap
    assert score_story(two_owners, NOW, CFG).score > CFG.single_cap


def test_a_breaking_one_source_story_may_lead() -> None:
    developing = Coverage((_item("a", "US", 100), _item("b", "GB", 120)))
    lone = Coverage((_item("Solo", "US", 5),))
    why = "fast start: 1 independent outlets within 0 min of the first report"
    flagged = score_story(lone, NOW, CFG, breaking=why)
    assert flagged.score > score_story(developing, NOW, CFG).score
    assert f"one source, but breaking ({why})" in flagged.explanation
