"""Offline language detection on texts whose language is known."""

from __future__ import annotations

from breakingon.tag.lang import detect_language


def test_french_german_english() -> None:
    assert (
        detect_language(
            "Le gouvernement a présenté mardi un projet de loi sur les retraites, "
            "qui sera examiné par l'Assemblée nationale la semaine prochaine."
        )
        == "fr"
    )
    assert (
        detect_language(
            "Die Bundesregierung hat am Dienstag ein neues Gesetz zur Rente vorgestellt, "
            "über das der Bundestag in der kommenden Woche beraten wird."
        )
        == "de"
    )
    assert (
        detect_language(
            "The government presented a pension bill on Tuesday, which parliament "
            "will debate next week."
        )
        == "en"
    )


def test_unsure_when_too_short() -> None:
    assert detect_language("ok") == ""
    assert detect_language("12345 67890 !!!") == ""
