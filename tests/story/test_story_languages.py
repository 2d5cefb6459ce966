"""Trend terms and headline rules per language (en de fr es pt it nl, and the fallback
for a language with no rules of its own)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from breakingon.story.headline import choose_headline, headline_problem, story_headline
from breakingon.story.trends import Mention, TrendSettings, extract_terms, find_trends

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)

# -- trends -----------------------------------------------------------------------------


def test_terms_drop_the_stop_words_of_the_article_language() -> None:
    fr = extract_terms(
        "Mais le président Macron reçoit Merkel à Paris",
        "Selon l'Élysée, Emmanuel Macron a reçu Angela Merkel à Paris. Pour la chancelière, "
        "les taux directeurs restent élevés ; les taux directeurs inquiètent.",
        "fr",
    )
    assert "Paris" in fr and "Emmanuel Macron" in fr and "Angela Merkel" in fr
    assert not {"Mais", "Selon", "Pour"} & set(fr)
    assert "taux directeurs" in fr
    es = extract_terms(
        "Para el Gobierno", "Según el Gobierno de Pedro Sánchez, todo va bien.", "es"
    )
    assert any("Pedro Sánchez" in t for t in es) and "Según" not in es


def test_german_common_nouns_are_no_terms_names_are() -> None:
    terms = extract_terms(
        "Merkel trifft Macron in Paris",
        "Bundeskanzlerin Angela Merkel hat am Montag Emmanuel Macron getroffen. Die Polizei "
        "sperrte die Straßen. Die Regierung und die SPD lobten das Treffen der Regierung.",
        "de",
    )
    assert {"Paris", "Macron", "Angela Merkel", "Emmanuel Macron"} <= set(terms)
    assert not {"Polizei", "Regierung", "Straßen", "Treffen", "Bundeskanzlerin"} & set(terms)
    # read as English, the nouns came through
    assert "Polizei" in extract_terms("x", "Gestern sagte die Polizei nichts. Die Polizei.")


def _mentions(term: str, lang: str, n: int, story: str) -> list[Mention]:
    return [Mention(term, story, NOW - timedelta(minutes=10 * i), lang) for i in range(n)]


def test_trends_are_counted_within_one_language() -> None:
    cfg = TrendSettings(min_mentions=3)
    # four German and three English mentions of one name: only the German one bursts
    # (three from nothing: z 2.9 < 3), and it says so; counted together, the seven
    # would have made one trend
    mentions = _mentions("Merkel", "de", 4, "1") + _mentions("Merkel", "en", 3, "2")
    trends = find_trends(mentions, NOW, cfg)
    assert [(t.term, t.language, t.recent_mentions) for t in trends] == [("Merkel", "de", 4)]
    both = find_trends(mentions + _mentions("Merkel", "en", 1, "3"), NOW, cfg)
    assert sorted((t.language, t.story_ids) for t in both) == [
        ("de", ("1",)),
        ("en", ("2", "3")),
    ]
    # "" (language not told) counts as English
    unknown = find_trends(_mentions("Quake", "", 2, "4") + _mentions("Quake", "en", 2, "5"), NOW)
    assert unknown and unknown[0].story_ids in (("4", "5"), ("5", "4"))
    assert [(t.term, t.language, t.recent_mentions) for t in unknown] == [("Quake", "en", 4)]


# -- headlines --------------------------------------------------------------------------

PLAIN = {
    "en": "Government presents its pension reform to parliament",
    "de": "Bundesregierung legt Rentenreform im Bundestag vor",
    "fr": "Le gouvernement présente sa réforme des retraites",
    "es": "El Gobierno presenta su reforma de las pensiones",
    "pt": "Governo apresenta reforma da previdência ao Congresso",
    "it": "Il governo presenta la riforma delle pensioni",
    "nl": "Kabinet presenteert hervorming van de pensioenen",
}

FAULTS = {
    "en": [
        ("Protesters march in Paris (Photo: Jane Doe, Invision/AP)", "caption"),
        ("Read more: government presents its reform", "chrome"),
        ("Breaking: government presents its reform", "label"),
        ("I watched the government present its reform", "first-person"),
    ],
    "de": [
        ("Foto: Angela Merkel bei der Pressekonferenz in Berlin", "caption"),
        ("Lesen Sie auch: Die Rente steigt im Juli deutlich", "chrome"),
        ("Eilmeldung: Erdbeben erschüttert den Süden Italiens", "label"),
        ("Ich habe meine Heimat im Krieg verloren", "first-person"),
        ("Er will die Reform trotz Kritik durchsetzen", "pronoun"),
        ("Aktualisiert am 3. Mai um 14.30 Uhr", "dateline"),
        ("Regierung legt Reform vor und die", "fragment"),
    ],
    "fr": [
        ("Crédit photo : Jean Dupont pour Le Monde", "caption"),
        ("Lire aussi : la réforme des retraites expliquée", "chrome"),
        ("En direct : suivez le débat à l'Assemblée", "label"),
        ("Je suis rentré chez moi après la guerre", "first-person"),
        ("Publié le 3 mai à 14h30, mis à jour", "dateline"),
    ],
    "es": [
        ("Foto: el presidente durante la rueda de prensa", "caption"),
        ("Leer más: el Gobierno aprueba los presupuestos", "chrome"),
        ("Última hora: un terremoto sacude el sur del país", "label"),
        ("Yo perdí mi casa en el incendio de Valencia", "first-person"),
    ],
    "pt": [
        ("Foto: o presidente durante a conferência de imprensa", "caption"),
        ("Leia também: governo anuncia novas medidas económicas", "chrome"),
        ("Ao vivo: acompanhe a votação no Parlamento", "label"),
        ("Eu perdi a minha casa no incêndio de Lisboa", "first-person"),
    ],
    "it": [
        ("Foto di Mario Rossi per il Corriere della Sera", "caption"),
        ("Leggi anche: il governo approva la manovra", "chrome"),
        ("Ultima ora: terremoto scuote il centro Italia", "label"),
        ("Io ho perso la mia casa nel terremoto", "first-person"),
    ],
    "nl": [
        ("Foto: de premier tijdens de persconferentie in Den Haag", "caption"),
        ("Lees ook: kabinet presenteert nieuwe plannen voor wonen", "chrome"),
        ("Liveblog: volg het debat in de Tweede Kamer", "label"),
        ("Ik ben mijn huis kwijtgeraakt bij de brand", "first-person"),
    ],
}


@pytest.mark.parametrize("lang", sorted(PLAIN))
def test_each_language_rules_pass_a_plain_headline_and_catch_its_faults(lang: str) -> None:
    assert headline_problem(PLAIN[lang], lang) is None
    for title, kind in FAULTS[lang]:
        assert headline_problem(title, lang) == kind, title


def test_neutral_rules_apply_in_every_language() -> None:
    for lang in ("de", "fr", "pl", "cs"):
        assert headline_problem("Mehr unter https://example.com/artikel heute", lang) == "chrome"
        assert headline_problem("© 2024 Agentur Presse Bild Archiv", lang) == "credit"
        assert headline_problem("Regierung legt neuen Haushalt vor...", lang) == "fragment"
        assert headline_problem("Regierung legt am 03.05.2024 14:30 vor", lang) == "dateline"


def test_a_language_without_rules_gets_only_the_neutral_ones() -> None:
    # Polish and Czech: plain titles pass (the English verb rule would call them fragments)
    assert headline_problem("Rząd przyjął nowy budżet na przyszły rok", "pl") is None
    assert headline_problem("Vláda schválila rozpočet na příští rok", "cs") is None
    assert headline_problem("Vláda schválila rozpočet na příští rok") == "fragment"  # English
    # no language's words are guessed at: a Polish caption or chrome phrase is not seen
    assert headline_problem("Czytaj także: rząd przyjął nowy budżet", "pl") is None
    assert headline_problem("Zdjęcie: premier na konferencji prasowej", "pl") is None
    # German words carry no meaning in Czech
    assert headline_problem("Foto der Woche aus Prag und Brünn", "cs") is None
    assert headline_problem("Foto der Woche aus Prag und Brünn", "de") == "credit"
    # neutral style rules still hold
    assert headline_problem("Vláda schválila rozpočet?", "cs") == "not-neutral"
    assert headline_problem("VLÁDA SCHVÁLILA ROZPOČET NA PŘÍŠTÍ ROK", "cs") == "not-neutral"


def test_a_story_headline_reads_each_title_in_its_language() -> None:
    titles = [("Lesen Sie auch: Rentenreform im Bundestag", ""), (PLAIN["de"], "")]
    assert story_headline(titles, [], ["de", "de"]) == PLAIN["de"]
    # a German title read as English fails the English verb rule; in German it passes
    assert story_headline([(PLAIN["de"], "")], [], ["de"]) == PLAIN["de"]
    assert choose_headline([PLAIN["fr"]], [1.0], "", ["fr"]) == PLAIN["fr"]
    with pytest.raises(ValueError):
        story_headline(titles, [], ["de"])
