"""Feeds out: Atom, RSS 2.0 and JSON Feed parse back with feedparser, escape feed data,
carry absolute URLs from settings, and answer conditional requests with 304."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser
from xml.etree import ElementTree as ET

import feedparser
import pytest
from starlette.testclient import TestClient
from webfill import BASE, XSS, Filled

from breakingon.web.outfeeds import OutEntry, OutFeed, render_feed

ATOM = "{http://www.w3.org/2005/Atom}"


class _Html(HTMLParser):
    """What a reader's HTML parser makes of a fragment: its elements and its text."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.parts: list[str] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    @property
    def text(self) -> str:
        return "".join(self.parts)


def _shown(detail: dict[str, str]) -> str:
    """The text a reader shows for a feedparser text construct; no element in it."""
    if detail["type"] in ("text/html", "application/xhtml+xml"):
        parsed = _Html(detail["value"])
        assert parsed.tags == [], detail
        return parsed.text
    return detail["value"]


def _feed_paths(filled: Filled) -> list[str]:
    sid = filled.stories["quake"]
    return [
        "/feed",
        "/section/world/feed",
        "/section/technology/feed",
        "/place/1850147/feed",
        "/place/5128581/feed",
        f"/story/{sid}/feed",
        f"/story/{filled.stories['evil']}/feed",
    ]


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_feeds_parse_back_without_bozo(client: TestClient, filled: Filled, fmt: str) -> None:
    for prefix in [*_feed_paths(filled), "/search/feed"]:
        path = f"{prefix}.{fmt}" + ("?q=tokyo" if prefix == "/search/feed" else "")
        r = client.get(path)
        assert r.status_code == 200, path
        parsed = feedparser.parse(
            r.content, response_headers={"content-type": r.headers["content-type"]}
        )
        assert not parsed.bozo, (path, parsed.get("bozo_exception"))
        assert parsed.version == {"atom": "atom10", "rss": "rss20"}[fmt], path
        assert parsed.feed.title.startswith("Test Wire"), path
        assert parsed.entries, path
        for e in parsed.entries:
            assert e.link.startswith(BASE + "/"), path
            assert e.title and e.id


def test_json_feeds_follow_json_feed_1_1(client: TestClient, filled: Filled) -> None:
    # feedparser 6 does not read JSON Feed; check the 1.1 spec's required members instead.
    for prefix in [*_feed_paths(filled), "/search/feed"]:
        path = f"{prefix}.json" + ("?q=tokyo" if prefix == "/search/feed" else "")
        doc = client.get(path).json()
        assert doc["version"] == "https://jsonfeed.org/version/1.1"
        assert doc["title"].startswith("Test Wire") and doc["feed_url"].startswith(BASE + "/")
        assert doc["items"], path
        for item in doc["items"]:
            assert isinstance(item["id"], str) and item["url"].startswith(BASE + "/")
            assert "content_text" in item or "content_html" in item
            datetime.fromisoformat(item["date_published"])


def test_atom_structure(client: TestClient, filled: Filled) -> None:
    root = ET.fromstring(client.get("/feed.atom").content)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert root.find(f"{ATOM}{name}") is not None, name
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["self"] == f"{BASE}/feed.atom" and links["alternate"] == f"{BASE}/"
    entries = root.findall(f"{ATOM}entry")
    assert entries
    for e in entries:
        for name in ("id", "title", "updated"):
            assert e.find(f"{ATOM}{name}") is not None, name
    assert entries[0].find(f"{ATOM}title").text == "Earthquake strikes near Tokyo"  # type: ignore[union-attr]


def test_rss_structure(client: TestClient) -> None:
    root = ET.fromstring(client.get("/feed.rss").content)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    assert channel is not None
    for name in ("title", "link", "description"):
        assert channel.find(name) is not None, name
    for item in channel.findall("item"):
        assert item.find("title") is not None and item.find("guid") is not None


def test_json_feed_structure(client: TestClient) -> None:
    r = client.get("/feed.json")
    assert r.headers["content-type"].startswith("application/feed+json")
    doc = r.json()
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["feed_url"] == f"{BASE}/feed.json" and doc["home_page_url"] == f"{BASE}/"
    assert all({"id", "url", "title", "date_published"} <= set(i) for i in doc["items"])


@pytest.mark.parametrize("fmt", ["atom", "rss", "json"])
def test_hostile_text_stays_text_in_feeds(client: TestClient, filled: Filled, fmt: str) -> None:
    r = client.get(f"/story/{filled.stories['evil']}/feed.{fmt}")
    if fmt == "json":
        titles = [i["title"] for i in r.json()["items"]]
    else:
        assert b"<script>" not in r.content and b"<img src=x" not in r.content
        parsed = feedparser.parse(r.content)
        assert not parsed.bozo
        # what the reader shows: the text itself, or HTML whose rendering is the text
        titles = [_shown(e.title_detail) for e in parsed.entries]
    assert titles == [f"{XSS} (update 1)"]


