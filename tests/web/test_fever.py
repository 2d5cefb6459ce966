"""The Fever API with a client written from its published description
(feedafever.com/api): authenticate with a POSTed api_key (md5 of "email:password"), read
with query arguments (`groups`, `feeds`, `items` with `since_id` / `max_id` /
`with_ids`, `unread_item_ids`, `saved_item_ids`), write with POSTed `mark`, `as`, `id`,
`before`; sync a local cache the way the description says, and check it against the
server's state. Plus wrong keys, other users and malformed input."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from webfill import BASE, Filled, fill_store, make_settings

from breakingon.accounts import fever_key_hash, hash_password
from breakingon.store import Store, open_store
from breakingon.web import create_app


@dataclass
class FeverClient:
    """A Fever client as the API description tells one to be written."""

    http: TestClient
    email: str
    password: str
    endpoint: str = "/api/fever/"
    items: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def api_key(self) -> str:
        return hashlib.md5(f"{self.email}:{self.password}".encode()).hexdigest()

    def call(self, *args: str, data: dict[str, str] | None = None, api: str = "") -> Any:
        query = "api" + (f"={api}" if api else "") + "".join(f"&{a}" for a in args)
        r = self.http.post(
            f"{self.endpoint}?{query}", data={"api_key": self.api_key, **(data or {})}
        )
        assert r.status_code == 200, r.text
        if api == "xml":
            return ET.fromstring(r.content)
        body = r.json()
        assert body["api_version"] == 3 and body["auth"] == 1
        assert isinstance(body["last_refreshed_on_time"], int)
        return body

    def sync(self) -> None:
        """Fetch every item: since_id with the highest cached id until none come."""
        while True:
            since = max(self.items, default=0)
            got = self.call("items", f"since_id={since}")["items"]
            if not got:
                return
            for item in got:
                self.items[item["id"]] = item

    def unread(self) -> set[int]:
        text = self.call("unread_item_ids")["unread_item_ids"]
        return {int(x) for x in text.split(",") if x}

    def saved(self) -> set[int]:
        text = self.call("saved_item_ids")["saved_item_ids"]
        return {int(x) for x in text.split(",") if x}

    def mark(self, what: str, how: str, target: int, before: int | None = None) -> Any:
        data = {"mark": what, "as": how, "id": str(target)}
        if before is not None:
            data["before"] = str(before)
        return self.call(data=data)


@dataclass
class Site:
    http: TestClient
    store: Store
    filled: Filled
    users: dict[str, int]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    store = open_store(f"sqlite:///{tmp_path / 's.sqlite'}")
    filled = fill_store(store)
    users = {}
    for name in ("alice", "bob"):
        pw = f"{name} password"
        u = store.add_user(name, hash_password(pw), fever_key_hash(name, pw), filled.now)
        assert u is not None
        users[name] = u.id
    store.add_user("nofever", hash_password("nofever password"), None, filled.now)
    for kind, value, title in (("top", "", "Top"), ("section", "science", "Science")):
        store.add_follow(users["alice"], kind, value, title, filled.now)  # type: ignore[arg-type]
    store.add_follow(users["bob"], "section", "politics", "Politics", filled.now)
    app = create_app(make_settings(), store)
    with TestClient(app, base_url="http://testserver") as http:
        yield Site(http, store, filled, users)
    store.close()


def test_a_fever_client_syncs_and_marks(site: Site) -> None:
    alice = FeverClient(site.http, "alice", "alice password")
    stories = site.filled.stories
    groups = alice.call("groups")
    assert {g["title"] for g in groups["groups"]} == {"BreakingOn", "Sections"}
    feeds = alice.call("feeds")["feeds"]
    assert [f["title"] for f in feeds] == ["Top", "Science"]
    assert feeds[1]["site_url"] == f"{BASE}/section/science" and feeds[1]["is_spark"] == 0
    by_group = {fg["group_id"]: fg["feed_ids"] for fg in groups["feeds_groups"]}
    assert sorted(by_group.values()) == sorted(str(f["id"]) for f in feeds)
    favicon = alice.call("favicons")["favicons"][0]
    assert favicon["id"] == feeds[0]["favicon_id"] and favicon["data"].startswith("image/")

    alice.sync()
    listed = {stories[k] for k in ("quake", "paris", "evil", "merged_into")}
    assert set(alice.items) == listed
    quake = alice.items[stories["quake"]]
    assert quake["title"] == "Earthquake strikes near Tokyo"
    assert quake["url"] == f"{BASE}/story/{stories['quake']}"
    assert quake["feed_id"] == feeds[0]["id"] and quake["is_read"] == 0
    assert "A magnitude 6.1 earthquake" in quake["html"] and "<script" not in quake["html"]
    total = alice.call("items")["total_items"]
    assert total == len(listed)
    newest_first = alice.call("items", "max_id=0")["items"]
    assert [i["id"] for i in newest_first] == sorted(listed, reverse=True)
    below = alice.call("items", f"max_id={stories['paris']}")["items"]
    assert all(i["id"] < stories["paris"] for i in below)
    picked = alice.call("items", f"with_ids={stories['quake']},{stories['paris']}")["items"]
    assert {i["id"] for i in picked} == {stories["quake"], stories["paris"]}
    assert alice.call("links")["links"] == []

    assert alice.unread() == listed and alice.saved() == set()
    after = alice.mark("item", "read", stories["quake"])
    assert stories["quake"] not in {int(x) for x in after["unread_item_ids"].split(",")}
    assert alice.mark("item", "saved", stories["quake"])["saved_item_ids"] == str(stories["quake"])
    assert alice.unread() == listed - {stories["quake"]}
    assert alice.saved() == {stories["quake"]}
    alice.mark("item", "unread", stories["quake"])
    alice.mark("item", "unsaved", stories["quake"])
    assert alice.unread() == listed and alice.saved() == set()

    # A feed up to a time: only the items created before it.
    paris = site.store.get_story(stories["paris"])
    assert paris is not None
    alice.mark("feed", "read", feeds[0]["id"], int(paris.first_reported.timestamp()))
    left = alice.unread()
    assert stories["paris"] in left and stories["evil"] in left
    assert stories["quake"] not in left and stories["merged_into"] not in left
    sections = next(g["id"] for g in groups["groups"] if g["title"] == "Sections")
    alice.mark("group", "read", sections, 2**31)
    alice.mark("group", "read", -1, 2**31)  # the Sparks: none
    assert alice.unread() == {stories["paris"], stories["evil"]}
    alice.mark("group", "read", 0, 2**31)  # Kindling: everything
    assert alice.unread() == set()

    xml = alice.call("feeds", api="xml")
    assert xml.tag == "response" and xml.findtext("auth") == "1"
    assert [f.findtext("title") for f in xml.iter("feed")] == ["Top", "Science"]


def test_keys_are_checked_and_users_kept_apart(site: Site) -> None:
    http = site.http
    stories = site.filled.stories
    for key in ("", "0" * 32, "not-hex", hashlib.md5(b"alice:wrong password").hexdigest()):
        r = http.post("/api/fever/?api&items", data={"api_key": key})
        assert r.status_code == 401 and r.json() == {"api_version": 3, "auth": 0}
    assert http.post("/api/fever/?api").status_code == 401
    nofever = FeverClient(http, "nofever", "nofever password")
    assert http.post("/api/fever/?api", data={"api_key": nofever.api_key}).status_code == 401

    alice = FeverClient(http, "alice", "alice password")
    bob = FeverClient(http, "bob", "bob password")
    bob_feed = bob.call("feeds")["feeds"][0]["id"]
    # Alice can name bob's feed but not mark it; her marks never touch bob's state.
    r = http.post(
        "/api/fever/?api",
        data={"api_key": alice.api_key, "mark": "feed", "as": "read", "id": str(bob_feed)},
    )
    assert r.status_code == 400
    alice.mark("item", "saved", stories["paris"])
    assert bob.saved() == set()
    assert bob.unread() == {stories["paris"]}
    assert {f["id"] for f in alice.call("feeds")["feeds"]}.isdisjoint({bob_feed})
    bob.sync()
    assert set(bob.items) == {stories["paris"]} and bob.items[stories["paris"]]["is_saved"] == 0


def test_failed_keys_are_rate_limited(site: Site) -> None:
    for _ in range(10):
        assert site.http.post("/api/fever/?api", data={"api_key": "0" * 32}).status_code == 401
    alice = FeverClient(site.http, "alice", "alice password")
    r = site.http.post("/api/fever/?api", data={"api_key": alice.api_key})
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1


def test_malformed_requests_get_4xx(site: Site) -> None:
    alice = FeverClient(site.http, "alice", "alice password")
    for data, query in (
        ({"mark": "item", "as": "read", "id": "abc"}, "api"),
        ({"mark": "item", "as": "read"}, "api"),
        ({"mark": "item", "as": "burnt", "id": "1"}, "api"),
        ({"mark": "story", "as": "read", "id": "1"}, "api"),
        ({"mark": "group", "as": "read", "id": "99"}, "api"),
        ({}, "api&items&since_id=minus"),
        ({}, "api&items&with_ids=" + ",".join(str(i) for i in range(1, 60))),
        ({"unread_recently_read": "1"}, "api"),
    ):
        r = site.http.post(f"/api/fever/?{query}", data={"api_key": alice.api_key, **data})
        assert r.status_code == 400, (data, query)
    big = site.http.post("/api/fever/?api", content=b"api_key=" + b"a" * (2 * 1024 * 1024))
    assert big.status_code == 413
    assert alice.unread() == {
        site.filled.stories[k] for k in ("quake", "paris", "evil", "merged_into")
    }


def test_a_multipart_post_is_read_too(site: Site) -> None:
    alice = FeverClient(site.http, "alice", "alice password")
    r = site.http.post(
        "/api/fever/?api&saved_item_ids",
        files={
            "api_key": (None, alice.api_key),
            "mark": (None, "item"),
            "as": (None, "saved"),
            "id": (None, str(site.filled.stories["quake"])),
        },
    )
    assert r.status_code == 200 and r.json()["saved_item_ids"] == str(site.filled.stories["quake"])
    upload = site.http.post(
        "/api/fever/?api", files={"api_key": ("key.txt", alice.api_key.encode(), "text/plain")}
    )
    assert upload.status_code == 400  # files are not parameters
