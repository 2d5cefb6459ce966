"""The story stage's decisions on plain records (no store): coverage, rank, breaking,
places, sections, languages, the final headline and dek, the brief."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from breakingon.records import UNTITLED, Article, Outlet, Place
from breakingon.story.coverage import story_languages, story_places, story_sections
from breakingon.story.headline import dek_after, story_headline
from breakingon.story.update import StorySettings, update_story
from breakingon.text import whole_title

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
IZMIR = Place(311046, "Izmir", "TR", "city", 38.41, 27.14, 1.0)
TURKEY = Place(298795, "Turkey", "TR", "country", 39.0, 35.0, 0.5)
SAMOS = Place(254698, "Samos", "GR", "city", 37.75, 26.98, 0.3)

QUAKE = [
    (
        "Daily Planet",
        "US",
        "Magnitude 6.4 earthquake strikes near Izmir, Turkey",
        "A magnitude 6.4 earthquake struck near the Turkish city of Izmir on Tuesday, "
        "killing at least 12 people and injuring more than 200, officials said. The quake "
        "hit at 9:14 local time at a depth of 10 kilometres, according to the Turkish "
        'disaster agency AFAD. Buildings collapsed in the Bayrakli district. "We are '
        'searching every building," said Izmir governor Yavuz Selim Kosger. Rescue teams '
        "will continue working through the night, and schools will stay closed on Wednesday.",
        (IZMIR, TURKEY),
    ),
    (
        "Le Quotidien",
        "FR",
        "Deadly earthquake in western Turkey: Izmir buildings collapse",
        "At least 12 people were killed when a magnitude 6.4 earthquake shook Izmir in "
        "western Turkey on Tuesday, according to the disaster agency AFAD. More than 200 "
        "people were injured and several buildings collapsed in the Bayrakli district of "
        "Izmir. Governor Yavuz Selim Kosger said rescuers were searching the rubble. "
        "Aftershocks were felt across the Aegean coast, including on the Greek island of Samos.",
        (IZMIR, SAMOS),
    ),
    (
        "Rhein Zeitung",
        "DE",
        "Turkey quake: Izmir death toll rises as rescuers search rubble",
        "Rescuers in Izmir searched collapsed buildings on Tuesday night after a magnitude "
        "6.4 earthquake killed at least 12 people in western Turkey, AFAD said. The quake "
        "struck at a depth of 10 kilometres. Izmir governor Yavuz Selim Kosger said more "
        "than 200 people were injured. Schools in Izmir will remain closed on Wednesday.",
        (IZMIR, TURKEY),
    ),
]
TRIAL_TEXT = (
    "Jury selection began on Monday in the federal fraud trial of former Harbor Bank "
    "executive Martin Hale in Boston, who is accused of hiding $40 million in losses from "
    "regulators. Prosecutors expect the trial to last six weeks. Hale has pleaded not "
    "guilty to all counts, and his lawyer said he will testify in his own defence."
)
OUTLETS = {
    "Daily Planet": Outlet("Daily Planet", country="US", ownership="private"),
    "Le Quotidien": Outlet("Le Quotidien", country="FR", ownership="public"),
    "Rhein Zeitung": Outlet("Rhein Zeitung", country="DE", ownership="private"),
}


def _article(i: int, outlet: str, country: str, title: str, text: str, **kw: object) -> Article:
    return Article(
        id=i,
        url=f"https://{outlet.lower().replace(' ', '')}.example/{i}",
        title=title,
        text=text,
        published=T0 + timedelta(minutes=10 * i),
        outlet=outlet,
        country=country,
        language="en",
        sections=("world",),
        **kw,  # type: ignore[arg-type]
    )


def _quake() -> list[Article]:
    return [_article(i, o, c, t, x, places=p) for i, (o, c, t, x, p) in enumerate(QUAKE, start=1)]


def test_a_story_of_three_outlets() -> None:
    articles = _quake()
    r = update_story(articles, OUTLETS, T0 + timedelta(minutes=40), StorySettings())
    assert r.outlet_count == 3 and r.article_count == 3
    assert r.outlets == ("Daily Planet", "Le Quotidien", "Rhein Zeitung")
    assert set(r.countries) == {"US", "FR", "DE"}
    assert "3 outlets" in r.score_explanation and r.score > 0
    assert r.breaking_since is not None and r.breaking_until is not None  # 3 in 30 minutes
    assert r.first_reported == articles[0].published
    assert r.last_reported == articles[-1].published
    assert r.sections == ("world",) and r.languages == ("en",)
    # The articles' own places (tagged at ingest), weighed over the story; Samos, in one
    # article of three, is no place of the story.
    assert [p.name for p in r.places] == ["Izmir", "Turkey"]
    assert r.brief is not None and r.brief.headline
    cited = {c.article_id for s in r.brief.dek for c in s.citations}
    assert cited and cited <= {"1", "2", "3"}
    assert r.headline and not r.headline.endswith("…")
    assert not r.dek.startswith(r.headline)


def test_a_single_source_story_has_no_brief() -> None:
    title = "Jury selection begins in Boston fraud trial of former bank executive"
    r = update_story(
        [_article(1, "Daily Planet", "US", title, TRIAL_TEXT)], OUTLETS, T0, StorySettings()
    )
    assert r.brief is None and r.outlet_count == 1
    assert r.headline == title  # the outlet's plain title and the first sentence of its text
    assert r.dek == (
        "Jury selection began on Monday in the federal fraud trial of former Harbor Bank "
        "executive Martin Hale in Boston, who is accused of hiding $40 million in losses "
        "from regulators."
    )
    assert r.breaking_since is None


def test_a_one_outlet_dek_is_never_an_unchecked_sentence() -> None:
    """A page whose only sentences speak to the reader (a registration wall) gets no dek;
    its first sentence is not shown as the outlet's reporting."""
    wall = (
        "By submitting your registration information, you agree to our Terms of Service "
        "and Privacy Policy. We may use your data to personalise our newsletters."
    )
    title = "Harbor Bank executive goes on trial in Boston"
    r = update_story([_article(1, "Daily Planet", "US", title, wall)], OUTLETS, T0, StorySettings())
    assert r.dek == ""
    summary = _article(1, "Daily Planet", "US", title, wall, summary=TRIAL_TEXT)
    r = update_story([summary], OUTLETS, T0, StorySettings())
    assert r.dek.startswith("Jury selection began on Monday")  # the feed's summary, checked


