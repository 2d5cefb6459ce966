"""Sections and places read in the article's language (de fr es pt it nl, and the
fallback for others), on hand-written sentences and on real parallel articles
(../shared/data/multilingual/wmt-dev.jsonl: one article in 2-4 languages, read at test
time, never copied here)."""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from breakingon.records import Article
from breakingon.tag.facts import article_facts
from breakingon.tag.gazetteer import base_gazetteer, gazetteer
from breakingon.tag.lang import signal_language
from breakingon.tag.places import geotag, geotag_mentions
from breakingon.tag.sections import classify, classify_many, lexicon_scores


def test_signal_language_names_the_rules_a_text_is_read_with() -> None:
    assert [signal_language(c) for c in ("en", "", "de", "FR", "pt-BR", "pl", "zh")] == [
        "en",
        "en",
        "de",
        "fr",
        "pt",
        "*",
        "*",
    ]


# -- sections ---------------------------------------------------------------------------

SENTENCES = [
    (
        "de",
        "Bundestag stimmt über neues Wahlrecht ab",
        "Die Koalition aus SPD, Grünen und FDP will das Wahlrecht ändern. Die Opposition "
        "von CDU und CSU kündigte eine Klage beim Bundesverfassungsgericht an.",
        "politics",
    ),
    (
        "de",
        "Bayern gewinnt in der Bundesliga",
        "Der FC Bayern hat am Samstag 3:1 gewonnen. Der Trainer lobte die Mannschaft, "
        "zwei Tore fielen nach der Pause, der Torwart hielt einen Elfmeter.",
        "sports",
    ),
    (
        "fr",
        "La Bourse de Paris recule",
        "Le CAC 40 a perdu 2 % mardi, les investisseurs craignant l'inflation et une "
        "hausse des taux de la BCE. Les banques ont reculé, le pétrole a monté.",
        "business",
    ),
    (
        "fr",
        "Un nouveau vaccin contre la grippe",
        "Les médecins de l'hôpital ont testé le vaccin sur 3 000 patients ; la maladie a "
        "reculé de moitié, selon l'étude publiée par l'OMS.",
        "health",
    ),
    (
        "es",
        "El Gobierno y la oposición chocan en el Congreso",
        "El presidente del Gobierno defendió la reforma ante los diputados. La oposición "
        "pidió elecciones anticipadas y una votación sobre la ley.",
        "politics",
    ),
    (
        "es",
        "El Real Madrid gana la Liga",
        "El equipo de Ancelotti ganó el campeonato con dos goles en el estadio; el "
        "entrenador elogió a los jugadores.",
        "sports",
    ),
    (
        "pt",
        "Governo anuncia corte de juros",
        "O banco central reduziu os juros e a inflação caiu; a bolsa subiu e as empresas "
        "celebraram o crescimento da economia.",
        "business",
    ),
    (
        "it",
        "Nuovo film di Sorrentino al festival",
        "Il regista presenta il suo film al festival di Venezia; gli attori e l'attrice "
        "protagonista hanno parlato del cinema italiano.",
        "entertainment",
    ),
    (
        "nl",
        "Kabinet wil nieuwe wet op wonen",
        "De coalitie van VVD en CDA dient een wetsvoorstel in; de oppositie in de Tweede "
        "Kamer is kritisch en de minister verdedigt het plan.",
        "politics",
    ),
]


@pytest.mark.parametrize(("lang", "title", "text", "label"), SENTENCES)
def test_a_text_is_classified_by_its_own_language_lexicon(
    lang: str, title: str, text: str, label: str
) -> None:
    assert classify(title, text, language=lang).label == label


def test_the_english_lexicon_never_reads_another_language() -> None:
    # English keywords in a German text are no German keywords: no hit, no guess
    title, text = "Tories and Labour fight an election", "MPs vote in the Commons on the bill."
    assert classify(title, text).label == "politics"
    german = lexicon_scores(title, text, "de")
    assert sum(german.values()) == 0
    assert classify(title, text, language="de").label == ""
    # and the MiniLM prototypes (English) are not used for it either: embed_short on
    res = classify_many([(title, text, ())], embed_short=True, languages=["de"])[0]
    assert res.label == "" and res.labels == ()