def test_story_feed_gets_an_entry_per_development(client: TestClient, filled: Filled) -> None:
    parsed = feedparser.parse(client.get(f"/story/{filled.stories['quake']}/feed.atom").content)
    ids = [e.id for e in parsed.entries]
    url = f"{BASE}/story/{filled.stories['quake']}"
    assert ids == [f"{url}#v2", f"{url}#v1"]  # newest development first
    assert "aftershocks" in parsed.entries[0].summary


def test_conditional_get_with_etag_and_last_modified(client: TestClient) -> None:
    first = client.get("/feed.atom")
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert etag.startswith('"') and not etag.startswith("W/")  # strong validator
    again = client.get("/feed.atom", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert client.get("/feed.atom", headers={"If-Modified-Since": last_modified}).status_code == 304
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert client.get("/feed.atom", headers={"If-Modified-Since": old}).status_code == 200
    assert client.get("/feed.atom", headers={"If-None-Match": '"other"'}).status_code == 200
    # Pages and the API answer conditional requests the same way.
    for path in ("/", "/api/stories"):
        tag = client.get(path).headers["etag"]
        assert client.get(path, headers={"If-None-Match": tag}).status_code == 304


def test_feed_renderer_removes_characters_xml_cannot_carry() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    entry = OutEntry(
        id="https://x.example/1",
        title="bell\x07 nul\x00 ok",
        url="https://x.example/1",
        summary="a\x1bb <b>bold</b> & co",
        updated=now,
        published=now,
        authors=("A\x0b",),
    )
    feed = OutFeed(
        id="https://x.example/feed",
        title="T",
        subtitle="S",
        home_url="https://x.example/",
        self_url="https://x.example/feed.atom",
        updated=now,
        entries=(entry,),
    )
    for fmt in ("atom", "rss"):
        parsed = feedparser.parse(render_feed(feed, fmt))  # type: ignore[arg-type]
        assert not parsed.bozo
        assert parsed.entries[0].title == "bell nul ok"
    doc = json.loads(render_feed(feed, "json"))
    assert doc["items"][0]["content_text"] == "ab <b>bold</b> & co"


MARKUP_TEXTS = [
    "<img src=x onerror=alert(1)>",
    "<svg/onload=alert(1)>",
    "&lt;img src=x onerror=alert(2)&gt;",
    '<a href="javascript:alert(3)">click</a>',
    "<<b>img src=x onerror=alert(4)>",
    "<iframe src=//evil.example>",
    "<p style=x onmouseover=alert(5)>hover",
    "]]><img src=x onerror=alert(6)>",
]


def _careless_reads(doc: bytes, fmt: str) -> list[str]:
    """Every description, summary, title and subtitle a careless reader parses as HTML
    (Atom's all say type="html")."""
    out = []
    for el in ET.fromstring(doc).iter():
        name = el.tag.rsplit("}", 1)[-1]
        if name in ("description", "summary", "title", "subtitle") and el.text:
            if fmt == "atom":
                assert el.get("type") == "html", (name, el.text)
            out.append(el.text)
    return out


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_markup_text_is_no_element_when_a_reader_reads_html(fmt: str) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    entries = tuple(
        OutEntry(
            id=f"https://x.example/{n}",
            title=f"Quake {text}",
            url=f"https://x.example/{n}",
            summary=f"Officials said {text} on Tuesday.",
            updated=now,
            published=now,
        )
        for n, text in enumerate(MARKUP_TEXTS)
    )
    feed = OutFeed(
        id="https://x.example/feed",
        title=f"Search: {MARKUP_TEXTS[0]}",
        subtitle=f"Stories matching {MARKUP_TEXTS[1]}",
        home_url="https://x.example/",
        self_url="https://x.example/feed",
        updated=now,
        entries=entries,
    )
    doc = render_feed(feed, fmt)  # type: ignore[arg-type]
    for text in _careless_reads(doc, fmt):
        assert _Html(text).tags == [], text
    parsed = feedparser.parse(doc)
    assert not parsed.bozo
    shown = {_shown(e.summary_detail) for e in parsed.entries}
    # the reader shows the text, exactly: nothing dropped, nothing executed
    assert shown == {f"Officials said {t} on Tuesday." for t in MARKUP_TEXTS}
    assert {_shown(e.title_detail) for e in parsed.entries} == {f"Quake {t}" for t in MARKUP_TEXTS}


@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_stored_markup_text_is_no_element_in_served_feeds(
    client: TestClient, filled: Filled, fmt: str
) -> None:
    paths = ["/feed", f"/story/{filled.stories['evil']}/feed", "/section/technology/feed"]
    for path in paths:
        r = client.get(f"{path}.{fmt}")
        assert r.status_code == 200, path
        reads = _careless_reads(r.content, fmt)
        if "/story/" in path or fmt == "rss":  # the hostile text is in what is read
            assert any("onerror=alert(1)" in _Html(t).text for t in reads), path
        for text in reads:
            assert _Html(text).tags == [], (path, text)
        for e in feedparser.parse(r.content).entries:
            _shown(e.summary_detail)  # asserts no element in feedparser's sanitised HTML
    r = client.get(f"/search/feed.{fmt}", params={"q": "<img src=x onerror=alert(1)>"})
    assert r.status_code == 200
    for text in _careless_reads(r.content, fmt):
        assert _Html(text).tags == [], text
