"""Briefs by language: a story reported in German, English and French gets its brief in
one language from that language's reports only, and the others' reporting listed apart,
cited, in their own words; the operator's preference; the rewrite keeps the language;
the support check reads German.

The articles are real parallel news (../shared/data/multilingual/wmt-dev.jsonl: one
article and its professional translations), read at test time, with the real embedder.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from breakingon.records import Article, Brief, BriefSentence, Outlet
from breakingon.story.brief.documents import write_story_brief
from breakingon.story.brief.extractive import BriefSettings, BriefSource, write_brief
from breakingon.story.brief.llm import LLMSettings, rewrite_brief
from breakingon.story.brief.support import check_support, negated
from breakingon.story.update import StorySettings, update_story

T0 = datetime(2026, 5, 4, 7, 0, tzinfo=UTC)
OUTLETS = {
    "Wire": Outlet("Wire", country="GB", language="en"),
    "Zeit": Outlet("Zeit", country="DE", language="de"),
    "Standard": Outlet("Standard", country="AT", language="de"),
    "Monde": Outlet("Monde", country="FR", language="fr"),
}
_WS = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


def three_language_articles(doc: dict[str, dict[str, str]], lines: int = 16) -> list[Article]:
    """English first (Wire), German from two outlets (Zeit: the first half of the
    article, Standard: the second), then French (Monde); the first `lines` sentences."""
    de = doc["de"]["text"].split("\n")[:lines]
    half = len(de) // 2
    members = [
        ("Wire", "en", doc["en"]["title"], "\n".join(doc["en"]["text"].split("\n")[:lines])),
        ("Zeit", "de", doc["de"]["title"], "\n".join(de[:half])),
        ("Standard", "de", doc["de"]["title"], "\n".join(de[half:])),
        ("Monde", "fr", doc["fr"]["title"], "\n".join(doc["fr"]["text"].split("\n")[:lines])),
    ]
    return [
        Article(
            url=f"https://{outlet.lower()}.example/{k}",
            title=title,
            text=text,
            published=T0 + timedelta(minutes=10 * k),
            id=k + 1,
            outlet=outlet,
            country=OUTLETS[outlet].country,
            language=lang,
        )
        for k, (outlet, lang, title, text) in enumerate(members)
    ]


@pytest.fixture(scope="module")
def articles(three_languages: dict[str, dict[str, str]]) -> list[Article]:
    return three_language_articles(three_languages)


def _sentences(brief: Brief) -> list[BriefSentence]:
    return list(brief.dek) + [s for sec in brief.sections for s in sec.sentences]


def _verbatim_in_cited(sentence: BriefSentence, by_id: Mapping[str, Article]) -> bool:
    words = _norm(sentence.text).strip('"“”')
    return any(words in _norm(by_id[c.article_id].text) for c in sentence.citations)


def test_the_brief_is_written_in_the_dominant_language(articles: list[Article]) -> None:
    now = articles[-1].published + timedelta(hours=1)
    result = update_story(articles, OUTLETS, now, StorySettings())
    brief = result.brief
    assert brief is not None and brief.language == "de"  # two German outlets
    by_id = {str(a.id): a for a in articles}
    main = _sentences(brief)
    assert len(main) >= 3
    for s in main:
        assert {by_id[c.article_id].language for c in s.citations} == {"de"}, s
        assert _verbatim_in_cited(s, by_id), s.text
    cited = {by_id[c.article_id].outlet for s in main for c in s.citations}
    assert cited == {"Zeit", "Standard"}  # both German outlets are cited
    assert [r.language for r in brief.other_languages] == ["en", "fr"]  # earliest first
    for report in brief.other_languages:
        outlet = {"en": "Wire", "fr": "Monde"}[report.language]
        assert report.outlets == (outlet,)
        assert 1 <= len(report.sentences) <= 2
        for s in report.sentences:
            assert [by_id[c.article_id].outlet for c in s.citations] == [outlet]
            assert _verbatim_in_cited(s, by_id), s.text
    assert result.languages == ("de", "en", "fr")
    # the headline and the dek in the brief's language too
    assert result.headline not in (articles[0].title, articles[3].title)
    assert result.dek and any(s.text in result.dek for s in brief.dek)


def test_the_operators_preference_wins_when_an_outlet_reported_in_it(
    articles: list[Article],
) -> None:
    brief = write_story_brief(articles, language="fr")
    assert brief is not None and brief.language == "fr"
    assert [r.language for r in brief.other_languages] == ["de", "en"]
    by_id = {str(a.id): a for a in articles}
    assert {by_id[c.article_id].outlet for s in _sentences(brief) for c in s.citations} == {"Monde"}
    # nobody reported in Italian: the dominant language stands
    assert (write_story_brief(articles, language="it") or brief).language == "de"


def test_a_preference_never_leaves_the_story_without_a_brief(articles: list[Article]) -> None:
    # the French report has a title and no text: nothing to write a brief from in French
    bare = [a if a.language != "fr" else Article(**{**_fields(a), "text": ""}) for a in articles]
    brief = write_story_brief(bare, language="fr")
    assert brief is not None and brief.language == "de" and brief.dek
    french = next(r for r in brief.other_languages if r.language == "fr")
    assert french.outlets == ("Monde",) and french.sentences == ()


def _fields(a: Article) -> dict[str, Any]:
    return {f: getattr(a, f) for f in a.__dataclass_fields__}


def test_one_language_reads_every_report_as_before(articles: list[Article]) -> None:
    english = [Article(**{**_fields(a), "language": "en"}) for a in articles[:1]]
    english += [
        Article(
            **{
                **_fields(articles[0]),
                "id": 9,
                "outlet": "Daily",
                "url": "https://daily.example/9",
                "published": T0 + timedelta(minutes=5),
            }
        )
    ]
    unknown = [Article(**{**_fields(a), "language": ""}) for a in english]
    tagged, untagged = write_story_brief(english), write_story_brief(unknown)
    assert tagged is not None and untagged is not None
    assert tagged.language == "en" and untagged.language == ""
    assert Brief(**{**_fields(tagged), "language": ""}) == untagged
    assert tagged.other_languages == ()


def test_the_rewrite_keeps_to_the_briefs_language(articles: list[Article]) -> None:
    german = [a for a in articles if a.language == "de"]
    docs = [BriefSource(id=str(a.id), title=a.title, text=a.text, outlet=a.outlet) for a in german]
    extractive = write_brief(docs, BriefSettings(), "de")
    first = extractive.dek[0]
    others = (first,)  # stands in for a stored other-language section
    from breakingon.records import LanguageReport

    extractive = Brief(
        **{
            **_fields(extractive),
            "other_languages": (LanguageReport("fr", ("Monde",), others),),
        }
    )
    asked: list[Mapping[str, object]] = []

    def post(url: str, payload: Mapping[str, object], **_: Any) -> Any:
        asked.append(payload)
        answer = {
            "headline": german[0].title,
            "dek": [{"text": first.text, "sources": [c.article_id for c in first.citations]}],
            "sections": [],
        }
        return {"choices": [{"message": {"content": json.dumps(answer, ensure_ascii=False)}}]}

    llm = LLMSettings(enabled=True, endpoint="http://127.0.0.1:9/v1", model="m")
    outcome = rewrite_brief(docs, extractive, llm, {}, post=post)
    assert outcome.accepted, outcome.reason
    assert outcome.brief.language == "de"
    assert outcome.brief.other_languages == extractive.other_languages
    system = str(asked[0]["messages"][0]["content"])  # type: ignore[index]
    assert '"de"' in system and "never translate" in system


GERMAN = BriefSource(
    id="z1",
    outlet="Zeit",
    title="Stadtrat billigt den Haushalt",
    text=(
        "Der Stadtrat von Bonn hat am Montag den Haushalt für das kommende Jahr gebilligt.\n\n"
        "Zwei Fraktionen stimmten gegen den Plan der Bürgermeisterin."
    ),
)


@pytest.mark.parametrize(
    ("claim", "why"),
    [
        ("Der Stadtrat von Bonn hat am Montag den Haushalt gebilligt.", None),
        ("Der Stadtrat von Bonn hat am Montag den Haushalt nicht gebilligt.", "negation"),
        ("Drei Fraktionen stimmten gegen den Plan der Bürgermeisterin.", "number"),
    ],
)
def test_the_support_check_reads_german(claim: str, why: str | None) -> None:
    reason = check_support(claim, [GERMAN], BriefSettings(), 0.6, "de")
    assert (reason is None) if why is None else (reason is not None and why in reason), reason
    assert negated("Er kam nicht.", "de") and not negated("Er kam.", "de")
    assert negated("Il ne viendra pas.", "fr") and negated("No vino nadie.", "es")
