"""A story's coverage by language and the language its brief is written in (the rule of
docs/briefs.md, "Languages"), and the languages' names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from breakingon.languages import names
from breakingon.languages.coverage import brief_language, language_coverage, writing_order
from breakingon.records import Article

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _a(n: int, outlet: str, lang: str, minutes: int = 0, **kw: object) -> Article:
    return Article(
        url=f"https://{outlet.lower()}.example/{n}",
        title=f"Report {n}",
        text="Text.",
        published=T0 + timedelta(minutes=minutes),
        id=n,
        outlet=outlet,
        language=lang,
        **kw,  # type: ignore[arg-type]
    )


def test_languages_are_ranked_by_independent_outlets() -> None:
    articles = [
        _a(1, "Wire", "en", 0, country="GB"),
        _a(2, "Zeit", "de", 5, country="DE"),
        _a(3, "Standard", "de", 6, country="AT"),
        _a(4, "Zeit", "de", 7, country="DE"),  # a second article of the same outlet
        _a(5, "Copy", "de", 8, duplicate_of=2),  # a syndicated copy adds no outlet
        _a(6, "Monde", "fr", 9),
        _a(7, "Nobody", "", 1),  # unknown language: counted nowhere
        _a(8, "Cookie", "en", 2, page_kind="consent"),  # no report
    ]
    cov = language_coverage(articles, {"Monde": "FR"})
    assert [c.code for c in cov] == ["de", "en", "fr"]
    de, en, fr = cov
    assert de.outlets == ("Zeit", "Standard") and de.countries == ("DE", "AT")
    assert de.articles == 4 and de.first == T0 + timedelta(minutes=5)
    assert en.outlets == ("Wire",) and en.articles == 1
    assert fr.countries == ("FR",)  # the outlet's country when the article has none
    assert brief_language(cov) == "de"
    assert writing_order(cov) == ["de", "en", "fr"]


def test_ties_go_to_more_articles_then_to_the_earliest_report() -> None:
    one_each = [_a(1, "Monde", "fr", 3), _a(2, "Wire", "en", 1), _a(3, "Zeit", "de", 2)]
    assert brief_language(language_coverage(one_each)) == "en"  # the earliest report
    more = [*one_each, _a(4, "Zeit", "de", 9)]
    assert brief_language(language_coverage(more)) == "de"  # one outlet each, more articles


def test_a_preference_needs_an_outlet_reporting_in_it() -> None:
    cov = language_coverage([_a(1, "Zeit", "de"), _a(2, "Welt", "de", 1), _a(3, "Wire", "en", 2)])
    assert brief_language(cov, "en") == "en"
    assert writing_order(cov, "en") == ["en", "de"]
    assert brief_language(cov, "fr") == "de"  # nobody reported in French
    copies = language_coverage([_a(1, "Zeit", "de"), _a(2, "Copy", "fr", 1, duplicate_of=1)])
    assert brief_language(copies, "fr") == "de"  # a copy is no outlet reporting in it
    assert brief_language(language_coverage([_a(1, "X", "")]), "en") == ""
    assert writing_order(language_coverage([])) == []


def test_names_in_english_and_in_themselves() -> None:
    assert names.label("de") == "German (Deutsch)"
    assert names.english_name("fr") == "French" and names.native_name("fr") == "français"
    assert names.label("en") == "English"
    assert names.direction("ar") == "rtl" and names.direction("de") == "ltr"
    assert names.label("qqq") == "QQQ" and names.english_name("") == ""