def test_non_article_pages_have_no_coverage() -> None:
    wall = _article(
        1,
        "Daily Planet",
        "US",
        "Before you continue",
        "We use cookies. Accept all cookies.",
        page_kind="cookie consent",
    )
    r = update_story([wall], OUTLETS, T0, StorySettings())
    assert r.outlet_count == 0 and r.score == 0.0 and r.brief is None
    assert r.score_explanation.startswith("not a news report (cookie consent)")
    # A report among them counts; the wall does not.
    quake = _quake()[0]
    mixed = update_story([quake, wall], OUTLETS, T0 + timedelta(minutes=20), StorySettings())
    assert mixed.outlet_count == 1 and mixed.score > 0


def test_a_story_nothing_can_head_is_untitled_and_unranked() -> None:
    diary = _article(
        1,
        "Daily Planet",
        "US",
        "I adore Betty White.",
        "I adore Betty White. She just keeps getting better and better. I am sure she "
        "would host the Academy Awards.",
    )
    r = update_story([diary], OUTLETS, T0, StorySettings())
    assert r.headline == UNTITLED and r.score == 0.0
    assert r.score_explanation == "no headline could be written; kept out of the lists"


def test_the_stage_does_not_geotag_again() -> None:
    untagged = [_article(1, o, c, t, x) for o, c, t, x, _ in QUAKE[:1]]
    assert update_story(untagged, OUTLETS, T0, StorySettings()).places == ()


