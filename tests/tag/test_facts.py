"""The facts put on an article at ingest: its title is stored whole when a feed cut it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from breakingon.records import Article
from breakingon.tag.facts import article_facts, with_facts

TEXT = (
    "Gary Gomes, 35, will face murder and kidnapping charges after police found the "
    "bodies of two women inside an Independent Street apartment. Neighbors had "
    "complained about a possible natural gas leak, which led them to the scene."
)


def _art(title: str) -> Article:
    return Article(url="https://a.example/1", title=title, text=TEXT, published=datetime.now(UTC))


def test_a_cut_title_is_stored_whole_from_its_own_text() -> None:
    cut = "Gary Gomes, 35, will face murder and kidnapping charges after police found the…"
    art = _art(cut)
    done = with_facts(art, article_facts(art))
    assert done.title == (
        "Gary Gomes, 35, will face murder and kidnapping charges after police found the "
        "bodies of two women inside an Independent Street apartment."
    )


def test_whole_and_unrelated_titles_stay() -> None:
    for title in ("Man charged after two women found dead", "Something else entirely was…"):
        art = _art(title)
        assert with_facts(art, article_facts(art)).title == title


def test_a_local_outlets_place_is_the_prior_for_its_articles_places() -> None:
    """Ingest reads an article's places with its outlet's recorded place (`tag.local`):
    an unnamed "city council" story of a Dayton paper is about Dayton, and a namesake
    resolves to the one in the outlet's state; with no place recorded nothing is made up."""
    council = "The city council voted 5-2 on Tuesday to approve the budget, the mayor said."
    art = Article(
        url="https://a.example/2", title="Council approves budget", text=council,
        published=datetime.now(UTC), country="US", place="USA | Dayton, Ohio",
    )  # fmt: skip
    assert [p.geonameid for p in article_facts(art).places][:1] == [4509884]  # Dayton, Ohio
    assert article_facts(replace(art, place="")).places == ()
    springfield = replace(art, text="Police in Springfield said a man was arrested.")
    ohio = article_facts(replace(springfield, place="USA | Ohio")).places
    assert ohio[0].geonameid == 4525353  # Springfield, Ohio, not the larger Missouri one
