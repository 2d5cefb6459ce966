"""Public pages say nothing internal about feeds: a feed that redirects to an internal
host name (one resolving to a private address, one that does not exist) is checked by
the real crawl stage over loopback, and /api/sources, /status and /outlet/ID show the
same coarse class for both, no address, no redirect target's host; feed URLs lose their
userinfo, query values and key-like segments; the admin endpoint keeps the full detail."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from webfill import ADMIN_TOKEN, make_settings

from breakingon.pipeline.poll import CrawlStage
from breakingon.records import Feed
from breakingon.settings import Settings, parse_networks
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import Store, open_store
from breakingon.web import create_app
from breakingon.web.redact import public_error, public_feed_url, public_run_error, public_worker
from netguard import loopback_only

__all__ = ["loopback_only"]

SECRET_URL = (
    "https://feeds.example/members/9f8e7d6c5b4a39281706f5e4d3c2b1a0/rss"
    "?token=s3cr3tvalue&cat=world#frag"
)
INTERNAL = "intranet.corp.example"


def _now() -> datetime:
    return datetime.now(UTC)


MISSING = "nosuchhost.corp.example"


class _Resolver:
    """No DNS: news.example is the loopback server, INTERNAL is private, the rest NXDOMAIN."""

    def __init__(self) -> None:
        self.table = {"news.example": ["127.0.0.1"], INTERNAL: ["10.20.30.40"]}

    async def resolve(self, host: str, port: int) -> list[str]:
        if host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, f"NXDOMAIN {host}")
        return list(self.table[host])


@pytest.fixture()
def redirector() -> Iterator[int]:
    """A loopback server whose /to-internal and /to-missing redirect to internal names."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            target = {"/to-internal": INTERNAL, "/to-missing": MISSING}.get(self.path)
            if target is None:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(302)
            self.send_header("Location", f"http://{target}/admin/feed.xml")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv.server_address[1]
    finally:
        srv.shutdown()
        srv.server_close()


def _crawl_settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path,
        fetch_allow_networks=parse_networks("allow", "127.0.0.0/8"),
        per_host_delay_s=0.0,
        fetch_timeout_s=2.0,
    )


@pytest.fixture()
def store(tmp_path: Path, redirector: int) -> Iterator[Store]:
    st = open_store(f"sqlite:///{tmp_path / 'redact.sqlite'}")
    for path, outlet in (("/to-internal", "Internal"), ("/to-missing", "Missing")):
        url = f"http://news.example:{redirector}{path}"
        st.add_feed(Feed(url=url, outlet=outlet), feed_url_key(url))
    st.add_feed(Feed(url=SECRET_URL, outlet="Secret"), feed_url_key(SECRET_URL))
    run = st.start_run("crawl", "db-host-7.internal:4242:ab12cd", _now())
    st.finish_run(run, _now(), {}, error="OperationalError: could not connect to 10.9.8.7:5432")

    async def crawl() -> None:
        async with CrawlStage(_crawl_settings(tmp_path), st, "w1", resolver=_Resolver()) as stage:
            for feed in st.list_feeds():
                if feed.outlet != "Secret":
                    await stage.check_feed(feed)

    asyncio.run(crawl())
    try:
        yield st
    finally:
        st.close()


LEAKS = (
    "10.20.30.40",
    "10.9.8.7",
    INTERNAL,
    MISSING,
    "corp.example",
    "NXDOMAIN",
    "private",
    "blocked",
    "10.0.0.0",
    "/admin/feed.xml",
    "s3cr3tvalue",
    "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "db-host-7",
    "address_not_allowed",
    "dns",
)


def test_public_pages_show_no_internal_detail_and_admin_sees_it(store: Store) -> None:
    feeds = {f.outlet: f for f in store.list_feeds()}
    # the real crawl stored the detail: it must exist for the test to mean something
    assert feeds["Internal"].last_error and "10.20.30.40" in feeds["Internal"].last_error
    assert feeds["Missing"].last_error and MISSING in feeds["Missing"].last_error
    app = create_app(make_settings(), store)
    with TestClient(app) as client:
        sources = client.get("/api/sources").json()["sources"]
        by_outlet = {s["outlet"]: s for s in sources}
        # the same class for a refused internal host and a missing one: no DNS oracle
        assert by_outlet["Internal"]["last_error"] == by_outlet["Missing"]["last_error"]
        assert by_outlet["Internal"]["last_error"] == "unreachable"
        secret = by_outlet["Secret"]["url"]
        assert secret.startswith("https://feeds.example/members/") and "rss?" in secret
        pages = {
            "/api/sources": client.get("/api/sources").text,
            "/status": client.get("/status").text,
        }
        for f in feeds.values():
            pages[f"/outlet/{f.source_id}"] = client.get(f"/outlet/{f.source_id}").text
        for path, body in pages.items():
            for leak in LEAKS:
                assert leak not in body, (path, leak)
        assert "unreachable" in pages["/status"] and "OperationalError" in pages["/status"]
        # full detail only behind the admin token, never cached
        assert client.get("/api/admin/sources").status_code == 401
        wrong = client.get("/api/admin/sources", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 403
        r = client.get("/api/admin/sources", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
        full = {s["outlet"]: s for s in r.json()["sources"]}
        assert "10.20.30.40" in full["Internal"]["last_error"]
        assert full["Secret"]["url"] == SECRET_URL
        # the public answer is not swapped for the admin one by the cache
        assert "s3cr3tvalue" not in client.get("/api/sources").text


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://u:p@a.example:8443/f.xml?k=v#x", "https://a.example:8443/f.xml?k=\u2026"),
        ("http://a.example/rss", "http://a.example/rss"),
        ("https://a.example/feed?", "https://a.example/feed"),
        ("https://a.example/x?%3Cscript%3E=1", "https://a.example/x?\u2026"),
        (
            "https://a.example/u/550e8400-e29b-41d4-a716-446655440000/f",
            "https://a.example/u/\u2026/f",
        ),
        ("https://a.example/world-news/feed", "https://a.example/world-news/feed"),
        ("https://[::1]:80/a", "https://[::1]:80/a"),
        ("javascript:alert(1)", ""),
        ("http://a.example:99999/", ""),
    ],
)
def test_public_feed_url(url: str, shown: str) -> None:
    assert public_feed_url(url) == shown


def test_public_error_classes() -> None:
    for stored in (
        "dns: nosuchhost.corp.example: [Errno -2] Name or service not known",
        "address_not_allowed: intranet.corp.example: 10.0.0.5 is private",
        "bad_url: unusable Location 'http://[::1'",
    ):
        assert public_error(stored) == "unreachable"
    assert public_error("http_404: HTTP 404") == "HTTP 404"
    assert public_error("parse_error: ExpatError at line 3 in /srv/x") == "not a feed"
    assert public_error("timeout: read timeout") == "timeout"
    assert public_error("<b>weird</b>") == "error"
    assert public_error(None) is None and public_error("") is None
    assert public_run_error("OperationalError: host=10.0.0.7") == "OperationalError"
    assert public_run_error("bad things happened at 10.0.0.7") == "error"
    assert public_worker("db-host-7:4242:ab12cd") == "4242:ab12cd"
    assert public_worker("worker-2") == "worker-2"
    assert not re.search(r"\d+\.\d+\.\d+\.\d+", public_error("connect: 10.1.1.1 refused") or "")
