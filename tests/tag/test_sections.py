"""Section classifier on crafted articles whose section is known."""

from __future__ import annotations

import pytest

from breakingon.tag.sections import SECTIONS, classify, classify_many, feed_section


def test_football_match_is_sports() -> None:
    r = classify(
        "Liverpool beat Chelsea 2-1 in dramatic finish",
        "The striker scored twice in the second half as Liverpool came from behind to win the "
        "Premier League match. The coach praised his team after the game, and fans at the "
        "stadium celebrated the victory that lifts the club to the top of the league.",
    )
    assert r.label == "sports"
    assert r.labels[0] == "sports"
    assert {lbl for lbl, _ in r.scores} == set(SECTIONS)


@pytest.mark.parametrize(
    ("title", "text", "label"),
    [
        (
            "Shares slide as bank raises interest rates",
            "The central bank raised interest rates to curb inflation. Investors sold shares "
            "and the company reported lower quarterly profits and sales.",
            "business",
        ),
        (
            "Parliament votes on election bill",
            "MPs voted on the bill after the prime minister and opposition party leaders "
            "clashed over the election campaign and the government's policy.",
            "politics",
        ),
        (
            "New smartphone software lets users download apps faster",
            "The software update for the phone brings faster internet browsing and lets "
            "users download apps; hackers found a virus in older versions of the device.",
            "technology",
        ),
        (
            "Actor wins Oscar for debut film",
            "The actress and director celebrated as the film won the Oscar; the singer's "
            "soundtrack album topped the music charts before the premiere.",
            "entertainment",
        ),
        (
            "Hospital doctors warn of flu outbreak",
            "Doctors said patients with the disease need treatment; the vaccine and new drugs "
            "are in short supply at the hospital during the outbreak.",
            "health",
        ),
        (
            "Telescope spots water on distant planet",
            "Scientists published the study in a journal after the NASA telescope found the "
            "planet's orbit; the research sheds light on climate and evolution.",
            "science",
        ),
        (
            "Troops and refugees flee across border as ceasefire collapses",
            "Airstrikes killed civilians; the United Nations and NATO diplomats urged "
            "peace talks as militants and troops fought near the border.",
            "world",
        ),
    ],
)
def test_sections_of_crafted_articles(title: str, text: str, label: str) -> None:
    assert classify(title, text).label == label


def test_feed_section_synonyms() -> None:
    assert feed_section(["Sport"]) == "sports"
    assert feed_section(["tech"]) == "technology"
    assert feed_section(["News / World"]) == "world"
    assert feed_section(["top"]) == ""


def test_feed_section_tips_an_ambiguous_text() -> None:
    text = "The announcement came on Tuesday and many people reacted to it."
    assert classify("An announcement", text, ["sport"]).label == "sports"
    assert classify("An announcement", text, ["business"]).label == "business"


def test_embedding_signal_when_vectors_are_given() -> None:
    from breakingon.tag.sections import classification_vectors

    items = [("Striker scores late winner", "The team won the football match.", ())]
    vecs = classification_vectors([(t, x) for t, x, _ in items])
    r = classify_many(items, vecs)[0]
    assert r.label == "sports"
    assert r.scores != classify_many(items)[0].scores
