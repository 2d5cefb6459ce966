"""The story page's parts: the timeline of the story's development (not the article list
again) and the disagreement note in its own box when the brief carries one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.testclient import TestClient
from webfill import XSS, Filled, make_settings

from breakingon.records import Article, Brief, BriefSentence, Citation, Outlet
from breakingon.store import Store
from breakingon.store.base import BriefVersion
from breakingon.web import create_app
from breakingon.web.storyparts import disagreement_notes, timeline

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
OUTLETS = {1: Outlet("Reuters", country="GB", id=1), 2: Outlet("NHK", country="JP", id=2)}


def _art(
    i: int, outlet: str, minutes: int, source_id: int | None = None, country: str = ""
) -> Article:
    return Article(
        url=f"https://x.example/{i}",
        title=f"Title {i}",
        text="Text.",
        published=T0 + timedelta(minutes=minutes),
        id=i,
        source_id=source_id,
        outlet=outlet,
        country=country,
    )


def _brief_version(n: int, minutes: int) -> BriefVersion:
    brief = Brief("H", (BriefSentence(f"Version {n}.", ()),), (), ())
    return BriefVersion(n, T0 + timedelta(minutes=minutes), n + 1, brief)


def test_timeline_tells_the_development() -> None:
    arts = [
        _art(1, "NHK", 0, 2),
        _art(2, "NHK", 5, 2),  # a follow-up of a known outlet: no event of its own
        _art(3, "Reuters", 20, 1),
        _art(4, "Kyodo", 30, None, "jp"),  # same country as NHK: no "first report from"
        _art(5, "Le Monde", 200, None, "FR"),  # hours later: a new event
    ]
    numbers = {str(a.id): n for n, a in enumerate(arts, 1)}
    versions = [_brief_version(n, 40 + n) for n in range(1, 6)]
    events = timeline(9, arts, numbers, OUTLETS, versions)
    texts = [e.text for e in events]
    assert texts == [
        "First reported by NHK (Japan).",
        "Reuters and Kyodo join the coverage; first report from United Kingdom.",
        "Brief written from 2 articles.",
        "Brief updated 4 times (versions 2 to 5).",
        "Le Monde joins the coverage; first report from France.",
        "Latest report, from Le Monde (5 reports so far).",
    ]
    assert [e.link for e in events][:2] == ["#src-1", "#src-3"]
    assert events[3].link == "/story/9/changes"
    assert [e.at for e in events] == sorted(e.at for e in events)
    # Two updates stay separate, each with its own link.
    two = timeline(9, arts[:1], {"1": 1}, OUTLETS, [_brief_version(n, n) for n in (1, 2, 3)])
    assert [e.link for e in two] == [
        "#src-1",
        "/story/9/changes#v1",
        "/story/9/changes#v2",
        "/story/9/changes#v3",
    ]


def test_many_outlets_joining_at_once_read_as_one_short_line() -> None:
    arts = [_art(i, f"Outlet {i}", i) for i in range(1, 9)]
    events = timeline(1, arts, {}, {}, [])
    assert events[1].text == "Outlet 2, Outlet 3, Outlet 4 and 4 more outlets join the coverage."
    assert events[1].link == ""


def test_disagreement_notes_are_the_briefs_non_empty_notes() -> None:
    plain = Brief("H", (), (), ())
    assert disagreement_notes(None) == [] and disagreement_notes(plain) == []
    s = BriefSentence("A reported 12 dead; B reported 15 dead.", (Citation("1"),))
    assert disagreement_notes(Brief("H", (), (), (), disagreements=(s,))) == [s]
    blank = BriefSentence("  ", ())
    assert disagreement_notes(Brief("H", (), (), (), disagreements=(blank,))) == []


class _Noting:
    """The filled store, whose quake brief carries a disagreement note."""

    def __init__(self, store: Store, story_id: int, note: tuple[BriefSentence, ...]) -> None:
        self._store, self._id, self._note = store, story_id, note

    def get_brief(self, story_id: int) -> Brief | None:
        brief = self._store.get_brief(story_id)
        if brief is None or story_id != self._id:
            return brief
        return replace(brief, disagreements=self._note)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_the_story_page_shows_the_note_in_its_own_box(
    filled_store: tuple[Store, Filled], filled: Filled
) -> None:
    store, _ = filled_store
    quake = filled.stories["quake"]
    a, b = filled.articles["quake"][0], filled.articles["quake"][1]
    note = (
        BriefSentence(
            "NHK reported 3 injured; Reuters reported 5 injured.",
            (Citation(str(a)), Citation(str(b))),
        ),
        BriefSentence(XSS, ()),
    )
    app = create_app(make_settings(), _Noting(store, quake, note))  # type: ignore[arg-type]
    with TestClient(app) as client:
        html = client.get(f"/story/{quake}").text
        box = html[html.index('<aside class="disagreement"') :].split("</aside>")[0]
        assert '<h2 id="disagreement-h">Where reports differ</h2>' in box
        assert "NHK reported 3 injured; Reuters reported 5 injured." in box
        assert box.count('class="cite"') == 2  # cited like every brief sentence
        assert "<script>" not in box and "&lt;script&gt;" in box
        # Inside the brief, after its sections and before the credit line.
        assert html.index("<h2>What comes next</h2>") < html.index("disagreement-h")
        assert html.index("disagreement-h") < html.index('class="credit"')
        paris = client.get(f"/story/{filled.stories['paris']}").text
        assert "disagreement" not in paris  # no note, no box


def test_a_long_story_groups_joining_outlets_over_a_wider_window() -> None:
    # Over 12 hours the window is 2 hours (a sixth of the span): outlets joining 100 and
    # 150 minutes in are one event, not two.
    arts = [_art(1, "A", 0), _art(2, "B", 100), _art(3, "C", 150), _art(4, "D", 720)]
    texts = [e.text for e in timeline(1, arts, {}, {}, [])]
    assert texts == [
        "First reported by A.",
        "B and C join the coverage.",
        "D joins the coverage.",
        "Latest report, from D (4 reports so far).",
    ]
    assert timeline(1, arts, {}, {}, [], reported=900)[-1].text.endswith("(900 reports so far).")
