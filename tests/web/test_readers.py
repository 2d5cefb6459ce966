"""Signing in, following and alerts on the site: the session cookie's flags, CSRF on
every form, anonymous pages unchanged and cached while a reader's own pages are never
shared, /following with what is new since the last visit, /alerts, Web Push
subscriptions, and, route by route, that one reader never reads or changes another's
follows, rules or subscriptions; malformed forms get a 4xx."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.testclient import TestClient
from webfill import Filled, fill_store, make_settings

from breakingon.accounts import hash_password
from breakingon.alerts.webpush import b64url, generate_vapid_keys
from breakingon.records import User
from breakingon.store import Store, open_store
from breakingon.web import create_app

PASSWORD = "correct horse battery"
PUSH_KEY = b64url(
    ec.generate_private_key(ec.SECP256R1())
    .public_key()
    .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
)
PUSH_AUTH = b64url(bytes(range(16)))


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Store, Filled, dict[str, User]]]:
    path: Path = tmp_path_factory.mktemp("readers") / "web.sqlite"
    store = open_store(f"sqlite:///{path}")
    filled = fill_store(store)
    users: dict[str, User] = {}
    for name in ("alice", "bob", "carol"):
        u = store.add_user(name, hash_password(PASSWORD), None, filled.now)
        assert u is not None
        users[name] = u
    store.set_user_disabled("carol", True)
    try:
        yield store, filled, users
    finally:
        store.close()


@pytest.fixture(scope="module")
def app(world: tuple[Store, Filled, dict[str, User]]) -> object:
    private, _ = generate_vapid_keys()
    settings = make_settings(vapid_private_key=private, vapid_subject="mailto:ops@news.example.org")
    return create_app(settings, world[0], clock=lambda: world[1].now)


def browser(app: object) -> TestClient:
    return TestClient(app, base_url="https://news.example.org")  # type: ignore[arg-type]


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def signed_in(app: object, name: str) -> tuple[TestClient, str]:
    c = browser(app)
    token = csrf_of(c.get("/signin").text)
    r = c.post(
        "/signin", data={"name": name, "password": PASSWORD, "csrf": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/following", r.text
    return c, csrf_of(c.get("/following").text)


def test_the_session_cookie_is_httponly_lax_and_secure(app: object) -> None:
    c = browser(app)
    token = csrf_of(c.get("/signin").text)
    r = c.post(
        "/signin",
        data={"name": "alice", "password": PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    cookie = r.headers["set-cookie"].lower()
    assert cookie.startswith("bo_session=") and "httponly" in cookie
    assert "samesite=lax" in cookie and "secure" in cookie and "path=/" in cookie


@pytest.mark.parametrize(
    ("name", "password"),
    [("alice", "wrong password!"), ("nobody", PASSWORD), ("carol", PASSWORD), ("", PASSWORD)],
)
def test_a_wrong_name_or_password_or_disabled_reader_is_one_401(
    app: object, name: str, password: str
) -> None:
    c = browser(app)
    token = csrf_of(c.get("/signin").text)
    r = c.post("/signin", data={"name": name, "password": password, "csrf": token})
    assert r.status_code == 401 and "Wrong name or password." in r.text
    assert c.get("/following", follow_redirects=False).status_code == 303


def test_signin_needs_its_csrf_token_and_a_form(app: object) -> None:
    c = browser(app)
    c.get("/signin")
    assert c.post("/signin", data={"name": "alice", "password": PASSWORD}).status_code == 403
    assert (
        c.post(
            "/signin", data={"name": "alice", "password": PASSWORD, "csrf": "forged-token-value"}
        ).status_code
        == 403
    )
    assert (
        c.post(
            "/signin", content=b'{"name": "alice"}', headers={"content-type": "application/json"}
        ).status_code
        == 400
    )
    token = csrf_of(c.get("/signin").text)
    assert c.post("/signin", data={"csrf": token}).status_code == 400  # no name, no password
    many = {f"f{i}": "x" for i in range(50)} | {"csrf": token}
    assert c.post("/signin", data=many).status_code == 400


def test_anonymous_pages_stay_shared_and_cached_while_a_readers_are_private(
    app: object, world: tuple[Store, Filled, dict[str, User]]
) -> None:
    anon = browser(app)
    first = anon.get("/section/world")
    assert first.status_code == 200 and first.headers["cache-control"].startswith("public")
    assert "set-cookie" not in first.headers
    assert 'action="/follow"' not in first.text and "Signed in as" not in first.text
    reader, _ = signed_in(app, "alice")
    mine = reader.get("/section/world")  # the shared cache holds this page now: not for her
    assert (
        mine.headers["cache-control"] == "private, no-store"
        and "cookie" in mine.headers["vary"].lower()
    )
    assert 'action="/follow"' in mine.text and "Signed in as alice" in mine.text
    again = anon.get("/section/world")
    assert again.text == first.text and "alice" not in again.text
    assert again.headers["cache-control"].startswith("public")


def test_every_response_that_sets_the_cookie_is_private(app: object) -> None:
    """A shared cache must never hold (and hand out) a reader's cookie: the responses
    that set it are private, and no other response sets it."""
    visitor = browser(app)
    form = visitor.get("/signin")
    assert "set-cookie" in form.headers and form.headers["cache-control"] == "private, no-store"
    token = csrf_of(form.text)
    signin = visitor.post(
        "/signin",
        data={"name": "alice", "password": PASSWORD, "csrf": token},
        follow_redirects=False,
    )
    assert "set-cookie" in signin.headers and signin.headers["cache-control"] == "private, no-store"
    for path in ("/", "/feed.atom", "/api/stories", "/static/site.css"):
        r = visitor.get(path)
        assert "set-cookie" not in r.headers, path  # the same for everyone: may be shared
    assert visitor.get("/").headers["cache-control"] == "private, no-store"  # her page
    out = visitor.post("/signout", data={"csrf": csrf_of(visitor.get("/following").text)})
    assert out.history and out.history[0].headers["cache-control"] == "private, no-store"


def test_follow_and_unfollow_each_kind_of_page(
    app: object, world: tuple[Store, Filled, dict[str, User]]
) -> None:
    store, filled, users = world
    c, token = signed_in(app, "bob")
    sid = filled.stories["quake"]
    pages = [
        ("section", "world", "/section/world"),
        ("story", str(sid), f"/story/{sid}"),
        ("place", "1850147", "/place/1850147"),
        ("outlet", str(filled.outlets["NHK"]), f"/outlet/{filled.outlets['NHK']}"),
        ("search", "tokyo", "/search?q=tokyo"),
    ]
    for kind, value, url in pages:
        html = c.get(url).text
        assert f'name="kind" value="{kind}"' in html and ">Follow<" in html, url
        r = c.post(
            "/follow", data={"csrf": token, "kind": kind, "value": value}, follow_redirects=False
        )
        assert r.status_code == 303 and r.headers["location"] == url
        assert ">Unfollow<" in c.get(url).text
    got = {(f.kind, f.value): f.title for f in store.list_follows(users["bob"].id)}
    assert got[("section", "world")] == "World" and got[("place", "1850147")] == "Tokyo"
    assert (
        got[("outlet", str(filled.outlets["NHK"]))] == "NHK"
        and got[("search", "tokyo")] == "Search: tokyo"
    )
    r = c.post(
        "/unfollow",
        data={"csrf": token, "kind": "search", "value": "tokyo"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and ("search", "tokyo") not in {
        (f.kind, f.value) for f in store.list_follows(users["bob"].id)
    }


@pytest.mark.parametrize(
    ("data", "status"),
    [
        ({"kind": "section", "value": "gardening"}, 400),
        ({"kind": "weather", "value": ""}, 400),
        ({"kind": "story", "value": "abc"}, 400),
        ({"kind": "story", "value": "999999"}, 400),
        ({"kind": "place", "value": "-4"}, 400),
        ({"value": "world"}, 400),
        ({"kind": "search", "value": "\x00\x01"}, 400),
    ],
)
def test_a_malformed_follow_is_a_4xx_and_changes_nothing(
    app: object, world: tuple[Store, Filled, dict[str, User]], data: dict[str, str], status: int
) -> None:
    store, _, users = world
    c, token = signed_in(app, "alice")
    before = store.list_follows(users["alice"].id)
    assert c.post("/follow", data={"csrf": token, **data}).status_code == status
    assert store.list_follows(users["alice"].id) == before


def test_forms_need_a_signed_in_reader_and_the_csrf_token(app: object) -> None:
    anon = browser(app)
    assert anon.post("/follow", data={"kind": "section", "value": "world"}).status_code == 401
    assert (
        anon.post("/alerts/rules", data={"kind": "breaking", "channel": "webpush"}).status_code
        == 401
    )
    assert anon.get("/alerts", follow_redirects=False).headers["location"] == "/signin?next=/alerts"
    c, _ = signed_in(app, "alice")
    for path, data in [
        ("/follow", {"kind": "section", "value": "world"}),
        ("/unfollow", {"kind": "section", "value": "world"}),
        ("/alerts/rules", {"kind": "breaking", "channel": "webpush"}),
        ("/alerts/mute", {"for": "1h"}),
        ("/signout", {"go": "1"}),
    ]:
        assert c.post(path, data=data).status_code == 403, path
        assert c.post(path, data={**data, "csrf": "not-the-token"}).status_code == 403, path


def test_following_shows_what_is_new_since_the_last_visit(
    app: object, world: tuple[Store, Filled, dict[str, User]]
) -> None:
    store, filled, users = world
    c, token = signed_in(app, "alice")
    c.post("/follow", data={"csrf": token, "kind": "section", "value": "world"})
    follow = next(f for f in store.list_follows(users["alice"].id) if f.kind == "section")
    store.set_follow_seen(
        users["alice"].id, follow.id, filled.now.replace(year=filled.now.year - 1)
    )
    page = c.get("/following")
    assert page.status_code == 200 and page.headers["cache-control"] == "private, no-store"
    assert "World" in page.text and "new stor" in page.text
    seen = next(f for f in store.list_follows(users["alice"].id) if f.id == follow.id)
    assert seen.last_seen_at == filled.now  # this visit is the last one now
    assert "Nothing new" in c.get("/following").text


def test_one_reader_never_reads_or_changes_anothers_data(
    app: object, world: tuple[Store, Filled, dict[str, User]]
) -> None:
    store, _, users = world
    alice, a_token = signed_in(app, "alice")
    bob, b_token = signed_in(app, "bob")
    alice.post("/follow", data={"csrf": a_token, "kind": "section", "value": "sports"})
    a_follow = next(f for f in store.list_follows(users["alice"].id) if f.value == "sports")
    r = alice.post(
        "/alerts/rules",
        data={
            "csrf": a_token,
            "kind": "search",
            "target": "alice-only-query",
            "channel": "webpush",
        },
    )
    assert r.status_code == 200 and "Rule " in r.text
    [a_rule] = [
        x for x in store.list_alert_rules(users["alice"].id) if x.target == "alice-only-query"
    ]
    sub = {
        "endpoint": "https://push.example/alice-browser",
        "keys": {"p256dh": PUSH_KEY, "auth": PUSH_AUTH},
    }
    assert (
        alice.post("/alerts/push", json=sub, headers={"x-csrf-token": a_token}).status_code == 201
    )
    # /unfollow with alice's follow id
    assert (
        bob.post("/unfollow", data={"csrf": b_token, "follow_id": str(a_follow.id)}).status_code
        == 404
    )
    # /alerts/rules/{id}/remove and /mute on alice's rule
    assert bob.post(f"/alerts/rules/{a_rule.id}/remove", data={"csrf": b_token}).status_code == 404
    assert (
        bob.post(f"/alerts/rules/{a_rule.id}/mute", data={"csrf": b_token, "for": "1w"}).status_code
        == 404
    )
    # /alerts/push/remove of alice's browser
    r = bob.post(
        "/alerts/push/remove", json={"endpoint": sub["endpoint"]}, headers={"x-csrf-token": b_token}
    )
    assert r.status_code == 200 and r.json() == {"ok": False}
    # alice's CSRF token is no good in bob's session
    assert (
        bob.post("/follow", data={"csrf": a_token, "kind": "section", "value": "world"}).status_code
        == 403
    )
    # bob's pages show none of alice's data
    assert "alice-only-query" not in bob.get("/alerts").text
    assert ">Follow<" in bob.get("/section/sports").text  # bob does not follow sports
    assert "Sports" not in bob.get("/following").text.split("<main")[1]
    # and all of alice's data is as she left it
    assert any(f.id == a_follow.id for f in store.list_follows(users["alice"].id))
    kept = next(x for x in store.list_alert_rules(users["alice"].id) if x.id == a_rule.id)
    assert kept.muted_until is None
    assert [s.endpoint for s in store.list_push_subscriptions(users["alice"].id)] == [
        sub["endpoint"]
    ]
    assert store.user_alerts_muted_until(users["alice"].id) is None
    bob.post("/alerts/mute", data={"csrf": b_token, "for": "1d"})
    assert store.user_alerts_muted_until(users["alice"].id) is None
    assert store.user_alerts_muted_until(users["bob"].id) is not None


def test_alert_rules_on_the_site(app: object, world: tuple[Store, Filled, dict[str, User]]) -> None:
    store, _, users = world
    c, token = signed_in(app, "bob")
    page = c.get("/alerts")
    assert (
        page.status_code == 200
        and 'data-vapid-key="' in page.text
        and "/static/alerts.js" in page.text
    )
    bad = c.post(
        "/alerts/rules",
        data={
            "csrf": token,
            "kind": "breaking",
            "channel": "webhook",
            "url": "http://169.254.169.254/latest",
        },
    )
    assert bad.status_code == 400 and "169.254.169.254" in bad.text
    assert (
        c.post(
            "/alerts/rules",
            data={"csrf": token, "kind": "breaking", "channel": "email", "to": "not-an-address"},
        ).status_code
        == 400
    )
    assert c.post("/alerts/rules", data={"csrf": token, "kind": "breaking"}).status_code == 400
    ok = c.post(
        "/alerts/rules",
        data={
            "csrf": token,
            "kind": "breaking",
            "channel": "webhook",
            "url": "https://hooks.example/bob",
        },
    )
    assert ok.status_code == 200 and "signing secret" in ok.text
    rule = next(r for r in store.list_alert_rules(users["bob"].id) if r.channel == "webhook")
    assert rule.config["secret"] in ok.text and rule.config["secret"] not in c.get("/alerts").text
    assert (
        c.post(
            f"/alerts/rules/{rule.id}/mute",
            data={"csrf": token, "for": "8h"},
            follow_redirects=False,
        ).status_code
        == 303
    )
    assert (
        next(r for r in store.list_alert_rules(users["bob"].id) if r.id == rule.id).muted_until
        is not None
    )
    assert (
        c.post(f"/alerts/rules/{rule.id}/mute", data={"csrf": token, "for": "forever"}).status_code
        == 400
    )
    assert (
        c.post(
            f"/alerts/rules/{rule.id}/remove", data={"csrf": token}, follow_redirects=False
        ).status_code
        == 303
    )
    assert all(r.id != rule.id for r in store.list_alert_rules(users["bob"].id))


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"not json", 400),
        (b'{"endpoint": 5}', 400),
        (b'{"endpoint": "https://push.example/x"}', 400),
        (
            b'{"endpoint": "https://push.example/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}',
            400,
        ),
        (
            json.dumps(
                {"endpoint": "http://10.0.0.1/x", "keys": {"p256dh": PUSH_KEY, "auth": PUSH_AUTH}}
            ).encode(),
            400,
        ),
        (b"x" * 9000, 413),
    ],
)
def test_a_bad_push_subscription_is_a_4xx(app: object, body: bytes, status: int) -> None:
    c, token = signed_in(app, "bob")
    r = c.post(
        "/alerts/push",
        content=body,
        headers={"x-csrf-token": token, "content-type": "application/json"},
    )
    assert r.status_code == status


def test_the_service_worker_and_signing_out(app: object) -> None:
    c, token = signed_in(app, "alice")
    sw = c.get("/sw.js")
    assert sw.status_code == 200 and sw.headers["content-type"].startswith("text/javascript")
    assert "showNotification" in sw.text
    r = c.post("/signout", data={"csrf": token}, follow_redirects=False)
    assert r.status_code == 303 and "bo_session=null" in r.headers["set-cookie"]
    assert c.get("/following", follow_redirects=False).status_code == 303


def test_a_new_password_ends_the_session(
    app: object, world: tuple[Store, Filled, dict[str, User]]
) -> None:
    store, _, _ = world
    c, _ = signed_in(app, "bob")
    assert c.get("/following").status_code == 200
    store.set_user_password("bob", hash_password("a brand new password"), None)
    try:
        assert c.get("/following", follow_redirects=False).status_code == 303
    finally:
        store.set_user_password("bob", hash_password(PASSWORD), None)
