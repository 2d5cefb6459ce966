"""Feeds out: Atom, RSS 2.0 and JSON Feed parse back with feedparser, escape feed data,
carry absolute URLs from settings, and answer conditional requests with 304."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import feedparser
import pytest
from starlette.testclient import TestClient
from webfill import BASE, XSS, Filled

from breakingon.web.outfeeds import OutEntry, OutFeed, render_feed

ATOM = "{http://www.w3.org/2005/Atom}"


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
        titles = [e.title for e in parsed.entries]
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