def test_a_cut_title_is_made_whole_once_by_the_stage() -> None:
    text = (
        "Police said they were called to Tallgrass Distributors Ltd., at 40 East Fifth "
        "Avenue, where a man had confronted the crowd. Two people were hurt, one of them "
        "seriously, and the man was arrested at the scene by officers on patrol nearby."
    )
    cut = "Police said they were called to Tallgrass Distributors Ltd., at 40 East Fifth…"
    r = update_story([_article(1, "Daily Planet", "US", cut, text)], OUTLETS, T0)
    # made whole (21 words: over the limit), so its first whole clause heads the story
    assert r.headline == (
        "Police said they were called to Tallgrass Distributors Ltd., at 40 East Fifth Avenue"
    )
    assert not r.headline.endswith(("…", "..."))
    assert r.dek  # the outlet's lead stands under it


def test_cut_headlines_are_made_whole_from_their_own_text() -> None:
    cut = "Police said they were called to Tallgrass Distributors Ltd., at 40 East Fifth Avenue,…"
    dek = (
        "Police said they were called to Tallgrass Distributors Ltd., at 40 East Fifth "
        "Avenue , where a man had confronted the crowd. Two people were hurt."
    )
    whole = whole_title(cut, dek)
    assert whole == (
        "Police said they were called to Tallgrass Distributors Ltd., at 40 East Fifth "
        "Avenue, where a man had confronted the crowd."
    )
    assert dek_after(dek, whole) == "Two people were hurt."
    assert dek_after(whole, whole) == ""
    assert whole_title("Quake hits Tokyo", dek) == "Quake hits Tokyo"
    assert whole_title("Something else entirely was said…", dek) == (
        "Something else entirely was said…"
    )
    assert whole_title(cut, dek.replace(".", "", 1) + " x" * 200) == cut  # too long: kept


def test_cut_headline_never_stays_cut() -> None:
    text = QUAKE[1][3]
    cut = " ".join(text.split()[:5]) + "…"
    head = story_headline([(cut, "Another text altogether, not this one.")], [text])
    assert head and not head.endswith(("…", "..."))
    assert text.startswith(head)
    assert story_headline([(QUAKE[0][2], text)], []) == QUAKE[0][2]  # good ones stay


def test_story_aggregates() -> None:
    assert story_languages(["en", "fr", "en", "", "de", "fr", "en"]) == ("en", "fr", "de")
    a = _article(1, "Daily Planet", "US", "t", "x")
    sections = [
        a.__class__(**{**{f: getattr(a, f) for f in a.__slots__}, "sections": s})  # type: ignore[attr-defined]
        for s in [("sports", "business"), ("sports",), ("business",)]
    ]
    assert story_sections(sections) == ("sports", "business")
    assert story_places([]) == ()


def test_a_cut_headline_is_not_made_whole_at_an_abbreviation() -> None:
    """ "U.S." or "Mr." inside the sentence is no sentence end ("... according to the U.S.")."""
    text = (
        "Trade talks resumed on Monday, according to the U.S. Trade Representative, after "
        "Mr. Lee met the delegation. Markets rose."
    )
    assert whole_title("Trade talks resumed on Monday, according to the U.S…", text) == (
        "Trade talks resumed on Monday, according to the U.S. Trade Representative, after "
        "Mr. Lee met the delegation."
    )


def test_a_navigation_page_is_never_a_sections_story() -> None:
    """A "Most Popular Stories More>>" page (tagged at ingest by `article_facts`) gives a
    story no section; with reports, only theirs count."""
    from breakingon.tag.facts import article_facts, with_facts

    raw = Article(
        url="https://dailyplanet.example/popular",
        title="Most Popular Stories More>>",
        text="Most Popular Stories More>> Celebrity film stars music charts Oscar",
        published=T0,
        outlet="Daily Planet",
        sections=("entertainment",),
    )
    nav = with_facts(raw, article_facts(raw))
    assert nav.page_kind == "navigation" and nav.sections[0] == "entertainment"
    alone = update_story([nav], OUTLETS, T0, StorySettings())
    assert alone.sections == ()
    quake = _quake()[0]
    mixed = update_story([nav, quake, nav], OUTLETS, T0 + timedelta(minutes=20), StorySettings())
    assert mixed.sections == ("world",)
    assert story_sections([nav, nav, quake]) == ("world",)
