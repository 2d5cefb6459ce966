"""Tests of article representations: entity/term extraction and real MiniLM embeddings."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from breakingon.cluster.represent import (
    ClusterInput,
    Representation,
    embedding_text,
    extract_entities,
    extract_terms,
    input_from_article,
    represent,
)
from breakingon.records import Article

QUAKE_PERU = ClusterInput(
    "p1",
    "Magnitude 7.0 earthquake strikes southern Peru",
    "A magnitude 7.0 earthquake struck southern Peru on Tuesday near the city of Arequipa, "
    "killing at least 12 people and damaging hundreds of homes, officials said.",
)
QUAKE_PERU_2 = ClusterInput(
    "p2",
    "Deadly quake hits Arequipa region",
    "At least 12 people died when a strong 7.0 tremor shook the Arequipa region of Peru on "
    "Tuesday, the civil defence agency said, as rescuers searched collapsed houses.",
)
TRIAL = ClusterInput(
    "t1",
    "Jury convicts former mayor of bribery",
    "A federal jury in Boston on Friday convicted former mayor Jasiel Correia of bribery "
    "and wire fraud after a three-week trial.",
)


@pytest.fixture(scope="module")
def reps() -> list[Representation]:
    return represent([QUAKE_PERU, QUAKE_PERU_2, TRIAL])


def test_entities_are_names_places_and_numbers() -> None:
    ents = extract_entities(QUAKE_PERU.title, QUAKE_PERU.text)
    assert "e:peru" in ents
    assert "e:arequipa" in ents
    assert "e:tuesday" in ents
    assert "#7" in ents  # "7.0" keeps its value, trailing zeros dropped
    assert "#12" in ents
    assert "e:a" not in ents and "e:the" not in ents


def test_entities_split_names_into_words() -> None:
    ents = extract_entities("", "Police said Manuel Gomes, 52, was arrested in New Bedford.")
    assert {"e:manuel", "e:gomes", "e:new", "e:bedford", "#52"} <= set(ents)
    assert "e:police" not in ents


def test_terms_drop_stopwords_and_weigh_title_twice() -> None:
    terms = dict(extract_terms("Earthquake in Peru", "The earthquake was felt in Lima."))
    assert terms["earthquake"] == 3  # twice for the title, once for the body
    assert "the" not in terms and "was" not in terms
    assert terms["lima"] == 1


def test_embedding_text_uses_title_and_lead() -> None:
    long_text = " ".join(["word"] * 1000)
    text = embedding_text(ClusterInput("x", "Headline", long_text))
    assert text.startswith("Headline. word")
    assert len(text.split()) < 300


def test_represent_gives_unit_vectors_that_separate_events(reps: list[Representation]) -> None:
    assert [r.key for r in reps] == ["p1", "p2", "t1"]
    for r in reps:
        assert r.vector.shape == (384,)
        assert r.vector.dtype == np.float32
        assert abs(float(np.linalg.norm(r.vector)) - 1.0) < 1e-4
    same = float(reps[0].vector @ reps[1].vector)
    other = float(reps[0].vector @ reps[2].vector)
    assert same > other + 0.3


def test_input_from_article() -> None:
    when = datetime(2024, 5, 1, tzinfo=UTC)
    art = Article(
        url="https://x.test/a",
        title="T",
        text="B",
        published=when,
        id=7,
        outlet="X",
        duplicate_of=3,
    )
    item = input_from_article(art)
    assert item == ClusterInput("7", "T", "B", when, "X", "3")
    with pytest.raises(ValueError):
        input_from_article(Article(url="u", title="T", text="B", published=when))