def test_fallback_language_uses_neutral_names_and_priors_only() -> None:
    polish = ("Rząd przyjął budżet", "Premier przedstawił plan w Sejmie we wtorek.")
    assert classify(*polish, language="pl").label == ""
    assert classify(*polish, feed_sections=["Sport"], language="pl").label == "sports"
    assert classify(*polish, feed_sections=["Wirtschaft"], language="pl").label == "business"
    focus = classify_many([(*polish, ())], languages=["pl"], focus=["technology"])[0]
    assert focus.label == "technology"
    uefa = classify("Finał Ligi Mistrzów UEFA", "Mecz na stadionie w Madrycie.", language="pl")
    assert uefa.label == "sports"


def test_feed_sections_in_other_languages_map_to_the_taxonomy() -> None:
    for section, label in (
        ("Wirtschaft", "business"),
        ("Deportes", "sports"),
        ("Politique", "politics"),
        ("Esteri", "world"),
        ("Cultuur", "entertainment"),
        ("Saúde", "health"),
    ):
        assert classify("", "", [section], language="de").label == label


def test_facts_read_an_article_in_its_language() -> None:
    art = Article(
        feed_id=1,
        url="https://example.de/a",
        title="Bundestag stimmt über Wahlrecht ab",
        text="Die Koalition will das Wahlrecht ändern; in Berlin protestiert die Opposition. "
        "Die Bundesregierung verteidigt den Gesetzentwurf im Parlament.",
        language="de",
        published=datetime(2024, 5, 1, tzinfo=UTC),
    )
    facts = article_facts(art, language_known=True)
    assert facts.sections[0] == "politics"
    assert facts.places and facts.places[0].name == "Berlin"


# -- places -----------------------------------------------------------------------------


def _names(title: str, text: str, lang: str) -> list[str]:
    return [m.place.name for m in geotag_mentions(title, text, language=lang)]


def test_other_language_names_of_cities_and_countries_resolve() -> None:
    de = _names("", "Der Minister reiste von Köln nach Mailand und weiter nach Moskau.", "de")
    assert de == ["Köln", "Milan", "Moscow"]
    fr = _names("", "Le ministre est allé à Londres, puis en Allemagne et au Mexique.", "fr")
    assert fr == ["London", "Germany", "Mexico"]
    es = _names("", "El presidente viajó a Nueva York y después a Alemania.", "es")
    assert es == ["New York City", "Germany"]
    pt = _names("", "O presidente viajou para Lisboa e depois para a Alemanha.", "pt")
    assert pt == ["Lisbon", "Germany"]
    it = _names("", "Il ministro è andato a Monaco di Baviera e poi in Germania.", "it")
    assert "Germany" in it
    nl = _names("", "De minister reisde van Den Haag naar Duitsland.", "nl")
    assert nl == ["The Hague", "Germany"]


def test_the_hand_written_country_table_holds_each_language() -> None:
    for lang, name in (
        ("de", "Deutschland"),
        ("fr", "Allemagne"),
        ("es", "Alemania"),
        ("pt", "Alemanha"),
        ("it", "Germania"),
        ("nl", "Duitsland"),
    ):
        places = geotag(name, f"{name} und mehr.", language=lang)
        assert places[0].name == "Germany", lang


def test_adjectives_elision_compounds_and_genitive() -> None:
    assert _names("", "Le gouvernement français a répondu.", "fr") == ["France"]
    assert _names("", "Die deutsche Regierung und die britische Presse.", "de") == [
        "Germany",
        "United Kingdom",
    ]
    assert _names("", "Les exportations d'Allemagne et de l'Italie.", "fr") == [
        "Germany",
        "Italy",
    ]
    assert _names("", "Il vertice dell'Unione e dell'Italia a Roma.", "it")[-1] == "Rome"
    assert _names("", "Der US-Präsident sprach mit der EU.", "de") == ["United States"]
    assert _names("", "Deutschlands Wirtschaft wächst, sagt man in Berlins Mitte.", "de") == [
        "Germany",
        "Berlin",
    ]
    assert _names("", "El portavoz de la Casa Blanca habló.", "es") == ["Washington"]


