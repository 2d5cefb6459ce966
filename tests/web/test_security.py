"""Hardening: headers on every route, 413, 422, 429 + Retry-After, client IP, admin auth."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient
from webfill import ADMIN_TOKEN, FakeResolver, Filled, make_settings

from breakingon.settings import load_settings
from breakingon.store import Store
from breakingon.web import create_app
from breakingon.web.security import RateLimiter, admin_denial, safe_next


def _routes(filled: Filled) -> list[tuple[str, str]]:
    sid = filled.stories["quake"]
    return [
        ("GET", "/"),
        ("GET", "/?place=2988507"),
        ("GET", f"/story/{sid}"),
        ("GET", f"/story/{sid}/changes"),
        ("GET", f"/story/{filled.stories['merged_from']}"),  # 301
        ("GET", "/section/world"),
        ("GET", "/place/1850147"),
        ("GET", f"/outlet/{filled.outlets['NHK']}"),
        ("GET", "/search?q=tokyo"),
        ("GET", "/about"),
        ("GET", "/status"),
        ("GET", "/local?place=1"),
        ("GET", "/no/such/page"),  # 404
        ("GET", "/api/stories?limit=x"),  # 422
        ("GET", "/static/site.css"),
        ("GET", "/static/site.js"),
        ("GET", "/static/missing.css"),
        ("GET", "/feed.atom"),
        ("GET", "/feed.rss"),
        ("GET", "/feed.json"),
        ("GET", f"/story/{sid}/feed.atom"),
        ("GET", "/section/world/feed.rss"),
        ("GET", "/place/1850147/feed.json"),
        ("GET", "/search/feed.atom?q=tokyo"),
        ("GET", "/openapi.json"),
        ("GET", "/api/stories"),
        ("GET", f"/api/stories/{sid}"),
        ("GET", "/api/articles"),
        ("GET", "/api/sources"),
        ("GET", "/api/search?q=tokyo"),
        ("GET", "/api/trends"),
        ("POST", "/api/admin/sources"),  # 401
        ("DELETE", "/api/admin/sources/1"),
        ("POST", "/api/admin/sources/1/pause"),
        ("POST", "/api/admin/sources/1/resume"),
        ("POST", "/api/admin/opml"),
        ("POST", "/"),  # 405
        ("HEAD", "/"),
        ("GET", "/media/" + "0" * 64 + ".jpg"),  # 404: no such image
        # The reader-app APIs: 401 without credentials (docs/web.md, "Reader apps").
        ("POST", "/api/greader/accounts/ClientLogin"),
        *(
            (method, "/api/greader/reader/api/0/" + path)
            for method, path in (
                ("GET", "token"),
                ("GET", "user-info"),
                ("GET", "subscription/list"),
                ("POST", "subscription/edit"),
                ("POST", "subscription/quickadd"),
                ("GET", "tag/list"),
                ("GET", "unread-count"),
                ("GET", "stream/contents"),
                ("GET", "stream/contents/reading-list"),
                ("GET", "stream/items/ids"),
                ("POST", "stream/items/contents"),
                ("POST", "edit-tag"),
                ("POST", "mark-all-as-read"),
            )
        ),
        ("GET", "/api/greader/reader/atom/top"),
        ("GET", "/api/greader/unknown"),  # 404
        ("POST", "/api/fever"),
        ("POST", "/api/fever/?api"),
        ("GET", "/api/me"),
        ("GET", "/api/me/follows"),
        ("POST", "/api/me/follows"),
        ("DELETE", "/api/me/follows/1"),
        ("GET", "/api/me/items/1"),
        ("PUT", "/api/me/items/1"),
        # readers: signing in, following, alerts (anonymous: a form, 303 to /signin, 401/403)
        ("GET", "/signin"),
        ("POST", "/signin"),  # 400: not a form
        ("POST", "/signout"),
        ("POST", "/follow"),
        ("POST", "/unfollow"),
        ("GET", "/following"),
        ("GET", "/alerts"),
        ("POST", "/alerts/rules"),
        ("POST", "/alerts/rules/1/remove"),
        ("POST", "/alerts/rules/1/mute"),
        ("POST", "/alerts/mute"),
        ("POST", "/alerts/push"),
        ("POST", "/alerts/push/remove"),
        ("GET", "/sw.js"),
    ]


def _assert_security_headers(headers: dict[str, str], where: str) -> None:
    csp = headers.get("content-security-policy", "")
    assert csp, where
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";")}
    assert "unsafe-inline" not in directives.get("script-src", "'none'"), where
    assert "unsafe-eval" not in csp, where
    assert directives["frame-ancestors"] == "frame-ancestors 'none'", where
    assert "default-src 'none'" in csp or "default-src 'self'" in csp, where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") == "no-referrer", where
    assert headers.get("x-frame-options") == "DENY", where


def test_security_headers_on_every_route(client: TestClient, filled: Filled) -> None:
    seen_statuses = set()
    for method, path in _routes(filled):
        r = client.request(method, path, follow_redirects=False)
        seen_statuses.add(r.status_code)
        assert r.status_code < 500, (method, path, r.status_code)
        _assert_security_headers(dict(r.headers), f"{method} {path} -> {r.status_code}")
    assert {200, 301, 303, 401, 404, 405, 422} <= seen_statuses


def test_every_registered_route_is_covered(client: TestClient, filled: Filled) -> None:
    """New routes must be added to the header test above."""
    covered = {p.split("?")[0] for _, p in _routes(filled)}
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route):
            pattern = route.path
            assert any(_matches(pattern, p) for p in covered), pattern


def _matches(pattern: str, path: str) -> bool:
    import re

    regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(pattern)) + "$"
    return re.match(regex, path) is not None


def test_headers_also_on_server_errors(filled_store: tuple[Store, Filled]) -> None:
    store, _ = filled_store

    async def boom(request: object) -> None:
        raise RuntimeError("boom")

    app = create_app(make_settings(), store, extra_routes=[Route("/boom", boom)])
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/boom")
        assert r.status_code == 500
        _assert_security_headers(dict(r.headers), "500")
        assert "boom" not in r.text


def test_extra_routes_hook_serves_ops_routes(filled_store: tuple[Store, Filled]) -> None:
    from starlette.responses import PlainTextResponse

    store, _ = filled_store

    async def healthz(request: object) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = create_app(make_settings(), store, extra_routes=[Route("/healthz", healthz)])
    with TestClient(app) as c:
        r = c.get("/healthz")
        assert r.text == "ok"
        _assert_security_headers(dict(r.headers), "/healthz")


def test_large_bodies_get_413(client: TestClient) -> None:
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    big = b"x" * (2 * 1024 * 1024)
    r = client.post("/api/admin/sources", content=big, headers=auth)
    assert r.status_code == 413 and r.json()["error"] == "body_too_large"
    _assert_security_headers(dict(r.headers), "413")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        for _ in range(40):
            yield b"y" * 65536

    r = client.post("/api/admin/sources", content=chunks(), headers=auth)
    assert r.status_code == 413
    r = client.post("/api/admin/opml", content=b"x" * (6 * 1024 * 1024), headers=auth)
    assert r.status_code == 413


def test_rate_limit_answers_429_with_retry_after(filled_store: tuple[Store, Filled]) -> None:
    store, _ = filled_store
    app = create_app(make_settings(rate_limit_per_min=5), store, resolver=FakeResolver())
    with TestClient(app) as c:
        codes = [c.get("/api/trends").status_code for _ in range(8)]
        assert codes[:5] == [200] * 5 and codes[5:] == [429] * 3
        r = c.get("/")
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) >= 1
        assert r.json()["error"] == "rate_limited"
        _assert_security_headers(dict(r.headers), "429")


def test_rate_limit_keys_on_the_socket_not_x_forwarded_for(
    filled_store: tuple[Store, Filled],
) -> None:
    store, _ = filled_store
    app = create_app(make_settings(rate_limit_per_min=3), store)
    with TestClient(app, client=("203.0.113.9", 5000)) as c:
        codes = [
            c.get("/about", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in range(5)
        ]
        assert codes.count(429) == 2  # spoofed addresses did not buy extra requests
    trusted = (ipaddress.ip_network("203.0.113.0/24"),)
    app = create_app(make_settings(rate_limit_per_min=3), store, trusted_proxies=trusted)
    with TestClient(app, client=("203.0.113.9", 5000)) as c:
        codes = [
            c.get("/about", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in range(5)
        ]
        assert codes == [200] * 5  # behind a trusted proxy each client has its own bucket


def test_trusted_proxies_come_from_the_setting(filled_store: tuple[Store, Filled]) -> None:
    store, _ = filled_store
    settings = load_settings(
        {
            "BREAKINGON_TRUSTED_PROXIES": "203.0.113.0/24, 2001:db8::/32",
            "BREAKINGON_RATE_LIMIT_PER_MIN": "3",
            "BREAKINGON_PUBLIC_BASE_URL": "https://news.example.org",
        }
    )
    assert len(settings.trusted_proxies) == 2
    app = create_app(settings, store)
    with TestClient(app, client=("203.0.113.9", 5000)) as c:
        codes = [
            c.get("/about", headers={"X-Forwarded-For": f"198.51.100.{i}"}).status_code
            for i in range(5)
        ]
        assert codes == [200] * 5  # each client behind the proxy has its own bucket
        codes = [
            c.get("/about", headers={"X-Forwarded-For": "198.51.100.77"}).status_code
            for _ in range(5)
        ]
        assert codes.count(429) == 2  # one client behind it is still limited
    with TestClient(app, client=("198.51.100.5", 5000)) as c:  # not a proxy: header ignored
        codes = [
            c.get("/about", headers={"X-Forwarded-For": f"192.0.2.{i}"}).status_code
            for i in range(5)
        ]
        assert codes.count(429) == 2


def test_rate_limiter_refills_over_time() -> None:
    now = [0.0]
    rl = RateLimiter(60, clock=lambda: now[0])
    for _ in range(60):
        assert rl.check("a") is None
    wait = rl.check("a")
    assert wait is not None and 0 < wait <= 1.0
    assert rl.check("b") is None  # other clients are unaffected
    now[0] += 1.0
    assert rl.check("a") is None


@pytest.mark.parametrize(
    ("header", "token", "expected"),
    [
        (None, ADMIN_TOKEN, (401, "unauthorized")),
        ("", ADMIN_TOKEN, (401, "unauthorized")),
        ("Bearer", ADMIN_TOKEN, (401, "unauthorized")),
        (f"Token {ADMIN_TOKEN}", ADMIN_TOKEN, (401, "unauthorized")),
        ("Bearer nope", ADMIN_TOKEN, (403, "forbidden")),
        (f"Bearer {ADMIN_TOKEN}x", ADMIN_TOKEN, (403, "forbidden")),
        (f"Bearer {ADMIN_TOKEN}", ADMIN_TOKEN, None),
        (f"bearer {ADMIN_TOKEN}", ADMIN_TOKEN, None),
        (f"Bearer {ADMIN_TOKEN}", "", (403, "admin_disabled")),
    ],
)
def test_admin_denial(header: str | None, token: str, expected: tuple[int, str] | None) -> None:
    assert admin_denial(header, token) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("//evil.example", "/"),
        ("///evil.example", "/"),
        ("/\\evil.example", "/"),
        ("https://evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
        ("", "/"),
        (None, "/"),
        ("/section/world?x=1", "/section/world?x=1"),
    ],
)
def test_safe_next(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_fast_path_answers_carry_the_security_headers(client: TestClient) -> None:
    first = client.get("/about")
    cache = client.app.state.cache  # type: ignore[attr-defined]
    hit = cache.lookup("/about?", "GET", [])
    assert hit is not None and hit[2] == first.content  # now answered before routing
    again = client.get("/about")
    assert again.content == first.content and again.headers["etag"] == first.headers["etag"]
    for r in (again, client.get("/about", headers={"If-None-Match": first.headers["etag"]})):
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert "unsafe-inline" not in r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
    assert client.get("/about", headers={"If-None-Match": first.headers["etag"]}).status_code == 304
