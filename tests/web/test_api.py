"""The JSON API against real stores (SQLite everywhere; one contract test on PostgreSQL too)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.testclient import TestClient
from webfill import ADMIN_TOKEN, BASE, JS_URL, XSS, FakeResolver, Filled, fill_store, make_settings

from breakingon.store import Store
from breakingon.web import create_app

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_stories_are_listed_by_importance_with_pagination(
    client: TestClient, filled: Filled
) -> None:
    body = client.get("/api/stories").json()
    ids = [s["id"] for s in body["stories"]]
    assert ids[0] == filled.stories["quake"]
    assert filled.stories["merged_from"] not in ids  # merged stories are not listed
    assert body["total"] == len(ids) == 4
    quake = body["stories"][0]
    assert quake["url"] == f"{BASE}/story/{filled.stories['quake']}"
    assert quake["breaking"] is True and quake["outlet_count"] == 3
    assert quake["places"][0]["geonameid"] == 1850147
    page = client.get("/api/stories", params={"limit": 1, "offset": 1}).json()
    assert [s["id"] for s in page["stories"]] == ids[1:2]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"section": "politics"}, {"paris"}),
        ({"place": "2988507"}, {"paris"}),
        ({"country": "jp"}, {"quake"}),
        ({"breaking": "true"}, {"quake"}),
        ({"language": "fr"}, {"quake", "paris", "evil", "merged_into"}),
        ({"since": "2999-01-01T00:00:00Z"}, set()),
    ],
)
def test_story_filters(
    client: TestClient, filled: Filled, params: dict[str, str], expected: set[str]
) -> None:
    body = client.get("/api/stories", params=params).json()
    got = {k for k, v in filled.stories.items() if v in {s["id"] for s in body["stories"]}}
    assert got == expected


def test_limit_is_clamped(client: TestClient) -> None:
    assert client.get("/api/stories", params={"limit": "1000000000"}).json()["limit"] == 100
    assert client.get("/api/stories", params={"limit": "0"}).json()["limit"] == 1
    assert client.get("/api/stories", params={"limit": "9" * 5000}).json()["limit"] == 100


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/api/stories", {"limit": "ten"}, "limit"),
        ("/api/stories", {"offset": "-1"}, "offset"),
        ("/api/stories", {"offset": "99999999999999999999"}, "offset"),
        ("/api/stories", {"section": "gossip"}, "section"),
        ("/api/stories", {"place": "0"}, "place"),
        ("/api/stories", {"place": "99999999999"}, "place"),
        ("/api/stories", {"country": "FRA"}, "country"),
        ("/api/stories", {"language": "E N"}, "language"),
        ("/api/stories", {"since": "yesterday"}, "since"),
        ("/api/stories", {"since": "2026-02-30T00:00:00Z"}, "since"),
        ("/api/stories", {"breaking": "maybe"}, "breaking"),
        ("/api/search", {"q": "x" * 501}, "q"),
        ("/api/search", {}, "q"),
        ("/api/articles", {"source": "abc"}, "source"),
        ("/api/stories/abc", {}, "id"),
    ],
)
def test_bad_parameters_get_422_json(
    client: TestClient, path: str, params: dict[str, str], parameter: str
) -> None:
    r = client.get(path, params=params)
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["error"] == "invalid_parameter" and r.json()["parameter"] == parameter


def test_search_with_a_huge_query_is_refused_not_run(client: TestClient) -> None:
    # 60,000 characters: near the longest URL an HTTP client sends.
    r = client.get("/api/search?q=" + "a" * 60_000)
    assert r.status_code == 422 and r.json()["parameter"] == "q"


def test_one_story_with_brief_articles_and_versions(client: TestClient, filled: Filled) -> None:
    sid = filled.stories["quake"]
    body = client.get(f"/api/stories/{sid}").json()
    assert body["brief"]["headline"] == "Earthquake strikes near Tokyo"
    cited = {c["article_id"] for s in body["brief"]["dek"] for c in s["citations"]}
    assert cited <= {str(a["id"]) for a in body["articles"]}
    assert [v["version"] for v in body["brief_versions"]] == [2, 1]
    assert len(body["articles"]) == 4
    merged = client.get(f"/api/stories/{filled.stories['merged_from']}").json()
    assert merged["id"] == filled.stories["merged_into"]
    assert client.get("/api/stories/999999").status_code == 404


def test_hostile_fields_are_json_encoded_and_javascript_urls_dropped(
    client: TestClient, filled: Filled
) -> None:
    r = client.get(f"/api/stories/{filled.stories['evil']}")
    body = r.json()
    assert body["headline"] == XSS  # exact text round-trips through JSON
    assert body["articles"][0]["url"] == ""  # javascript: never reaches API clients
    assert body["brief"]["dek"][0]["citations"][0]["url"] == ""
    assert JS_URL not in r.text
    assert r.headers["content-type"].startswith("application/json")


def test_articles_sources_search_trends(client: TestClient, filled: Filled) -> None:
    arts = client.get("/api/articles", params={"source": filled.outlets["NHK"]}).json()
    assert {a["outlet"] for a in arts["articles"]} == {"NHK"}
    sources = client.get("/api/sources").json()["sources"]
    nhk = next(s for s in sources if s["outlet"] == "NHK")
    assert nhk["error_count"] == 3 and nhk["last_error"].startswith("timeout")
    found = client.get("/api/search", params={"q": "aftershocks Tokyo"}).json()
    assert any("Aftershocks" in a["title"] for a in found["articles"])
    trends = client.get("/api/trends").json()["trends"]
    assert trends[0]["term"] == "earthquake" and trends[0]["story_ids"] == [filled.stories["quake"]]


# -- admin -----------------------------------------------------------------------------------


@pytest.fixture
def admin(tmp_path: Any) -> Iterator[tuple[TestClient, Store, FakeResolver]]:
    from breakingon.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'admin.sqlite'}")
    resolver = FakeResolver(
        {
            "internal.example": ["10.0.0.5"],
            "mixed.example": ["93.184.215.14", "127.0.0.1"],
            "metadata.google.internal": ["169.254.169.254"],
        }
    )
    app = create_app(make_settings(), store, resolver=resolver)
    with TestClient(app) as c:
        yield c, store, resolver
    store.close()


def test_admin_needs_the_token(admin: tuple[TestClient, Store, FakeResolver]) -> None:
    c, _, _ = admin
    body = {"url": "https://news.example.com/feed.xml"}
    r = c.post("/api/admin/sources", json=body)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"
    r = c.post(
        "/api/admin/sources", json=body, headers={"Authorization": "Bearer wrong-token-value"}
    )
    assert r.status_code == 403
    r = c.post("/api/admin/sources", json=body, headers={"Authorization": f"Basic {ADMIN_TOKEN}"})
    assert r.status_code == 401
    for method, path in (
        ("DELETE", "/api/admin/sources/1"),
        ("POST", "/api/admin/sources/1/pause"),
        ("POST", "/api/admin/sources/1/resume"),
        ("POST", "/api/admin/opml"),
    ):
        assert c.request(method, path).status_code == 401


def test_admin_disabled_without_a_configured_token(tmp_path: Any) -> None:
    from breakingon.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'x.sqlite'}")
    app = create_app(make_settings(admin_token=""), store, resolver=FakeResolver())
    with TestClient(app) as c:
        r = c.post("/api/admin/sources", json={"url": "https://a.example/"}, headers=AUTH)
        assert r.status_code == 403 and r.json()["error"] == "admin_disabled"
    store.close()


def test_admin_add_pause_resume_remove(admin: tuple[TestClient, Store, FakeResolver]) -> None:
    c, store, _ = admin
    r = c.post(
        "/api/admin/sources",
        json={
            "url": "https://News.Example.com/feed.xml",
            "outlet": "Example News",
            "country": "gb",
        },
        headers=AUTH,
    )
    assert r.status_code == 201, r.text
    src = r.json()["source"]
    assert src["url"] == "https://news.example.com/feed.xml" and src["country"] == "GB"
    # A duplicate differing only in case, www. and trailing slash returns the existing feed.
    dup = c.post(
        "/api/admin/sources", json={"url": "https://www.news.example.com/feed.xml/"}, headers=AUTH
    )
    assert dup.status_code == 200 and dup.json()["created"] is False
    assert dup.json()["source"]["id"] == src["id"]
    assert len(store.list_feeds()) == 1
    assert (
        c.post(f"/api/admin/sources/{src['id']}/pause", headers=AUTH).json()["source"]["status"]
        == "paused"
    )
    assert (
        c.post(f"/api/admin/sources/{src['id']}/resume", headers=AUTH).json()["source"]["status"]
        == "active"
    )
    assert c.delete(f"/api/admin/sources/{src['id']}", headers=AUTH).json()["removed"] is True
    assert store.list_feeds() == []
    assert c.delete(f"/api/admin/sources/{src['id']}", headers=AUTH).status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/feed",
        "gopher://example.com/",
        "data:text/html,hi",
        "javascript:alert(1)",
        "example.com/feed",
        "http://user@example.com/feed",
        "http://example.com/a\r\nX-Injected: 1",
        "http://example.com/" + "a" * 10_000,
    ],
)
def test_admin_rejects_bad_urls(admin: tuple[TestClient, Store, FakeResolver], url: str) -> None:
    c, store, _ = admin
    r = c.post("/api/admin/sources", json={"url": url}, headers=AUTH)
    assert r.status_code == 400 and r.json()["error"] == "invalid_url"
    assert r.json()["detail"]
    assert store.list_feeds() == []


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "0x7f000001",
        "2130706433",
        "0177.0.0.1",
        "0.0.0.0",
        "[::]",
        "[::1]",
        "[0:0:0:0:0:0:0:1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "localhost.",
        "169.254.169.254",
        "metadata.google.internal",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "[fc00::1]",
        "[fe80::1]",
        "[2002:7f00:1::]",
        "internal.example",
        "mixed.example",
    ],
)
def test_admin_refuses_private_destinations_without_connecting(
    admin: tuple[TestClient, Store, FakeResolver], host: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, store, _ = admin
    connects: list[object] = []
    real_connect = socket.socket.connect

    def spy(self: socket.socket, address: object) -> None:
        connects.append(address)
        real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", spy)
    r = c.post("/api/admin/sources", json={"url": f"http://{host}/feed.xml"}, headers=AUTH)
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "address_not_allowed"
    assert connects == []
    assert store.list_feeds() == []


def test_admin_validates_the_body(admin: tuple[TestClient, Store, FakeResolver]) -> None:
    c, _, _ = admin
    for body in (
        b"not json",
        b"[1,2]",
        b'{"url": 5}',
        b'{"url": "https://a.example/", "sections": "x"}',
    ):
        r = c.post("/api/admin/sources", content=body, headers=AUTH)
        assert r.status_code == 422, body


OPML = b"""<?xml version="1.0"?>
<opml version="2.0"><head><title>t</title></head><body>
<outline text="World"><outline text="Good" xmlUrl="https://good.example/rss"/></outline>
<outline text="Bad" xmlUrl="http://internal.example/rss"/>
</body></opml>"""


def test_admin_opml_import(admin: tuple[TestClient, Store, FakeResolver]) -> None:
    c, store, _ = admin
    r = c.post("/api/admin/opml", content=OPML, headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["added"] == 1 and body["rejected"][0]["error"] == "address_not_allowed"
    assert [f.url for f in store.list_feeds()] == ["https://good.example/rss"]
    again = c.post("/api/admin/opml", content=OPML, headers=AUTH).json()
    assert again["added"] == 0 and again["existing"] == 1
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><opml><body>&a;</body></opml>'
    r = c.post("/api/admin/opml", content=evil, headers=AUTH)
    assert r.status_code == 400 and r.json()["error"] == "invalid_opml"
    big = b"<opml><body>" + b'<outline text="x"/>' * 100_000 + b"</body></opml>"
    r = c.post("/api/admin/opml", content=big, headers=AUTH)
    assert r.status_code == 400 and "outlines" in r.json()["detail"]


def test_admin_opml_in_any_declared_encoding_is_never_a_500(
    admin: tuple[TestClient, Store, FakeResolver],
) -> None:
    c, store, _ = admin
    doc = '<opml version="2.0"><body><outline text="G" xmlUrl="https://good.example/rss"/></body></opml>'
    for label in ("utf-7", "utf-32", "bogus", "unicode_escape", "base64", "x-mac-roman"):
        for body in (
            f'<?xml version="1.0" encoding="{label}"?>{doc}'.encode(),
            f'<?xml version="1.0" encoding="{label}"?>{doc}'.encode() + b"<!--\xff-->",
        ):
            r = c.post("/api/admin/opml", content=body, headers=AUTH)
            assert r.status_code in (200, 400), (label, r.status_code, r.text)
            if r.status_code == 400:
                assert r.json()["error"] == "invalid_opml" and "encoding" in r.json()["detail"]
    r = c.post(
        "/api/admin/opml",
        content=f'<?xml version="1.0" encoding="utf-7"?>{doc}'.encode(),
        headers=AUTH,
    )
    assert r.status_code == 400
    r = c.post(
        "/api/admin/opml",
        content=f'<?xml version="1.0" encoding="utf-32"?>{doc}'.encode("utf-32"),
        headers=AUTH,
    )
    assert r.status_code == 200 and r.json()["added"] + r.json()["existing"] == 1, r.text
    assert [f.url for f in store.list_feeds()] == ["https://good.example/rss"]


def test_stories_api_contract_on_both_backends(store: Store) -> None:
    """The same API answers on SQLite and PostgreSQL (the root `store` fixture)."""
    filled = fill_store(store)
    app = create_app(make_settings(), store, resolver=FakeResolver())
    with TestClient(app) as c:
        body = c.get("/api/stories", params={"section": "science"}).json()
        assert [s["id"] for s in body["stories"]] == [filled.stories["quake"]]
        detail = c.get(f"/api/stories/{filled.stories['evil']}").json()
        assert detail["headline"] == XSS
        assert json.loads(json.dumps(detail)) == detail
        assert (
            c.get("/api/search", params={"q": "budget"}).json()["stories"][0]["id"]
            == (filled.stories["paris"])
        )
