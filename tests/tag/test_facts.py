"""The facts put on an article at ingest: its title is stored whole when a feed cut it."""

from __future__ import annotations

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
