"""Sentences of German, French, Spanish (and other) text: boundaries, word counts and the
brief filters' word rules, on hand-written sentences and on real parallel news.

The real text is the WMT news test sets in ../shared/data/multilingual/wmt-dev.jsonl
(one sentence a line, the same articles in several languages), read at test time: its
lines are the gold sentences, joined into one paragraph and split again.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from breakingon.languages.sentences import word_count
from breakingon.text import (
    is_first_person,
    sentence_problem,
    split_paragraph,
    split_sentences,
    starts_with_pronoun,
)


@pytest.mark.parametrize(
    ("lang", "paragraph", "sentences"),
    [
        (
            "de",
            "Das gilt z. B. für Berlin. Am 3. Oktober feiert das Land. Im 19. Jahrhundert war "
            "es anders. Die Zahl stieg auf 12. Die Polizei ermittelt. Dr. Weber sagte das u. a. "
            "in Bonn. Überraschend kam die Wende.",
            [
                "Das gilt z. B. für Berlin.",
                "Am 3. Oktober feiert das Land.",
                "Im 19. Jahrhundert war es anders.",
                "Die Zahl stieg auf 12.",
                "Die Polizei ermittelt.",
                "Dr. Weber sagte das u. a. in Bonn.",
                "Überraschend kam die Wende.",
            ],
        ),
        (
            "fr",
            "Il a dit : « Non ! » Puis il est parti. M. Dupont est arrivé. À Paris, il pleut. "
            "Quoi ? Elle ne sait pas.",
            [
                "Il a dit : « Non ! »",
                "Puis il est parti.",
                "M. Dupont est arrivé.",
                "À Paris, il pleut.",
                "Quoi ?",
                "Elle ne sait pas.",
            ],
        ),
        (
            "es",
            "La empresa Telefónica S.A. anunció beneficios. ¿Qué pasó? ¡Nadie lo sabe! Los "
            "EE. UU. respondieron. El Sr. García habló. Él lo confirmó.",
            [
                "La empresa Telefónica S.A. anunció beneficios.",
                "¿Qué pasó?",
                "¡Nadie lo sabe!",
                "Los EE. UU. respondieron.",
                "El Sr. García habló.",
                "Él lo confirmó.",
            ],
        ),
        (
            "zh",
            "今天北京下雨。明天会更冷！你知道吗？",
            ["今天北京下雨。", "明天会更冷！", "你知道吗？"],
        ),
    ],
)
def test_sentences_end_where_the_language_ends_them(
    lang: str, paragraph: str, sentences: list[str]
) -> None:
    assert split_paragraph(paragraph, lang) == sentences


def test_english_keeps_its_own_rules() -> None:
    text = "Gov. Smith met U.S. officials on Jan. 5. They agreed. The deal, worth $5m, holds."
    assert split_paragraph(text) == split_paragraph(text, "en")
    assert split_paragraph(text) == [
        "Gov. Smith met U.S. officials on Jan. 5.",
        "They agreed.",
        "The deal, worth $5m, holds.",
    ]


def test_documents_in_other_scripts_and_quotes_keep_their_sentences() -> None:
    german = (
        "München (dpa) - Die Stadt hat am Montag ein neues Gesetz beschlossen.\n"
        "„Wir sind zufrieden“, sagte der Bürgermeister.\n\n"
        "Lesen Sie auch: Alles über die Wahl in Bayern heute."
    )
    kept = [s.text for s in split_sentences(german, lang="de")]
    assert kept == [
        "Die Stadt hat am Montag ein neues Gesetz beschlossen.",
        "„Wir sind zufrieden“, sagte der Bürgermeister.",
    ]
    spanish = (
        "¿Qué ocurrirá con el acuerdo firmado ayer en Madrid? Nadie lo sabe con certeza todavía."
    )
    assert [s.text for s in split_sentences(spanish, lang="es")] == [
        "¿Qué ocurrirá con el acuerdo firmado ayer en Madrid?",
        "Nadie lo sabe con certeza todavía.",
    ]
    # English rules would drop the sentence opening with ¿ (no opening mark they know)
    assert len(split_sentences(spanish)) == 1
    assert word_count("今天北京下雨了很多", "zh") == 4 and word_count("a b c", "de") == 3


@pytest.mark.parametrize(
    ("lang", "sentence", "first_person", "leans_back"),
    [
        ("de", "Wir haben das Ergebnis am Montag mit Freude gesehen.", True, False),
        ("de", "Die Regierung hat den Plan am Montag in Berlin gebilligt.", False, False),
        ("de", "„Wir sind bereit“, sagte die Ministerin am Montag in Berlin.", False, False),
        ("de", "Er sagte, die Verhandlungen gingen am Dienstag weiter.", False, True),
        ("de", "Diese Woche beginnen die Verhandlungen in Genf erneut.", False, False),
        ("fr", "Je pense que la réforme va échouer très bientôt.", True, False),
        ("fr", "« Nous sommes prêts », a déclaré le ministre lundi.", False, False),
        ("fr", "Il a déclaré que les négociations reprendraient mardi.", False, True),
        ("fr", "Il y a eu trois blessés lors de l'accident de lundi.", False, False),
        ("es", "Nuestro equipo llegó tarde a la reunión de ayer.", True, False),
        ("es", "Este año el gobierno aprobó el presupuesto en marzo.", False, False),
        ("es", "Dicha medida fue aprobada por el parlamento ayer.", False, True),
        ("pt", "Nos últimos anos o governo investiu muito em escolas.", False, False),
        ("it", "Ci sono stati tre feriti nell'incidente di lunedì.", False, False),
        ("nl", "Het kabinet heeft het plan dinsdag goedgekeurd.", False, False),
        ("nl", "Hij zei dat de gesprekken woensdag verder gaan.", False, True),
        # no list for Czech: the English-only rules simply do not apply
        ("cs", "I když vláda plán schválila, opozice protestuje.", False, False),
    ],
)
def test_first_person_and_leaning_openings_by_language(
    lang: str, sentence: str, first_person: bool, leans_back: bool
) -> None:
    assert is_first_person(sentence, lang) is first_person
    assert starts_with_pronoun(sentence, lang) is leans_back
    assert (sentence_problem(sentence, lang) == "first-person") is first_person


@pytest.fixture(scope="module")
def wmt(wmt_rows: list[dict[str, str]]) -> dict[str, list[list[str]]]:
    """Gold sentences (the lines of each article) per language."""
    out: dict[str, list[list[str]]] = defaultdict(list)
    for row in wmt_rows:
        out[row["lang"]].append([s.strip() for s in row["text"].split("\n") if s.strip()])
    return out


def _recall(articles: list[list[str]], lang: str | None) -> float:
    found = total = 0
    for gold in articles:
        got = (
            split_paragraph(" ".join(gold))
            if lang is None
            else split_paragraph(" ".join(gold), lang)
        )
        found += len(set(got) & set(gold))
        total += len(gold)
    return found / total


@pytest.mark.parametrize(("lang", "floor"), [("de", 0.90), ("fr", 0.92), ("es", 0.95)])
def test_parallel_news_splits_into_its_sentences(
    wmt: dict[str, list[list[str]]], lang: str, floor: float
) -> None:
    """The share of gold sentences found exactly (some gold lines hold two sentences, so
    1.0 is out of reach); measured 0.906 / 0.931 / 0.960, against 0.872 / 0.891 / 0.908
    with the English rules."""
    ours, english = _recall(wmt[lang], lang), _recall(wmt[lang], None)
    assert ours >= floor and ours > english + 0.02, (ours, english)


@pytest.mark.parametrize("lang", ["de", "fr", "es", "cs"])
def test_the_filters_keep_most_sentences_of_real_news(
    wmt: dict[str, list[list[str]]], lang: str
) -> None:
    sentences = [s.text for gold in wmt[lang] for s in split_sentences("\n".join(gold), lang=lang)]
    kept = [s for s in sentences if sentence_problem(s, lang) is None]
    assert len(sentences) > 2000
    assert len(kept) / len(sentences) > 0.9
