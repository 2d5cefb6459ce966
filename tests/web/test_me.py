"""/api/me: a reader's own data with their per-user token; every route refuses a
missing, wrong, revoked or admin token, and no route reaches another user's data."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from webfill import ADMIN_TOKEN, BASE, Filled, fill_store, make_settings

from breakingon.accounts import new_api_token, token_hash
from breakingon.store import Store, open_store
from breakingon.web import create_app

ROUTES = [
    ("GET", "/api/me", None),
    ("GET", "/api/me/follows", None),
    ("POST", "/api/me/follows", {"kind": "top"}),
    ("DELETE", "/api/me/follows/1", None),
    ("GET", "/api/me/items/1", None),
    ("PUT", "/api/me/items/1", {"read": True}),
]


@dataclass
class Site:
    http: TestClient
    store: Store
    filled: Filled
    tokens: dict[str, str]

    def h(self, name: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}"}


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    filled = fill_store(store)
    tokens = {}
    for name in ("alice", "bob"):
        store.add_user(name, "hash", None, filled.now)
        tokens[name] = new_api_token()
        store.set_user_token(name, token_hash(tokens[name]))
    with TestClient(create_app(make_settings(), store), base_url="http://testserver") as http:
        yield Site(http, store, filled, tokens)
    store.close()


def test_follow_and_mark_with_a_user_token(site: Site) -> None:
    http = site.http
    me = http.get("/api/me", headers=site.h("alice"))
    assert me.status_code == 200 and me.json()["name"] == "alice" and me.json()["follows"] == 0
    assert me.headers["cache-control"] == "no-store"
    r = http.post(
        "/api/me/follows", json={"kind": "section", "value": "science"}, headers=site.h("alice")
    )
    assert r.status_code == 201 and r.json()["created"]
    f = r.json()["follow"]
    assert f["title"] == "Science" and f["stream_id"] == "feed/breakingon:section/science"
    assert f["url"] == f"{BASE}/section/science"
    again = http.post(
        "/api/me/follows", json={"kind": "section", "value": "science"}, headers=site.h("alice")
    )
    assert again.status_code == 200 and not again.json()["created"]
    quake = site.filled.stories["quake"]
    r = http.post(
        "/api/me/follows",
        json={"kind": "story", "value": quake, "title": "Quake"},
        headers=site.h("alice"),
    )
    assert r.status_code == 201 and r.json()["follow"]["title"] == "Quake"
    listed = http.get("/api/me/follows", headers=site.h("alice")).json()["follows"]
    assert [x["kind"] for x in listed] == ["section", "story"]

    state = http.put(
        f"/api/me/items/{quake}", json={"read": True, "starred": True}, headers=site.h("alice")
    )
    assert state.status_code == 200
    assert state.json()["read"] and state.json()["starred"] and state.json()["read_at"]
    state = http.put(f"/api/me/items/{quake}", json={"starred": False}, headers=site.h("alice"))
    assert state.json()["read"] and not state.json()["starred"]
    assert http.get(f"/api/me/items/{quake}", headers=site.h("alice")).json()["read"]

    assert http.delete(f"/api/me/follows/{f['id']}", headers=site.h("alice")).json() == {
        "removed": True,
        "id": f["id"],
    }
    assert http.delete(f"/api/me/follows/{f['id']}", headers=site.h("alice")).status_code == 404


def test_every_route_needs_the_users_own_token(site: Site) -> None:
    http = site.http
    site.store.add_user("carol", "hash", None, site.filled.now)
    revoked = new_api_token()
    site.store.set_user_token("carol", token_hash(revoked))
    site.store.set_user_token("carol", None)
    disabled = new_api_token()
    site.store.add_user("dave", "hash", None, site.filled.now)
    site.store.set_user_token("dave", token_hash(disabled))
    site.store.set_user_disabled("dave", True)
    for headers in (
        {},
        {"Authorization": "Bearer "},
        {"Authorization": "Bearer bo_not-a-token"},
        {"Authorization": f"Bearer {ADMIN_TOKEN}"},  # the admin token is not a user's
        {"Authorization": f"Bearer {revoked}"},
        {"Authorization": f"Bearer {disabled}"},
        {"Authorization": f"Basic {site.tokens['alice']}"},
        {"Authorization": "Bearer " + "x" * 5000},
    ):
        for method, path, body in ROUTES:
            r = http.request(method, path, json=body, headers=headers)
            assert r.status_code == 401, (method, path, headers)
            assert r.headers.get("www-authenticate") == "Bearer"


def test_one_user_never_reaches_anothers_data(site: Site) -> None:
    http = site.http
    quake = site.filled.stories["quake"]
    mine = http.post("/api/me/follows", json={"kind": "top"}, headers=site.h("alice")).json()
    http.put(
        f"/api/me/items/{quake}", json={"read": True, "starred": True}, headers=site.h("alice")
    )
    # Bob: no follows, no state, and alice's follow id is not his to delete.
    assert http.get("/api/me/follows", headers=site.h("bob")).json() == {"follows": []}
    assert http.get("/api/me", headers=site.h("bob")).json()["follows"] == 0
    fid = mine["follow"]["id"]
    assert http.delete(f"/api/me/follows/{fid}", headers=site.h("bob")).status_code == 404
    bobs = http.get(f"/api/me/items/{quake}", headers=site.h("bob")).json()
    assert not bobs["read"] and not bobs["starred"]
    http.put(
        f"/api/me/items/{quake}", json={"read": False, "starred": False}, headers=site.h("bob")
    )
    alices = http.get(f"/api/me/items/{quake}", headers=site.h("alice")).json()
    assert alices["read"] and alices["starred"]
    assert len(http.get("/api/me/follows", headers=site.h("alice")).json()["follows"]) == 1


def test_bad_input_is_4xx(site: Site) -> None:
    http, h = site.http, site.h("alice")
    for body, status in (
        ({"kind": "nonsense"}, 422),
        ({"kind": "section", "value": "knitting"}, 400),
        ({"kind": "place", "value": "abc"}, 400),
        ({"kind": "outlet", "value": "424242"}, 400),
        ({"kind": "story", "value": 424242}, 400),
        ({"kind": "search", "value": "!!!"}, 400),
        ({"kind": "top", "value": "x"}, 400),
        ({"kind": "top", "title": ["not", "text"]}, 422),
        ({"kind": "search", "value": "x" * 600}, 422),
        (["kind", "top"], 422),
    ):
        r = http.post("/api/me/follows", json=body, headers=h)
        assert r.status_code == status, (body, r.status_code, r.text)
    assert http.post("/api/me/follows", content=b"{not json", headers=h).status_code == 422
    assert http.put("/api/me/items/1", json={"read": "yes"}, headers=h).status_code == 422
    assert http.get("/api/me/items/424242", headers=h).status_code == 404
    assert http.get("/api/me/items/0", headers=h).status_code == 422
    assert http.delete("/api/me/follows/abc", headers=h).status_code == 422
    big = http.post(
        "/api/me/follows", content=b'{"kind":"' + b"x" * (2 * 1024 * 1024) + b'"}', headers=h
    )
    assert big.status_code == 413
    assert http.get("/api/me/follows", headers=h).json() == {"follows": []}
