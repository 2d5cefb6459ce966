"""When the story stage keeps a story's brief, and that a kept brief gives the same story
as a full update (no store: plain records, the real encoder)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from breakingon.records import Article, Outlet
from breakingon.story.brief.documents import SentenceCache, brief_basis, write_story_brief
from breakingon.story.refresh import BriefRecord, BriefRefresh, brief_decision, cited_ids
from breakingon.story.update import KeptBrief, StorySettings, update_story

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
TEXTS = [
    (
        "Daily Planet",
        "Magnitude 6.4 earthquake strikes near Izmir, Turkey",
        "A magnitude 6.4 earthquake struck near the Turkish city of Izmir on Tuesday, "
        "killing at least 12 people and injuring more than 200, officials said. The quake "
        "hit at 9:14 local time at a depth of 10 kilometres, according to the Turkish "
        "disaster agency AFAD. Buildings collapsed in the Bayrakli district.",
    ),
    (
        "Le Quotidien",
        "Deadly earthquake in western Turkey: Izmir buildings collapse",
        "At least 12 people were killed when a magnitude 6.4 earthquake shook Izmir in "
        "western Turkey on Tuesday, according to the disaster agency AFAD. More than 200 "
        "people were injured and several buildings collapsed in the Bayrakli district of "
        "Izmir. Aftershocks were felt across the Aegean coast, including on Samos.",
    ),
    (
        "Rhein Zeitung",
        "Turkey quake: Izmir death toll rises as rescuers search rubble",
        "Rescuers in Izmir searched collapsed buildings on Tuesday night after a magnitude "
        "6.4 earthquake killed at least 12 people in western Turkey, AFAD said. The quake "
        "struck at a depth of 10 kilometres. Schools in Izmir will remain closed.",
    ),
]
OUTLETS = {o: Outlet(name=o, country=c) for o, c in zip(
    ("Daily Planet", "Le Quotidien", "Rhein Zeitung"), ("US", "FR", "DE"), strict=True
)}  # fmt: skip


def _article(i: int, outlet: str, title: str, text: str, minutes: int) -> Article:
    return Article(
        id=i,
        url=f"https://{outlet.replace(' ', '').lower()}.example/{i}",
        title=title,
        text=text,
        published=T0 + timedelta(minutes=minutes),
        outlet=outlet,
        language="en",
    )


def _story() -> list[Article]:
    return [_article(i + 1, o, t, x, 10 * i) for i, (o, t, x) in enumerate(TEXTS)]


def test_the_basis_changes_only_with_what_the_brief_reads() -> None:
    arts = _story()
    basis = brief_basis(arts)
    later = _article(9, "Daily Planet", "Izmir update", "Rescuers worked through the night.", 90)
    copy = replace(later, id=10, outlet="Wire Copy", duplicate_of=1)
    # a later report of an outlet already in the brief, a syndicated copy: the same brief
    assert brief_basis([*arts, later]) == basis
    assert brief_basis([*arts, copy]) == basis
    assert write_story_brief([*arts, later]) == write_story_brief(arts)
    # a new outlet, a changed text: another basis
    other = replace(later, id=11, outlet="Harbour Times")
    assert brief_basis([*arts, other]) != basis
    assert brief_basis([replace(arts[0], text=arts[0].text + " More."), *arts[1:]]) != basis
    assert brief_basis(arts, "fr") == basis  # no French report: the order is the same


def test_a_kept_brief_gives_the_full_update() -> None:
    """With the basis unchanged, an update that keeps the brief equals a full one: the
    signals, headline and dek are recomputed from the members either way."""
    cfg = StorySettings(sentences=SentenceCache())
    arts = _story()
    now = T0 + timedelta(hours=1)
    first = update_story(arts, OUTLETS, now, cfg)
    assert first.brief is not None
    grown = [*arts, _article(9, "Le Quotidien", "Izmir: rescuers search", TEXTS[1][2], 50)]
    assert brief_basis(grown) == brief_basis(arts)
    later = now + timedelta(minutes=20)
    full = update_story(grown, OUTLETS, later, cfg)
    kept = update_story(grown, OUTLETS, later, cfg, kept=KeptBrief(first.brief))
    assert kept == full
    assert kept.article_count == 4 and kept.last_reported == grown[-1].published


def test_brief_decision() -> None:
    cfg = BriefRefresh(growth=0.25, max_age_s=300)
    arts = _story()
    brief = write_story_brief(arts)
    assert brief is not None
    members = {str(a.id) for a in arts}
    assert cited_ids(brief) <= members and len(cited_ids(brief)) >= 2
    rec = BriefRecord("b1", brief, reports=4, written_at=T0)
    soon = T0 + timedelta(seconds=60)
    assert brief_decision(None, "b1", 4, members, soon, cfg) == "write"
    assert brief_decision(rec, "b1", 4, members, soon, cfg) == "keep"
    assert brief_decision(rec, "b2", 4, members, soon, cfg) == "defer"  # a changed text
    assert brief_decision(rec, "b2", 5, members, soon, cfg) == "write"  # grew by a quarter
    assert brief_decision(rec, "b2", 3, members, soon, cfg) == "write"  # shrank
    late = T0 + timedelta(seconds=300)
    assert brief_decision(rec, "b2", 4, members, late, cfg) == "write"  # old enough
    assert brief_decision(rec, "b1", 4, members, late, cfg) == "keep"  # nothing to write
    gone = members - {next(iter(cited_ids(brief)))}
    assert brief_decision(rec, "b2", 4, gone, soon, cfg) == "write"  # a cited one left
    none = BriefRecord("b1", None, reports=1, written_at=T0)
    assert brief_decision(none, "b2", 1, members, soon, cfg) == "write"
    assert rec.due(cfg) == late
