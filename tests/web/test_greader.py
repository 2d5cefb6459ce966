"""The Google Reader API as reader apps call it: sign-in, subscriptions, streams with
continuation and state filters, item ids in both forms, edit-tag, mark-all-as-read,
unread counts, Atom, stable items updated in place, and hostile input."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from webfill import BASE, Filled, fill_store, make_settings

from breakingon.accounts import hash_password
from breakingon.records import Brief, BriefSentence, Citation
from breakingon.store import Store, open_store
from breakingon.store.base import StoryUpdate
from breakingon.web import create_app

API = "/api/greader/reader/api/0"
LOGIN = "/api/greader/accounts/ClientLogin"
READING_LIST = "user/-/state/com.google/reading-list"
READ = "user/-/state/com.google/read"
STARRED = "user/-/state/com.google/starred"
PW = {"alice": "alice password", "bob": "bob's password"}


@dataclass
class Site:
    client: TestClient
    store: Store
    filled: Filled
    users: dict[str, int]

    def auth(self, name: str) -> dict[str, str]:
        r = self.client.post(LOGIN, data={"Email": name, "Passwd": PW[name]})
        assert r.status_code == 200, r.text
        lines = dict(line.split("=", 1) for line in r.text.strip().splitlines())
        assert set(lines) == {"SID", "LSID", "Auth"} and lines["SID"] == lines["Auth"]
        return {"Authorization": f"GoogleLogin auth={lines['Auth']}"}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    filled = fill_store(store)
    users = {}
    for name, pw in PW.items():
        u = store.add_user(name, hash_password(pw), None, filled.now)
        assert u is not None
        users[name] = u.id
    app = create_app(make_settings(), store)
    with TestClient(app, base_url="http://testserver") as client:
        yield Site(client, store, filled, users)
    store.close()


def _subscribe(site: Site, h: dict[str, str], *streams: str) -> None:
    for s in streams:
        r = site.client.post(f"{API}/subscription/quickadd", data={"quickadd": s}, headers=h)
        assert r.status_code == 200, r.text
        assert r.json()["numResults"] == 1


def _ids(site: Site, h: dict[str, str], **params: str) -> list[int]:
    r = site.client.get(f"{API}/stream/items/ids", params={"n": "100", **params}, headers=h)
    assert r.status_code == 200, r.text
    return [int(ref["id"]) for ref in r.json()["itemRefs"]]


def test_sign_in_and_who_am_i(site: Site) -> None:
    c = site.client
    h = site.auth("alice")
    assert c.get(f"{API}/user-info", headers=h).json()["userName"] == "alice"
    token = c.get(f"{API}/token", headers=h).text
    # The action token works as T on a POST, without the header (Miniflux-style clients).
    r = c.post(f"{API}/edit-tag", data={"i": "1", "a": READ, "T": token})
    assert r.status_code == 200 and r.text == "OK"
    j = c.post(LOGIN, data={"Email": "alice", "Passwd": PW["alice"], "output": "json"}).json()
    assert f"GoogleLogin auth={j['Auth']}" == h["Authorization"]
    for bad in (
        {"Email": "alice", "Passwd": "wrong"},
        {"Email": "nobody", "Passwd": "whatever1"},
        {"Email": "alice"},
        {"Email": "a b", "Passwd": "x"},
    ):
        r = c.post(LOGIN, data=bad)
        assert r.status_code == 401 and "Auth=" not in r.text
    # A changed password ends the sign-ins made with the old one.
    site.store.set_user_password("alice", hash_password("a new password"), None)
    assert c.get(f"{API}/user-info", headers=h).status_code == 401
    site.store.set_user_password("alice", hash_password(PW["alice"]), None)
    h = site.auth("alice")
    site.store.set_user_disabled("alice", True)
    assert c.get(f"{API}/user-info", headers=h).status_code == 401
    assert c.post(LOGIN, data={"Email": "alice", "Passwd": PW["alice"]}).status_code == 401


def test_every_call_needs_a_valid_sign_in(site: Site) -> None:
    c = site.client
    good = site.auth("alice")["Authorization"]
    forged = good[:-4] + ("0000" if not good.endswith("0000") else "1111")
    bobs_mac = site.auth("bob")["Authorization"].split("/", 1)[1]
    for headers in (
        {},
        {"Authorization": forged},
        {"Authorization": "GoogleLogin auth=alice/" + bobs_mac},  # bob's MAC, alice's name
        {"Authorization": "Bearer " + good.split("=", 1)[1]},
        {"Authorization": "GoogleLogin auth=" + "x" * 5000},
    ):
        for method, path in (
            ("GET", "/token"),
            ("GET", "/user-info"),
            ("GET", "/subscription/list"),
            ("POST", "/subscription/edit"),
            ("POST", "/subscription/quickadd"),
            ("GET", "/tag/list"),
            ("GET", "/unread-count"),
            ("GET", "/stream/contents/" + READING_LIST),
            ("GET", "/stream/items/ids"),
            ("POST", "/stream/items/contents"),
            ("POST", "/edit-tag"),
            ("POST", "/mark-all-as-read"),
        ):
            r = c.request(method, API + path, headers=headers, data={"i": "1", "s": READING_LIST})
            assert r.status_code == 401, (method, path, headers)
            assert r.headers["cache-control"] == "no-store"
        r = c.get("/api/greader/reader/atom/feed/breakingon:top", headers=headers)
        assert r.status_code == 401


def test_failed_sign_ins_are_rate_limited(site: Site) -> None:
    c = site.client
    for _ in range(10):
        assert c.post(LOGIN, data={"Email": "bob", "Passwd": "guess guess"}).status_code == 401
    r = c.post(LOGIN, data={"Email": "bob", "Passwd": PW["bob"]})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    # The address is blocked for every name, before any password is checked.
    assert c.post(LOGIN, data={"Email": "alice", "Passwd": PW["alice"]}).status_code == 429


def test_subscriptions_folders_and_edits(site: Site) -> None:
    c = site.client
    h = site.auth("alice")
    quake = site.filled.stories["quake"]
    tokyo = 1850147
    reuters = site.filled.outlets["Reuters"]
    _subscribe(
        site,
        h,
        f"{BASE}/section/science",
        "/place/1850147/feed.atom",
        f"{BASE}/outlet/{reuters}",
        f"{BASE}/search?q=Paris+budget",
        f"feed/breakingon:story/{quake}",
        f"{BASE}/",
    )
    subs = c.get(f"{API}/subscription/list", params={"output": "json"}, headers=h).json()
    got = {s["id"]: (s["title"], s["categories"][0]["label"]) for s in subs["subscriptions"]}
    assert got == {
        "feed/breakingon:section/science": ("Science", "Sections"),
        f"feed/breakingon:place/{tokyo}": ("Tokyo", "Places"),
        f"feed/breakingon:outlet/{reuters}": ("Reuters", "Outlets"),
        "feed/breakingon:search/paris+budget": ("Search: paris budget", "Searches"),
        f"feed/breakingon:story/{quake}": ("Earthquake strikes near Tokyo", "Stories"),
        "feed/breakingon:top": ("Top stories", "BreakingOn"),
    }
    assert subs["subscriptions"][0]["htmlUrl"] == f"{BASE}/section/science"
    tags = [t["id"] for t in c.get(f"{API}/tag/list", headers=h).json()["tags"]]
    assert tags[0] == STARRED and "user/-/label/Places" in tags
    edit = f"{API}/subscription/edit"
    assert (
        c.post(edit, data={"ac": "edit", "s": "feed/breakingon:top", "t": "Front"}, headers=h).text
        == "OK"
    )
    r = c.post(edit, data={"ac": "unsubscribe", "s": "feed/breakingon:section/science"}, headers=h)
    assert r.text == "OK"
    r = c.post(
        edit, data={"ac": "subscribe", "s": "feed/breakingon:breaking", "t": "Now"}, headers=h
    )
    assert r.text == "OK"
    subs = c.get(f"{API}/subscription/list", headers=h).json()["subscriptions"]
    titles = {s["id"]: s["title"] for s in subs}
    assert titles["feed/breakingon:top"] == "Front" and titles["feed/breakingon:breaking"] == "Now"
    assert "feed/breakingon:section/science" not in titles
    # Bob sees none of it.
    assert c.get(f"{API}/subscription/list", headers=site.auth("bob")).json() == {
        "subscriptions": []
    }
    for bad in (
        "https://elsewhere.example/section/science",
        f"{BASE}/section/knitting",
        f"{BASE}/place/999999999",
        f"{BASE}/outlet/424242",
        f"{BASE}/story/424242",
        f"{BASE}/search?q=%21%21",
        f"{BASE}/about",
        "feed/breakingon:nonsense",
        "javascript:alert(1)",
    ):
        r = c.post(f"{API}/subscription/quickadd", data={"quickadd": bad}, headers=h)
        assert r.status_code == 400, bad
    for data in (
        {"ac": "explode", "s": "feed/breakingon:top"},
        {"ac": "subscribe"},
        {"ac": "subscribe", "s": "feed/http://example.com/rss"},
        {"ac": "edit", "s": "feed/breakingon:section/science", "t": "x"},  # not subscribed
    ):
        assert c.post(edit, data=data, headers=h).status_code == 400, data


def test_streams_items_states_and_counts(site: Site) -> None:
    c = site.client
    h = site.auth("alice")
    stories = site.filled.stories
    _subscribe(site, h, "feed/breakingon:top", "feed/breakingon:section/science")
    listed = {stories[k] for k in ("quake", "paris", "evil", "merged_into")}
    everything = _ids(site, h, s=READING_LIST)
    assert set(everything) == listed and len(everything) == 4

    # Continuation: pages of one, in order, nothing lost or repeated.
    seen, cont = [], None
    for _ in range(10):
        params = {"n": "1", **({"c": cont} if cont else {})}
        r = c.get(f"{API}/stream/contents/{READING_LIST}", params=params, headers=h).json()
        seen += [int(i["id"].rsplit("/", 1)[1], 16) for i in r["items"]]
        cont = r.get("continuation")
        if not cont:
            break
    assert seen == everything
    page = c.get(f"{API}/stream/contents/feed/breakingon:section/science", headers=h).json()
    (item,) = page["items"]
    assert item["id"] == f"tag:google.com,2005:reader/item/{stories['quake']:016x}"
    assert item["title"] == "Earthquake strikes near Tokyo"
    assert item["alternate"][0]["href"] == f"{BASE}/story/{stories['quake']}"
    assert item["origin"]["streamId"] == "feed/breakingon:section/science"
    html = item["summary"]["content"]
    assert "A magnitude 6.1 earthquake struck near Tokyo" in html
    assert 'href="https://nhk.example/news/quake"' in html  # a citation and a source link
    assert "<h3>Sources</h3>" in html and "Le Monde: Séisme près de Tokyo" in html
    assert READING_LIST in item["categories"] and READ not in item["categories"]

    # edit-tag with the long, short and hex forms of item ids.
    r = c.post(
        f"{API}/edit-tag",
        data={
            "i": [item["id"], str(stories["paris"])],
            "a": [READ, "user/1234/state/com.google/starred"],
        },
        headers=h,
    )
    assert r.text == "OK"
    assert set(_ids(site, h, s=READING_LIST, xt=READ)) == listed - {
        stories["quake"],
        stories["paris"],
    }
    assert set(_ids(site, h, s=READING_LIST, it=READ)) == {stories["quake"], stories["paris"]}
    assert set(_ids(site, h, s=STARRED)) == {stories["quake"], stories["paris"]}
    assert _ids(site, h, s=READING_LIST, xt=READ, it=STARRED) == []
    r = c.post(f"{API}/edit-tag", data={"i": f"{stories['paris']:016x}", "r": READ}, headers=h)
    assert r.text == "OK"
    assert stories["paris"] in _ids(site, h, s=READING_LIST, xt=READ)
    starred = c.post(f"{API}/stream/items/contents", data={"i": str(stories["quake"])}, headers=h)
    (again,) = starred.json()["items"]
    assert STARRED in again["categories"] and READ in again["categories"]
    assert again["origin"]["streamId"] == "feed/breakingon:top"  # its first follow

    counts = c.get(f"{API}/unread-count", params={"output": "json"}, headers=h).json()
    by_id = {x["id"]: x["count"] for x in counts["unreadcounts"]}
    assert by_id[READING_LIST] == 3 and by_id["feed/breakingon:section/science"] == 0
    assert by_id["feed/breakingon:top"] == 3 and by_id["user/-/label/Sections"] == 0

    # Bob's state is his own: alice's reads and stars are not his, nor can he change them.
    hb = site.auth("bob")
    assert _ids(site, hb, s=STARRED) == []
    assert (
        c.post(f"{API}/edit-tag", data={"i": str(stories["evil"]), "a": READ}, headers=hb).text
        == "OK"
    )
    assert stories["evil"] in _ids(site, h, s=READING_LIST, xt=READ)
    assert c.get(f"{API}/unread-count", headers=hb).json()["unreadcounts"][-1]["count"] == 0

    # mark-all-as-read up to a time: only what was first reported by then.
    paris = site.store.get_story(stories["paris"])
    assert paris is not None
    ts = int(paris.first_reported.timestamp() * 1_000_000)
    r = c.post(f"{API}/mark-all-as-read", data={"s": READING_LIST, "ts": str(ts)}, headers=h)
    assert r.text == "OK"
    left = _ids(site, h, s=READING_LIST, xt=READ)
    assert stories["paris"] not in left and stories["evil"] in left
    r = c.post(f"{API}/mark-all-as-read", data={"s": "user/-/label/BreakingOn"}, headers=h)
    assert r.text == "OK" and _ids(site, h, s=READING_LIST, xt=READ) == []


def test_a_changed_brief_updates_the_item_in_place(site: Site) -> None:
    c = site.client
    h = site.auth("alice")
    sid = site.filled.stories["paris"]
    _subscribe(site, h, f"feed/breakingon:story/{sid}")
    url = f"{API}/stream/contents/feed/breakingon:story/{sid}"
    (before,) = c.get(url, headers=h).json()["items"]
    s = site.store.get_story(sid)
    assert s is not None and s.updated_at is not None
    article = site.filled.articles["paris"][0]
    brief = Brief(
        headline=s.headline,
        dek=(BriefSentence("The budget passed by 90 votes to 60.", (Citation(str(article)),)),),
        sections=(),
        credits=("Le Monde",),
    )
    site.store.save_story(
        StoryUpdate(
            story_id=sid,
            headline=s.headline,
            dek=s.dek,
            first_reported=s.first_reported,
            last_reported=s.last_reported,
            article_count=s.article_count,
            outlet_count=s.outlet_count,
            representative_article_id=s.representative_article_id,
            outlets=s.outlets,
            countries=s.countries,
            languages=s.languages,
            sections=s.sections,
            places=s.places,
            score=s.score,
            score_explanation=s.score_explanation,
            breaking_since=None,
            breaking_until=None,
            brief=brief,
        ),
        s.updated_at + timedelta(minutes=5),
    )
    (after,) = c.get(url, headers=h).json()["items"]
    assert after["id"] == before["id"] and after["published"] == before["published"]
    assert after["updated"] == before["updated"] + 300
    assert "90 votes to 60" in after["content"]["content"]
    assert "90 votes to 60" not in before["content"]["content"]


def test_atom_for_feedhq_clients(site: Site) -> None:
    c = site.client
    h = site.auth("alice")
    _subscribe(site, h, "feed/breakingon:top")
    evil = site.filled.stories["evil"]
    c.post(f"{API}/edit-tag", data={"i": str(evil), "a": READ}, headers=h)
    r = c.get("/api/greader/reader/atom/feed%2Fbreakingon%3Atop", params={"n": "2"}, headers=h)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    ns = {"a": "http://www.w3.org/2005/Atom", "gr": "http://www.google.com/schemas/reader/atom/"}
    feed = ET.fromstring(r.content)
    assert feed.findtext("a:title", namespaces=ns) == "Top stories"
    entries = feed.findall("a:entry", ns)
    assert len(entries) == 2 and feed.findtext("gr:continuation", namespaces=ns)
    labels = {
        e.findtext("a:id", namespaces=ns): {
            x.get("label")
            for x in e.findall("a:category", ns)
            if x.get("scheme") == "http://www.google.com/reader/"
        }
        for e in entries
    }
    assert labels[f"tag:google.com,2005:reader/item/{evil:016x}"] >= {"reading-list", "read"}
    assert any("fresh" in v for v in labels.values())
    # Hostile text arrives as text: no element of the entry carries the markup.
    assert b"<script>" not in r.content and b"<img" not in r.content


def test_hostile_and_malformed_requests_get_4xx(site: Site) -> None:
    c = site.client
    h = site.auth("alice")
    _subscribe(site, h, "feed/breakingon:top")
    bad = [
        ("GET", "/stream/contents/" + READING_LIST, {"n": "lots"}),
        ("GET", "/stream/contents/" + READING_LIST, {"c": "not-ours"}),
        ("GET", "/stream/contents/user/-/label/Nope", {}),
        ("GET", "/stream/contents/feed/http%3A%2F%2Fexample.com%2Frss", {}),
        ("GET", "/stream/items/ids", {"s": "feed/breakingon:place/abc"}),
        ("POST", "/stream/items/contents", {"i": "tag:google.com,2005:reader/item/xyz"}),
        ("POST", "/stream/items/contents", {}),
        ("POST", "/edit-tag", {"i": "0", "a": READ}),
        ("POST", "/edit-tag", {"i": ["1"] * 1001, "a": READ}),
        ("POST", "/mark-all-as-read", {}),
        ("POST", "/mark-all-as-read", {"s": STARRED}),
        ("POST", "/mark-all-as-read", {"s": READING_LIST, "ts": "yesterday"}),
    ]
    for method, path, data in bad:
        kw = {"params": data} if method == "GET" else {"data": data}
        r = c.request(method, API + path, headers=h, **kw)  # type: ignore[arg-type]
        assert 400 <= r.status_code < 500, (path, data, r.status_code)
    r = c.post(f"{API}/edit-tag", content=b"i=" + b"1" * (2 * 1024 * 1024), headers=h)
    assert r.status_code == 413
    r = c.post(f"{API}/edit-tag", content=b"\xff\xfe=1", headers=h)
    assert r.status_code == 400
    many = "&".join(f"i={n}" for n in range(3000)).encode()
    assert c.post(f"{API}/edit-tag", content=many, headers=h).status_code == 400
    assert c.get("/api/greader/reader/api/0/nothing-here", headers=h).status_code == 404
    assert _ids(site, h, s=READING_LIST, xt=READ)  # nothing was marked by the bad calls


def test_client_login_takes_the_password_only_in_a_body(site: Site) -> None:
    r = site.client.get(LOGIN, params={"Email": "alice", "Passwd": PW["alice"]})
    assert r.status_code in (404, 405) and "Auth=" not in r.text
    r = site.client.post(LOGIN, params={"Email": "alice", "Passwd": PW["alice"]})
    assert r.status_code == 400 and "Auth=" not in r.text