def test_common_words_of_a_language_are_never_places() -> None:
    # "Mais" (fr/pt: but), "Para" (es/pt: for; Belém in English), "Come" (it: how),
    # "Essen" (de: food) at a sentence start or not
    assert _names("", "Mais le Premier ministre a refusé. Mais non.", "fr") == []
    assert _names("", "Para el Gobierno es un éxito, dijo. Y para todos.", "es") == []
    assert _names("", "Mais uma vez, o governo falou. Para todos.", "pt") == []
    assert _names("", "Come ha detto il ministro, come sempre.", "it") == []
    assert _names("", "Das Essen war gut, sagte der Gast.", "de") == []
    assert _names("", "Die Namen der Opfer sind bekannt.", "de") == []  # Namur in Dutch


def test_organisations_named_after_a_place_are_no_place() -> None:
    assert geotag("", "Die Deutsche Bank meldet Gewinne.", language="de") == ()
    assert geotag("", "Le Paris Saint-Germain a gagné.", language="fr") == ()


def test_english_reading_is_unchanged_for_english_and_unknown_language() -> None:
    text = "Officials in Paris, Texas said the storm hit Reading on Monday."
    assert geotag_mentions("", text) == geotag_mentions("", text, language="en")
    assert gazetteer("") is gazetteer("en") is base_gazetteer()
    # what only another language's view knows stays unknown to English
    assert _names("", "Officials in Köln and Mailand met in Den Haag.", "en") == ["Köln", "Milan"]


def test_fallback_language_uses_the_alternate_names() -> None:
    pl = _names("", "Premier przyjechał do Warszawa i Monachium.", "pl")
    assert pl == ["Warsaw", "Munich"]
    cs = _names("", "Ministr navštívil Vídeň a Mnichov.", "cs")
    assert cs == ["Vienna", "Munich"]


# -- real parallel articles -----------------------------------------------------------


def _wmt(shared_data: Path) -> dict[str, dict[str, dict[str, str]]]:
    path = shared_data / "multilingual" / "wmt-dev.jsonl"
    if not path.is_file():
        pytest.skip("multilingual/wmt-dev.jsonl is not in ../shared/data")
    by: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    for line in path.open(encoding="utf-8"):
        r = json.loads(line)
        by[r["cluster"]][r["lang"]] = r
    return by


def _pairs(by: dict[str, dict[str, dict[str, str]]], langs: set[str]) -> list[tuple[str, str]]:
    out = []
    for c, versions in by.items():
        have = sorted(set(versions) & langs)
        out += [(f"{c}|{a}", f"{c}|{b}") for a, b in itertools.combinations(have, 2)]
    return out


def test_translations_of_one_article_get_the_same_section_and_place(shared_data: Path) -> None:
    """On wmt-dev the versions of one article in en de fr es agree on the section in
    0.65-0.86 of pairs (0.72 over all 333) and on the top place in 0.62-0.72 (0.68;
    bench/signals languages); read as English, they agreed on the top place in
    0.32-0.41. The floor here is below the measured figures, above the old place one."""
    by = _wmt(shared_data)
    rows = {
        f"{c}|{lang}": r
        for c, v in by.items()
        for lang, r in v.items()
        if lang in ("en", "de", "fr", "es")
    }
    keys = sorted(rows)
    res = classify_many(
        [(rows[k]["title"], rows[k]["text"], ()) for k in keys],
        languages=[rows[k]["lang"] for k in keys],
        embed_short=False,
    )
    section = {k: r.label for k, r in zip(keys, res, strict=True)}
    place = {}
    for k in keys:
        got = geotag(rows[k]["title"], rows[k]["text"][:5000], language=rows[k]["lang"])
        place[k] = got[0].geonameid if got else 0
    pairs = _pairs(by, {"en", "de", "fr", "es"})
    assert len(pairs) > 300
    same_section = sum(section[a] == section[b] for a, b in pairs) / len(pairs)
    same_place = sum(place[a] == place[b] for a, b in pairs) / len(pairs)
    assert same_section >= 0.6, same_section
    assert same_place >= 0.6, same_place
    # every German, French and Spanish article gets a section, and nearly every one a place
    for lang in ("de", "fr", "es"):
        mine = [k for k in keys if rows[k]["lang"] == lang]
        assert sum(bool(section[k]) for k in mine) >= 0.95 * len(mine)
        assert sum(bool(place[k]) for k in mine) >= 0.85 * len(mine)
