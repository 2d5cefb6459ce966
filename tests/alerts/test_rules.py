"""Which story events fire which rule (alerts.rules.match), and the rule checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from breakingon.alerts.model import AlertRule, StoryChange
from breakingon.alerts.rules import match, matches_search
from breakingon.alerts.validate import RuleError, rule_spec
from breakingon.crawl.netpolicy import NetPolicy
from breakingon.records import Follow, Place, Story

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
BASE = "https://news.example"
PARIS = Place(2988507, "Paris", "FR", "city", 48.85, 2.35)
SECTIONS = ("world", "politics", "business", "sports")


def story(**kw: object) -> Story:
    base: dict[str, object] = {
        "id": 7,
        "headline": "Earthquake strikes central Italy",
        "dek": "Rescuers search collapsed buildings in Amatrice.",
        "first_reported": NOW - timedelta(minutes=20),
        "last_reported": NOW - timedelta(minutes=2),
        "article_count": 5,
        "outlet_count": 4,
        "outlets": ("Wire One", "Daily Two"),
        "sections": ("world",),
        "places": (PARIS,),
        "updated_at": NOW - timedelta(minutes=1),
    }
    base.update(kw)
    return Story(**base)  # type: ignore[arg-type]


def breaking(**kw: object) -> Story:
    return story(
        breaking_since=NOW - timedelta(minutes=5), breaking_until=NOW + timedelta(hours=6), **kw
    )


def rule(
    rid: int, kind: str = "breaking", target: str = "", user: int = 1, **kw: object
) -> AlertRule:
    base: dict[str, object] = {
        "id": rid,
        "user_id": user,
        "kind": kind,
        "target": target,
        "channel": "webhook",
        "config": {"url": "https://hooks.example/x", "secret": "s" * 20},
        "created_at": NOW - timedelta(days=1),
    }
    base.update(kw)
    return AlertRule(**base)  # type: ignore[arg-type]


def follow(kind: str, value: str, user: int = 1, ago: timedelta = timedelta(days=1)) -> Follow:
    return Follow(0, user, kind, value, value.title(), NOW - ago)  # type: ignore[arg-type]


def keys(events: list) -> list[tuple[int, str, str]]:  # type: ignore[type-arg]
    return sorted((e.rule_id, e.key, e.kind) for e in events)


def test_a_breaking_story_fires_each_breaking_rule_once_with_a_stable_key() -> None:
    rules = [rule(1, user=1), rule(2, user=2), rule(3, target="sports", user=3)]
    s = breaking()
    first = match(StoryChange(s), rules, {}, NOW, base_url=BASE)
    epoch = int(s.breaking_since.timestamp())  # type: ignore[union-attr]
    assert keys(first) == [
        (1, f"breaking:7:{epoch}", "breaking"),
        (2, f"breaking:7:{epoch}", "breaking"),
    ]
    # seen again later (the stage re-reads a margin): the same events, the same keys
    again = match(
        StoryChange(replace(s, updated_at=NOW)),
        rules,
        {},
        NOW + timedelta(minutes=1),
        base_url=BASE,
    )
    assert keys(again) == keys(first)
    assert first[0].payload["url"] == f"{BASE}/story/7" and first[0].payload["reason"] == "Breaking"
    # a new breaking episode is a new event
    later = replace(
        s, breaking_since=NOW + timedelta(hours=8), breaking_until=NOW + timedelta(hours=14)
    )
    assert (
        keys(match(StoryChange(later), rules, {}, NOW + timedelta(hours=9), base_url=BASE))[0][1]
        != first[0].key
    )


def test_no_event_when_not_breaking_expired_merged_muted_or_older_than_the_rule() -> None:
    r = rule(1)
    assert match(StoryChange(story()), [r], {}, NOW, base_url=BASE) == []
    assert match(StoryChange(breaking()), [r], {}, NOW + timedelta(hours=7), base_url=BASE) == []
    assert match(StoryChange(breaking(merged_into=3)), [r], {}, NOW, base_url=BASE) == []
    muted = replace(r, muted_until=NOW + timedelta(hours=1))
    assert match(StoryChange(breaking()), [muted], {}, NOW, base_url=BASE) == []
    user_muted = replace(r, user_muted_until=NOW + timedelta(minutes=1))
    assert match(StoryChange(breaking()), [user_muted], {}, NOW, base_url=BASE) == []
    expired_mute = replace(r, muted_until=NOW - timedelta(minutes=1))
    assert len(match(StoryChange(breaking()), [expired_mute], {}, NOW, base_url=BASE)) == 1
    newer = replace(r, created_at=NOW)  # made after the story's last save
    assert match(StoryChange(breaking()), [newer], {}, NOW, base_url=BASE) == []


def test_a_section_target_limits_a_breaking_rule() -> None:
    sports = rule(1, target="sports")
    world = rule(2, target="world")
    got = match(StoryChange(breaking()), [sports, world], {}, NOW, base_url=BASE)
    assert [e.rule_id for e in got] == [2]


def test_follows_fire_once_per_story_however_many_follows_match() -> None:
    r = rule(1, kind="follows")
    follows = {
        1: [
            follow("section", "world"),
            follow("place", str(PARIS.geonameid)),
            follow("search", "earthquake italy"),
        ]
    }
    got = match(StoryChange(story()), [r], follows, NOW, base_url=BASE)
    assert keys(got) == [(1, "story:7", "new_story")]
    assert got[0].payload["reason"].startswith("Following: ")


@pytest.mark.parametrize(
    "f",
    [
        follow("section", "world"),
        follow("place", str(PARIS.geonameid)),
        follow("place", "3017382"),  # France: a country matches its places
        follow("outlet", "12"),
        follow("search", "EARTHQUAKE"),
    ],
)
def test_each_kind_of_follow_matches_a_new_story(f: Follow) -> None:
    got = match(
        StoryChange(story()),
        [rule(1, kind="follows")],
        {1: [f]},
        NOW,
        base_url=BASE,
        outlet_ids={"Wire One": 12},
    )
    assert keys(got) == [(1, "story:7", "new_story")]


@pytest.mark.parametrize(
    "f",
    [
        follow("section", "sports"),
        follow("place", "2643743"),  # London
        follow("outlet", "13"),
        follow("search", "earthquake japan"),
        follow("section", "world", user=2),  # another reader's follow
        follow("top", ""),
    ],
)
def test_a_follow_that_does_not_match_fires_nothing(f: Follow) -> None:
    got = match(
        StoryChange(story()),
        [rule(1, kind="follows")],
        {f.user_id: [f]},
        NOW,
        base_url=BASE,
        outlet_ids={"Wire One": 12},
    )
    assert got == []


def test_an_old_story_is_not_new_for_a_fresh_follow() -> None:
    s = story(first_reported=NOW - timedelta(days=3))
    got = match(
        StoryChange(s),
        [rule(1, kind="follows")],
        {1: [follow("section", "world", ago=timedelta(hours=5))]},
        NOW,
        base_url=BASE,
    )
    assert got == []


def test_a_followed_storys_revised_brief_fires_once_per_version() -> None:
    r = rule(1, kind="follows")
    follows = {1: [follow("story", "7", ago=timedelta(hours=2))]}
    s = story(brief_version=3, first_reported=NOW - timedelta(days=2))
    got = match(
        StoryChange(s, brief_at=NOW - timedelta(minutes=3)), [r], follows, NOW, base_url=BASE
    )
    assert keys(got) == [(1, "brief:7:3", "brief_updated")]
    assert got[0].at == NOW - timedelta(minutes=3)
    # a brief written before the follow began is not news to the reader
    old = StoryChange(s, brief_at=NOW - timedelta(hours=3))
    assert match(old, [r], follows, NOW, base_url=BASE) == []
    assert match(StoryChange(replace(s, brief_version=0)), [r], follows, NOW, base_url=BASE) == []


def test_following_breaking_fires_breaking_events() -> None:
    got = match(
        StoryChange(breaking()),
        [rule(1, kind="follows")],
        {1: [follow("breaking", "")]},
        NOW,
        base_url=BASE,
    )
    assert [e.kind for e in got] == ["breaking"]


def test_search_and_place_rules() -> None:
    rules = [
        rule(1, kind="search", target="italy earthquake"),
        rule(2, kind="place", target="3017382"),
        rule(3, kind="search", target="flood"),
    ]
    got = match(StoryChange(story()), rules, {}, NOW, base_url=BASE)
    assert keys(got) == [(1, "story:7", "new_story"), (2, "story:7", "new_story")]
    assert not matches_search(story(), "")
    assert not matches_search(story(), "quake")  # words, not substrings


def test_rule_spec_checks_and_normalises() -> None:
    spec = rule_spec(
        "breaking", "", "webhook", {"url": "https://hooks.example/in"}, sections=SECTIONS
    )
    assert spec.config["url"] == "https://hooks.example/in" and len(spec.config["secret"]) >= 32
    mail = rule_spec(
        "search",
        "  rates   cut ",
        "email",
        {"to": "r@example.org", "digest": "hourly"},
        sections=SECTIONS,
    )
    assert (mail.target, mail.digest, mail.config) == (
        "rates cut",
        "hourly",
        {"to": "r@example.org", "hour": "7"},
    )
    assert rule_spec("place", "0042", "webpush", {}, sections=SECTIONS).target == "42"
    ntfy = rule_spec(
        "follows",
        "",
        "ntfy",
        {"url": "https://ntfy.example/t", "priority": "high"},
        sections=SECTIONS,
    )
    assert ntfy.config == {"url": "https://ntfy.example/t", "priority": "4"}


@pytest.mark.parametrize(
    ("kind", "target", "channel", "options", "needle"),
    [
        ("weather", "", "webhook", {"url": "https://h.example/"}, "kind"),
        ("breaking", "", "pigeon", {}, "channel"),
        ("breaking", "gardening", "webpush", {}, "target"),
        ("follows", "world", "webpush", {}, "target"),
        ("search", "   ", "webpush", {}, "target"),
        ("place", "Paris", "webpush", {}, "target"),
        ("breaking", "", "webhook", {}, "url: required"),
        ("breaking", "", "webhook", {"url": "ftp://h.example/"}, "url: refused"),
        ("breaking", "", "webhook", {"url": "http://10.0.0.8/hook"}, "10.0.0.8"),
        ("breaking", "", "webhook", {"url": "http://169.254.169.254/latest"}, "169.254.169.254"),
        ("breaking", "", "webhook", {"url": "http://localhost:8080/"}, "localhost"),
        ("breaking", "", "webhook", {"url": "http://[::1]/"}, "::1"),
        ("breaking", "", "webhook", {"url": "https://h.example/", "secret": "short"}, "secret"),
        (
            "breaking",
            "",
            "webhook",
            {"url": "https://h.example/", "to": "a@b.example"},
            "option 'to'",
        ),
        ("breaking", "", "email", {"to": "not an address"}, "to:"),
        ("breaking", "", "email", {"to": "a@b.example\r\nBcc: x@y.example"}, "to:"),
        ("breaking", "", "email", {"to": "a@b.example", "digest": "weekly"}, "digest"),
        ("breaking", "", "email", {"to": "a@b.example", "hour": "25"}, "hour"),
        ("breaking", "", "ntfy", {"url": "https://n.example/t", "priority": "9"}, "priority"),
        ("breaking", "", "ntfy", {"url": "https://n.example/t", "token": "tök"}, "token"),
    ],
)
def test_rule_spec_refuses_bad_input_with_a_clear_message(
    kind: str, target: str, channel: str, options: dict[str, str], needle: str
) -> None:
    with pytest.raises(RuleError, match=needle.replace("[", r"\[").replace("?", r"\?")):
        rule_spec(kind, target, channel, options, sections=SECTIONS, policy=NetPolicy())
