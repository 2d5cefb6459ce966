"""A story reported in German, English and French, through the real pipeline and site.

Outlets in four countries report one event (real parallel news, read at test time from
../shared/data/multilingual/wmt-dev.jsonl): Wire in English, Zeit and Standard in German
(two outlets, so German dominates), Monde in French; an English-only story stands
beside it. The story stage writes the brief (real embedder) and the web app shows it:
the brief in German with `lang="de"`, English and French under "Reporting in other
languages" with their outlets cited and `lang` attributes, the coverage panel counting
outlets and countries per language, the language filter of the API, pages and feeds,
the chooser, `<html lang>` and the hreflang variants.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import html as lxml_html
from starlette.testclient import TestClient
from webfill import make_settings

from breakingon.pipeline.story_stage import StoryStage
from breakingon.records import Article, Feed, Outlet
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import Store, open_store
from breakingon.store.base import FeedUpdate, Membership
from breakingon.web import create_app

NOW = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
OUTLETS = [  # name, country, language
    ("Wire", "GB", "en"),
    ("Zeit", "DE", "de"),
    ("Standard", "AT", "de"),
    ("Monde", "FR", "fr"),
    ("Daily", "US", "en"),
]
ENGLISH_ONLY = [
    ("Wire", "Harbour bridge reopens after repairs"),
    ("Daily", "City harbour bridge open again after two years of repairs"),
]
BRIDGE = (
    "The harbour bridge reopened to traffic on Sunday after two years of repairs.\n\n"
    "Engineers replaced the steel cables and the road surface, the city council said.\n\n"
    "The repairs cost about 40 million dollars, officials said on Sunday."
)


def _members(doc: dict[str, dict[str, str]], lines: int = 16) -> list[tuple[str, str, str]]:
    """(outlet, title, text) of the event: English, the German halves, French."""

    def text(lang: str) -> list[str]:
        return doc[lang]["text"].split("\n")[:lines]

    de = text("de")
    return [
        ("Wire", doc["en"]["title"], "\n".join(text("en"))),
        ("Zeit", doc["de"]["title"], "\n".join(de[: len(de) // 2])),
        ("Standard", doc["de"]["title"], "\n".join(de[len(de) // 2 :])),
        ("Monde", doc["fr"]["title"], "\n".join(text("fr"))),
    ]


def _fill(store: Store, doc: dict[str, dict[str, str]]) -> dict[str, int]:
    feeds: dict[str, int] = {}
    language = {name: lang for name, _, lang in OUTLETS}
    for name, country, lang in OUTLETS:
        url = f"https://{name.lower()}.example/rss.xml"
        feed, _ = store.add_feed(
            Feed(url=url, outlet=name, country=country, language=lang), feed_url_key(url)
        )
        store.upsert_outlet(Outlet(name=name, country=country, language=lang))
        assert feed.id is not None
        feeds[name] = feed.id
    update = FeedUpdate(NOW, NOW + timedelta(minutes=15), 900, 0, success=True)

    def story(items: list[tuple[str, str, str]], start: datetime) -> int:
        ids: list[int] = []
        for k, (outlet, title, text) in enumerate(items):
            art = Article(
                url=f"https://{outlet.lower()}.example/{start.hour}-{k}",
                title=title,
                text=text,
                summary=text[:200],
                published=start + timedelta(minutes=10 * k),
                item_key=f"{start.hour}-{k}",
                language=language[outlet],
            )
            ids += store.save_feed_check(feeds[outlet], update, [art], "extracted")
        sid = store.new_story_id(NOW)
        store.save_clustering([Membership(a, sid, 0.9, "test") for a in ids], [], [], NOW)
        return sid

    event = story(_members(doc), NOW - timedelta(hours=3))
    bridge = story([(o, t, BRIDGE) for o, t in ENGLISH_ONLY], NOW - timedelta(hours=2))
    stage = StoryStage(make_settings(), store, "w1", clock=lambda: NOW)
    while stage.step():
        pass
    return {"event": event, "bridge": bridge}


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, three_languages: dict[str, dict[str, str]]
) -> Iterator[tuple[Store, dict[str, int]]]:
    path: Path = tmp_path_factory.mktemp("languages") / "web.sqlite"
    store = open_store(f"sqlite:///{path}")
    try:
        yield store, _fill(store, three_languages)
    finally:
        store.close()


def _client(store: Store, **settings: Any) -> TestClient:
    app = create_app(make_settings(**settings), store, clock=lambda: NOW)
    return TestClient(app, base_url="http://testserver")


@pytest.fixture(scope="module")
def client(site: tuple[Store, dict[str, int]]) -> Iterator[TestClient]:
    with _client(site[0]) as c:
        yield c


def _doc(client: TestClient, path: str) -> Any:
    r = client.get(path)
    assert r.status_code == 200, (path, r.text[:300])
    return lxml_html.fromstring(r.text)


def _text(el: Any) -> str:
    return " ".join(el.text_content().split())


def test_the_story_page_shows_three_languages(
    client: TestClient, site: tuple[Store, dict[str, int]]
) -> None:
    ids = site[1]
    page = _doc(client, f"/story/{ids['event']}")
    assert page.get("lang") == "en"  # the site's language
    outlet_of = {
        li.get("id"): li.xpath(".//span[@class='meta']")[0].text_content().split(" · ")[0]
        for li in page.xpath("//section[@class='sources']//li")
    }

    def cited(el: Any) -> set[str]:
        return {outlet_of[a.get("href")[1:]] for a in el.xpath(".//a[@class='cite']")}

    [brief] = page.xpath("//div[@class='brief-text']")
    assert brief.get("lang") == "de"  # German: two outlets
    assert page.xpath("//h1")[0].get("lang") == "de"  # a headline in the brief's language
    assert cited(brief) == {"Zeit", "Standard"}
    for heading in brief.xpath(".//h2"):
        assert heading.get("lang") == "en"  # the site's words inside the German brief
    [other] = page.xpath("//section[@class='other-languages']")
    assert _text(other.xpath("./h2")[0]) == "Reporting in other languages"
    reports = other.xpath("./section[@class='language-report']")
    assert [_text(r.xpath("./h3")[0]) for r in reports] == ["English", "French (français)"]
    assert reports[1].xpath("./h3/span")[0].get("lang") == "fr"
    for report, lang, outlet in zip(reports, ("en", "fr"), ("Wire", "Monde"), strict=True):
        sentences = report.xpath("./p[@lang]")
        assert 1 <= len(sentences) <= 2
        assert {p.get("lang") for p in sentences} == {lang}
        assert cited(report) == {outlet}
        [link] = report.xpath("./p[@class='meta']/a")  # the outlet, linked to its source
        assert _text(link) == outlet and outlet_of[link.get("href")[1:]] == outlet
    panel = [_text(li) for li in page.xpath("//ul[@class='languages']/li")]
    assert panel == [
        "German (Deutsch): 2 outlets in 2 countries",
        "English: 1 outlet in 1 country",
        "French (français): 1 outlet in 1 country",
    ]
    assert page.xpath("//ul[@class='languages']/li[1]/span")[0].get("lang") == "de"


def test_the_story_json_counts_per_language(
    client: TestClient, site: tuple[Store, dict[str, int]]
) -> None:
    body = client.get(f"/api/stories/{site[1]['event']}").json()
    assert body["languages"] == ["de", "en", "fr"]  # the list field stays
    assert body["language_coverage"] == [
        {"code": "de", "name": "German", "native_name": "Deutsch", "outlets": 2,
         "countries": 2, "articles": 2},
        {"code": "en", "name": "English", "native_name": "English", "outlets": 1,
         "countries": 1, "articles": 1},
        {"code": "fr", "name": "French", "native_name": "français", "outlets": 1,
         "countries": 1, "articles": 1},
    ]  # fmt: skip
    brief = body["brief"]
    assert brief["language"] == "de"
    assert [r["language"] for r in brief["other_languages"]] == ["en", "fr"]
    assert brief["other_languages"][1]["outlets"] == ["Monde"]
    cite = brief["other_languages"][1]["sentences"][0]["citations"][0]
    assert cite["outlet"] == "Monde" and cite["url"].startswith("https://monde.example/")
    bridge = client.get(f"/api/stories/{site[1]['bridge']}").json()
    assert bridge["brief"]["language"] == "en" and bridge["brief"]["other_languages"] == []


def test_the_api_filters_stories_and_search_by_language(
    client: TestClient, site: tuple[Store, dict[str, int]]
) -> None:
    ids = site[1]

    def listed(query: str) -> list[int]:
        return [s["id"] for s in client.get(f"/api/stories?{query}").json()["stories"]]

    assert set(listed("")) == {ids["event"], ids["bridge"]}
    assert listed("language=de") == [ids["event"]]
    assert listed("language=fr") == [ids["event"]]
    assert set(listed("language=en")) == {ids["event"], ids["bridge"]}
    assert listed("language=it") == []
    for bad in ("DE", "deutsch", "d1"):
        r = client.get(f"/api/stories?language={bad}")
        assert r.status_code == 422 and r.json()["parameter"] == "language"
    found = client.get("/api/search?q=bridge&language=de").json()
    assert found["stories"] == [] and found["language"] == "de"
    found = client.get("/api/search?q=bridge&language=en").json()
    assert [s["id"] for s in found["stories"]] == [ids["bridge"]]
    assert {a["language"] for a in found["articles"]} == {"en"}


def test_pages_filter_by_language_and_keep_the_filter(
    client: TestClient, site: tuple[Store, dict[str, int]]
) -> None:
    ids = site[1]
    front = _doc(client, "/?language=de")
    stories = {a.get("href") for a in front.xpath("//section[@class='top']//h2/a")}
    assert stories == {f"/story/{ids['event']}?language=de"}
    assert front.xpath("//link[@rel='canonical']")[0].get("href").endswith("/?language=de")
    nav = [a.get("href") for a in front.xpath("//header//nav//a")]
    assert nav and all(h.endswith("?language=de") for h in nav)
    assert front.xpath("//form[@role='search']/input[@name='language']")[0].get("value") == "de"
    everything = _doc(client, "/")
    assert {a.get("href") for a in everything.xpath("//section[@class='top']//h2/a")} == {
        f"/story/{ids['event']}",
        f"/story/{ids['bridge']}",
    }
    # the story page keeps the filter in its links, not in its content
    story = _doc(client, f"/story/{ids['event']}?language=fr")
    assert story.xpath("//header//nav//a")[0].get("href") == "/?language=fr"
    assert story.xpath("//link[@rel='canonical']")[0].get("href").endswith(f"/story/{ids['event']}")
    search = _doc(client, "/search?q=bridge&language=de")
    assert "No stories" in _text(search) or not search.xpath("//article[@class='story-item']")
    assert client.get("/?language=DE").status_code == 400
    assert client.get("/section/world?language=x").status_code == 400


def test_the_chooser_and_hreflang_name_the_languages_present(client: TestClient) -> None:
    front = _doc(client, "/")
    chooser = front.xpath("//nav[@class='languages']//a")
    assert [(a.get("lang"), a.get("href"), _text(a)) for a in chooser[1:]] == [
        ("en", "/?language=en", "English"),
        ("de", "/?language=de", "Deutsch"),
        ("fr", "/?language=fr", "français"),
    ]
    assert chooser[0].get("href") == "/" and chooser[0].get("aria-current") == "true"
    links = {
        link.get("hreflang"): link.get("href")
        for link in front.xpath("//link[@rel='alternate'][@hreflang]")
    }
    base = "https://news.example.org"
    assert links == {
        "en": f"{base}/?language=en",
        "de": f"{base}/?language=de",
        "fr": f"{base}/?language=fr",
        "x-default": f"{base}/",
    }
    section = _doc(client, "/section/world?language=fr")
    hreflang = {link.get("hreflang") for link in section.xpath("//link[@hreflang]")}
    assert hreflang == {"en", "de", "fr", "x-default"}
    current = section.xpath("//nav[@class='languages']//a[@aria-current]")
    assert [a.get("lang") for a in current] == ["fr"]
    # a page whose content does not vary by language names no variants, but has the chooser
    about = _doc(client, "/about")
    assert about.xpath("//link[@hreflang]") == [] and about.xpath("//nav[@class='languages']")


def test_the_site_language_is_the_pages_and_the_feeds(
    site: tuple[Store, dict[str, int]],
) -> None:
    store, ids = site
    with _client(store, site_language="de") as german:
        for path in ("/", f"/story/{ids['event']}", "/about", "/no-such-page"):
            r = german.get(path)
            assert lxml_html.fromstring(r.text).get("lang") == "de", path
        page = _doc(german, f"/story/{ids['event']}")
        # the brief is in the site's language now: its headings need no lang of their own
        assert [h.get("lang") for h in page.xpath("//div[@class='brief-text']//h2")] == [
            None
        ] * len(page.xpath("//div[@class='brief-text']//h2"))
        feed = german.get("/feed.json?language=fr").json()
        assert feed["language"] == "de"
        assert [i["url"] for i in feed["items"]] == [
            f"https://news.example.org/story/{ids['event']}"
        ]
        assert feed["feed_url"].endswith("/feed.json?language=fr")
        assert 'xml:lang="de"' in german.get("/feed.atom").text


def test_listed_headlines_name_their_language(site: tuple[Store, dict[str, int]]) -> None:
    store, ids = site

    def listed(c: TestClient) -> dict[str, tuple[str | None, str | None]]:
        front = _doc(c, "/")
        out = {}
        for item in front.xpath("//section[@class='top']//article[@class='story-item']"):
            h = item.xpath(".//h2")[0]
            dek = item.xpath(".//p[@class='dek']")
            href = h.xpath("./a")[0].get("href")
            out[href] = (h.get("lang"), dek[0].get("lang") if dek else h.get("lang"))
        return out

    with _client(store) as english:  # the event's brief is German: marked; the bridge not
        got = listed(english)
        assert got[f"/story/{ids['event']}"] == ("de", "de")
        assert got[f"/story/{ids['bridge']}"] == (None, None)
    with _client(store, site_language="de") as german:  # German is the page's language now
        got = listed(german)
        assert got[f"/story/{ids['event']}"] == (None, None)
        assert got[f"/story/{ids['bridge']}"] == ("en", "en")
