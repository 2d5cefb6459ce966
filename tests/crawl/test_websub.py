"""WebSub subscriber (push delivery from a feed's hub) against real loopback servers.

A fake hub (Starlette under uvicorn on 127.0.0.1, port 0) receives subscription requests
sent through the project's Fetcher, performs the intent-verification GET against the real
callback (the site app from `create_app` with `websub_routes`, also under uvicorn) and
pushes signed content. The subscriber's clock is injected so leases can be walked through.
Store contract tests run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from faultserver import LOOPBACK_POLICY, ConnectLog, FakeResolver, small_settings
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from breakingon.crawl.http import Fetcher
from breakingon.crawl.netpolicy import NetPolicy
from breakingon.extract.article import close_shared_pools
from breakingon.feeds.websub import HubLinks, check_signature, discover_hubs, renewal_time, sign
from breakingon.pipeline.websub import WebSubSettings, WebSubSubscriber, verify_intent
from breakingon.pipeline.websub_routes import websub_routes
from breakingon.records import Article, Feed
from breakingon.settings import Settings
from breakingon.store import Store, open_store
from breakingon.store.base import FeedUpdate, WebSubSubscription
from breakingon.web.app import create_app

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LEASE = 600  # the fake hub grants what is asked; the subscriber asks for this in tests
CFG = WebSubSettings(lease_seconds=LEASE, verify_wait_s=120, retry_s=60, allow_http_hubs=True)


# --- helpers -------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Served:
    """An ASGI app under uvicorn in a thread on 127.0.0.1, port 0."""

    def __init__(self, app: Any) -> None:
        config = uvicorn.Config(
            app, host="127.0.0.1", port=0, log_level="warning", access_log=False, lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def wait_for(pred: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def atom(entries: list[tuple[str, str]], hub: str = "", self_url: str = "") -> bytes:
    links = ""
    if hub:
        links += f'<link rel="hub" href="{hub}"/>'
    if self_url:
        links += f'<link rel="self" href="{self_url}"/>'
    body = "".join(
        f"<entry><id>urn:test:{key}</id><title>{title}</title>"
        f'<link href="https://news.example/{key}"/><updated>2025-03-01T10:00:00Z</updated>'
        f"<summary>{title}: a report from the wire about the event.</summary></entry>"
        for key, title in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Test news</title><id>urn:test:feed</id><updated>2025-03-01T10:00:00Z</updated>"
        f"{links}{body}</feed>"
    ).encode()


@dataclass
class FakeHub:
    """A WebSub hub: records requests, verifies intent against the callback, pushes content.

    `advertise` names the hub path the served feed (/feed) links to; `fail` makes the hub
    answer 500 to subscription requests (a broken hub).
    """

    requests: list[dict[str, str]] = field(default_factory=list)
    verifications: list[tuple[str, str, int, str]] = field(default_factory=list)
    advertise: str = "a"
    fail: bool = False
    verify_first: bool = False  # verify before answering the request (synchronous hubs)
    base: str = ""

    def app(self) -> Starlette:
        async def hub(request: Request) -> Response:
            form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
            form["hub.name"] = request.path_params["name"]
            self.requests.append(form)
            if self.fail:
                return PlainTextResponse("hub broken", status_code=500)
            if self.verify_first:
                await self._verify(form)
                return Response(status_code=202)
            return Response(status_code=202, background=BackgroundTask(self._verify, form))

        async def feed(request: Request) -> Response:
            body = atom(
                [("one", "First report")],
                hub=f"{self.base}/hub/{self.advertise}",
                self_url=f"{self.base}/feed",
            )
            return Response(body, media_type="application/atom+xml")

        return Starlette(routes=[Route("/hub/{name}", hub, methods=["POST"]), Route("/feed", feed)])

    async def _verify(self, form: dict[str, str]) -> None:
        params = {
            "hub.mode": form["hub.mode"],
            "hub.topic": form["hub.topic"],
            "hub.challenge": f"challenge-{len(self.verifications)}",
        }
        if form["hub.mode"] == "subscribe":
            params["hub.lease_seconds"] = form.get("hub.lease_seconds", "600")
        async with httpx.AsyncClient(trust_env=False) as client:
            resp = await client.get(form["hub.callback"], params=params)
        self.verifications.append((form["hub.name"], form["hub.mode"], resp.status_code, resp.text))
        if resp.text != params["hub.challenge"]:
            self.verifications.append((form["hub.name"], "challenge-mismatch", 0, resp.text))


@pytest.fixture(scope="module", autouse=True)
def _close_pools() -> Iterator[None]:
    yield
    close_shared_pools()


@dataclass
class Env:
    store: Store
    feed: Feed
    clock: Clock
    hub: FakeHub
    hub_srv: Served
    site: Served

    def subscriber_run(self, fn: Callable[[WebSubSubscriber, Fetcher], Any], **fkw: Any) -> Any:
        """Run `fn(subscriber, fetcher)` (a coroutine function) with a fresh Fetcher."""
        settings = Settings(public_base_url=self.site.url(""))
        policy = fkw.pop("policy", LOOPBACK_POLICY)
        cfg = fkw.pop("cfg", CFG)

        async def go() -> Any:
            async with Fetcher(small_settings(), policy, **fkw) as f:
                sub = WebSubSubscriber(settings, self.store, f, cfg=cfg, clock=self.clock)
                return await fn(sub, f)

        return asyncio.run(go())

    def subs(self) -> list[WebSubSubscription]:
        assert self.feed.id is not None
        return self.store.websub_subscriptions_for_feed(self.feed.id)


SCHEDULE = FeedUpdate(
    checked_at=T0,
    next_check_at=T0 + timedelta(minutes=15),
    interval_s=900,
    error_count=0,
    success=True,
    etag='"v1"',
    last_modified="Sat, 01 Mar 2025 12:00:00 GMT",
)


def schedule_of(feed: Feed | None) -> tuple[Any, ...]:
    assert feed is not None
    return (
        feed.etag,
        feed.last_modified,
        feed.next_check_at,
        feed.last_checked_at,
        feed.interval_s,
        feed.error_count,
        feed.status,
    )


@pytest.fixture
def env(tmp_path: Any) -> Iterator[Env]:
    store = open_store(f"sqlite:///{tmp_path / 'ws.sqlite'}")
    hub = FakeHub()
    with Served(hub.app()) as hub_srv:
        hub.base = hub_srv.url("")
        feed, _ = store.add_feed(Feed(url=hub_srv.url("/feed"), outlet="Test News"), "test-feed")
        assert feed.id is not None
        store.save_feed_check(feed.id, SCHEDULE, [], "discovered")
        clock = Clock(T0)
        app = create_app(Settings(), store, extra_routes=websub_routes(store, cfg=CFG, clock=clock))
        with Served(app) as site:
            yield Env(store, store.get_feed(feed.id) or feed, clock, hub, hub_srv, site)
    store.close()


def subscribe_and_verify(env: Env, hub_name: str = "a") -> Any:
    topic = env.hub_srv.url("/feed")
    assert env.feed.id is not None
    feed_id = env.feed.id

    async def go(s: WebSubSubscriber, f: Fetcher) -> Any:
        return await s.subscribe(feed_id, env.hub_srv.url(f"/hub/{hub_name}"), topic)

    env.subscriber_run(go)
    wait_for(lambda: any(v[0] == hub_name and v[1] == "subscribe" for v in env.hub.verifications))
    (sub,) = [s for s in env.subs() if s.hub.endswith(f"/hub/{hub_name}")]
    return sub


def push(env: Env, token: str, body: bytes, signature: str | None) -> httpx.Response:
    headers = {"Content-Type": "application/atom+xml"}
    if signature is not None:
        headers["X-Hub-Signature"] = signature
    return httpx.post(env.site.url(f"/websub/{token}"), content=body, headers=headers)


def articles_of(store: Store, feed_id: int) -> list[Article]:
    """Every stored article of the feed, whatever its state (pushed ones are 'discovered')."""
    found = [store.get_article(i) for i in range(1, store.stats()["articles"] + 1)]
    return [a for a in found if a is not None and a.feed_id == feed_id]


# --- pure parts ------------------------------------------------------------------------------


def test_discover_hubs_in_atom_rss_json_and_link_headers() -> None:
    base = "https://news.example/feeds/world.xml"
    found = discover_hubs(atom([("x", "X")], hub="/hub", self_url="world.xml"), (), base)
    assert found == HubLinks(("https://news.example/hub",), "https://news.example/feeds/world.xml")

    rss = (
        b'<?xml version="1.0"?><rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
        b'<channel><title>T</title><atom:link rel="hub" href="https://hub.example/"/>'
        b'<atom:link rel="self" href="https://news.example/rss"/>'
        b'<item><title>a</title><atom:link rel="hub" href="https://late.example/"/></item>'
        b"</channel></rss>"
    )
    assert discover_hubs(rss, (), base) == HubLinks(
        ("https://hub.example/",), "https://news.example/rss"
    )
    # Link headers win over the document.
    headers = [("Link", '<https://h2.example/>; rel="hub", <https://news.example/s>; rel=self')]
    assert discover_hubs(rss, headers, base) == HubLinks(
        ("https://h2.example/",), "https://news.example/s"
    )
    quoted = [("link", '<https://q.example/>; title="a, b; c"; rel="hub self"')]
    assert discover_hubs(b"", quoted, base) == HubLinks(
        ("https://q.example/",), "https://q.example/"
    )
    jf = b'{"version": "https://jsonfeed.org/version/1.1", "feed_url": "https://n.example/f.json",'
    jf += b' "hubs": [{"type": "WebSub", "url": "https://hub.example/j"}], "items": []}'
    assert discover_hubs(jf, (), base) == HubLinks(
        ("https://hub.example/j",), "https://n.example/f.json"
    )
    # Broken XML still yields the header links; a hub with a bad scheme is ignored.
    broken = b'<rss><channel><atom:link rel="hub" href="https://b.example/"/><link rel="hub" '
    broken += b'href="javascript:alert(1)"/><item><title>unclosed'
    assert discover_hubs(broken, (), base).hubs == ("https://b.example/",)
    assert discover_hubs(atom([("x", "X")]), (), base) == HubLinks()
    dtd = b'<!DOCTYPE feed [<!ENTITY e "x">]><feed xmlns="http://www.w3.org/2005/Atom">'
    dtd += b'<link rel="hub" href="https://d.example/"/></feed>'
    assert discover_hubs(dtd, (), base).hubs == ("https://d.example/",)  # scanned, not expanded


@pytest.mark.parametrize("algo", ["sha1", "sha256", "sha384", "sha512"])
def test_signature_algorithms(algo: str) -> None:
    body = b"<feed>payload</feed>"
    good = sign("s3cret", body, algo)
    assert check_signature("s3cret", body, good) == "ok"
    assert check_signature("s3cret", body, good.upper().replace(algo.upper(), algo)) == "ok"
    assert check_signature("other", body, good) == "mismatch"
    assert check_signature("s3cret", body + b" ", good) == "mismatch"


def test_signature_missing_malformed_unsupported() -> None:
    assert check_signature("k", b"x", None) == "missing"
    assert check_signature("k", b"x", "  ") == "missing"
    assert check_signature("k", b"x", "sha256") == "malformed"
    assert check_signature("k", b"x", "sha256=zz") == "malformed"
    assert check_signature("k", b"x", "md5=" + "0" * 32) == "unsupported"


def _sub(state: str, topic: str = "https://n.example/f") -> WebSubSubscription:
    return WebSubSubscription(
        id=1,
        feed_id=1,
        hub="https://hub.example/",
        topic=topic,
        token="t" * 43,
        secret="s",
        state=state,  # type: ignore[arg-type]
        created_at=T0,
        updated_at=T0,
    )


def test_verify_intent_rules() -> None:
    ok = {"hub.mode": "subscribe", "hub.topic": "https://n.example/f", "hub.challenge": "c1"}
    v = verify_intent(_sub("pending"), {**ok, "hub.lease_seconds": "3600"}, 999)
    assert (v.accept, v.body, v.state, v.lease_seconds) == (True, "c1", "active", 3600)
    assert verify_intent(_sub("pending"), ok, 999).lease_seconds == 999  # none given
    assert verify_intent(_sub("active"), ok, 999).accept  # a renewal being verified
    assert not verify_intent(None, ok, 999).accept
    assert not verify_intent(_sub("pending"), {**ok, "hub.topic": "https://x/"}, 999).accept
    assert not verify_intent(_sub("pending"), {**ok, "hub.mode": "unsubscribe"}, 999).accept
    assert not verify_intent(_sub("pending"), {**ok, "hub.mode": "bogus"}, 999).accept
    assert not verify_intent(_sub("expired"), ok, 999).accept
    assert not verify_intent(_sub("pending"), {**ok, "hub.challenge": ""}, 999).accept
    unsub = {**ok, "hub.mode": "unsubscribe"}
    v = verify_intent(_sub("unsubscribing"), unsub, 999)
    assert (v.accept, v.body, v.state) == (True, "c1", None)
    assert not verify_intent(_sub("unsubscribing"), ok, 999).accept
    denied = {"hub.mode": "denied", "hub.topic": "https://n.example/f", "hub.reason": "no"}
    v = verify_intent(_sub("pending"), denied, 999)
    assert (v.accept, v.state, v.body) == (True, "expired", "")


@pytest.mark.parametrize("lease", [60, 600, 3600, 86400, 10 * 86400])
def test_renewal_comes_before_the_lease_ends(lease: int) -> None:
    at = renewal_time(T0, lease)
    assert T0 < at < T0 + timedelta(seconds=lease)
    assert (T0 + timedelta(seconds=lease) - at).total_seconds() >= min(300, lease / 2)


# --- store contract (SQLite and PostgreSQL) -----------------------------------------------------


def test_store_websub_rows(store: Store) -> None:
    feed, _ = store.add_feed(Feed(url="https://n.example/f", outlet="N"), "n.example/f")
    assert feed.id is not None
    store.save_feed_check(feed.id, SCHEDULE, [], "discovered")
    before = schedule_of(store.get_feed(feed.id))
    sub = store.add_websub_subscription(feed.id, "https://h/", "https://n.example/f", "k" * 43,
                                        "sec", T0)  # fmt: skip
    assert (sub.state, sub.renew_at, sub.version) == ("pending", T0, 0)
    assert store.get_websub_subscription("k" * 43) == sub
    assert store.get_websub_subscription("nope" * 10) is None
    assert store.websub_subscriptions_due(T0 - timedelta(seconds=1), 10) == []
    assert [s.id for s in store.websub_subscriptions_due(T0, 10)] == [sub.id]
    from dataclasses import replace

    active = replace(
        sub, state="active", lease_until=T0 + timedelta(hours=1),
        renew_at=T0 + timedelta(minutes=50), updated_at=T0 + timedelta(seconds=1),
    )  # fmt: skip
    saved = store.save_websub_subscription(active)
    assert saved is not None and saved.version == 1 and saved.state == "active"
    assert saved.lease_until == T0 + timedelta(hours=1)
    assert store.save_websub_subscription(replace(active, state="expired")) is None  # stale
    assert store.websub_subscriptions_due(T0 + timedelta(minutes=49), 10) == []
    assert len(store.websub_subscriptions_due(T0 + timedelta(minutes=50), 10)) == 1

    art = Article(url="https://n.example/a", title="A", text="t", published=T0, item_key="a")
    assert len(store.save_pushed_articles(feed.id, [art], "discovered")) == 1
    assert store.save_pushed_articles(feed.id, [art], "discovered") == []
    assert schedule_of(store.get_feed(feed.id)) == before  # push leaves the schedule alone

    store.remove_websub_subscription(sub.id)
    assert store.websub_subscriptions_for_feed(feed.id) == []
    store.add_websub_subscription(feed.id, "https://h/", "t", "j" * 43, "s", T0)
    assert store.remove_feed("n.example/f")
    assert store.get_websub_subscription("j" * 43) is None  # cascades with the feed


# --- against loopback servers -------------------------------------------------------------------


def test_subscribe_verify_and_signed_content(env: Env) -> None:
    before = schedule_of(env.store.get_feed(env.feed.id or 0))
    sub = subscribe_and_verify(env)
    assert env.hub.requests[0]["hub.mode"] == "subscribe"
    assert env.hub.requests[0]["hub.callback"] == env.site.url(f"/websub/{sub.token}")
    assert env.hub.requests[0]["hub.secret"] == sub.secret
    assert env.hub.requests[0]["hub.lease_seconds"] == str(LEASE)
    assert env.hub.verifications == [("a", "subscribe", 200, "challenge-0")]
    assert sub.state == "active"
    assert sub.lease_until == T0 + timedelta(seconds=LEASE)
    assert sub.renew_at is not None and sub.renew_at < sub.lease_until
    cb = env.site.url(f"/websub/{sub.token}")

    # Verification GETs: only the matching topic and mode echo the challenge.
    good = {"hub.mode": "subscribe", "hub.topic": sub.topic, "hub.challenge": "xyz",
            "hub.lease_seconds": str(LEASE)}  # fmt: skip
    r = httpx.get(cb, params=good)
    assert (r.status_code, r.text) == (200, "xyz")
    assert r.headers["content-type"].startswith("text/plain")
    assert httpx.get(cb, params={**good, "hub.topic": sub.topic + "x"}).status_code == 404
    assert httpx.get(cb, params={**good, "hub.mode": "unsubscribe"}).status_code == 404
    unknown = env.site.url("/websub/" + "u" * 43)
    assert httpx.get(unknown, params=good).status_code == 404
    assert httpx.get(env.site.url("/websub/short"), params=good).status_code == 404

    # Content: valid signatures (every algorithm) are ingested, others dropped with a 2xx.
    feed_id = env.feed.id or 0
    first = atom([("one", "Quake hits the coast"), ("two", "Rescue teams arrive")])
    assert push(env, sub.token, first, sign(sub.secret, first, "sha256")).status_code == 202
    stored = articles_of(env.store, feed_id)
    assert sorted(a.title for a in stored) == ["Quake hits the coast", "Rescue teams arrive"]
    assert all(a.extraction is None for a in stored)  # discovered: pages fetched later
    assert push(env, sub.token, first, sign(sub.secret, first, "sha1")).status_code == 202
    assert len(articles_of(env.store, feed_id)) == 2  # same items: no duplicates

    unsigned = atom([("three", "Unsigned item")])
    assert push(env, sub.token, unsigned, None).status_code == 202
    forged = atom([("four", "Forged item")])
    assert push(env, sub.token, forged, sign("guessed", forged)).status_code == 202
    assert push(env, sub.token, forged, "sha256=" + "0" * 64).status_code == 202
    assert push(env, sub.token, forged, "md5=" + "0" * 32).status_code == 202
    titles = {a.title for a in articles_of(env.store, feed_id)}
    assert "Unsigned item" not in titles and "Forged item" not in titles
    later = atom([("five", "Aftershock recorded")])
    assert push(env, sub.token, later, sign(sub.secret, later, "sha512")).status_code == 202
    assert "Aftershock recorded" in {a.title for a in articles_of(env.store, feed_id)}
    assert push(env, "g" * 43, later, sign(sub.secret, later)).status_code == 410
    # None of this moved the feed's polling schedule or validators.
    assert schedule_of(env.store.get_feed(feed_id)) == before

    # The hub withdraws the subscription (hub.mode=denied): acknowledged, then expired.
    denied = {"hub.mode": "denied", "hub.topic": sub.topic, "hub.reason": "over quota"}
    assert httpx.get(cb, params=denied).status_code == 200
    gone = env.store.get_websub_subscription(sub.token)
    assert gone is not None and gone.state == "expired" and gone.renew_at is None
    assert "over quota" in (gone.last_error or "")
    final = atom([("seven", "After denial")])
    assert push(env, sub.token, final, sign(sub.secret, final)).status_code == 202
    assert "After denial" not in {a.title for a in articles_of(env.store, feed_id)}


def test_hub_switch_resubscribes_and_unsubscribes_old(env: Env) -> None:
    async def poll_and_sync(s: WebSubSubscriber, f: Fetcher) -> Any:
        res = await f.fetch(env.feed.url)
        assert res.error is None, res
        return await s.sync_from_fetch(env.feed, res)

    env.subscriber_run(poll_and_sync)
    wait_for(lambda: len(env.hub.verifications) == 1)
    (old,) = env.subs()
    assert (old.hub, old.state, old.topic) == (env.hub_srv.url("/hub/a"), "active", env.feed.url)
    env.subscriber_run(poll_and_sync)  # same hub advertised: nothing sent
    assert len(env.hub.requests) == 1

    env.hub.advertise = "b"
    env.subscriber_run(poll_and_sync)
    wait_for(lambda: len(env.hub.verifications) == 3)
    assert [(r["hub.name"], r["hub.mode"]) for r in env.hub.requests] == [
        ("a", "subscribe"),
        ("b", "subscribe"),
        ("a", "unsubscribe"),
    ]
    assert sorted(v[:3] for v in env.hub.verifications) == [
        ("a", "subscribe", 200),
        ("a", "unsubscribe", 200),
        ("b", "subscribe", 200),
    ]
    (new,) = env.subs()
    assert (new.hub, new.state) == (env.hub_srv.url("/hub/b"), "active")
    assert new.token != old.token and new.secret != old.secret
    body = atom([("six", "Old hub push")])
    assert push(env, old.token, body, sign(old.secret, body)).status_code == 410


def test_renewal_before_lease_end_then_expiry_when_hub_breaks(env: Env) -> None:
    sub = subscribe_and_verify(env)
    assert sub.renew_at == renewal_time(T0, LEASE)
    renew = env.subscriber_run(lambda s, f: s.renew_due())
    assert renew == [] and len(env.hub.requests) == 1  # not due yet

    env.clock.now = sub.renew_at  # due: renewed while the lease still runs
    assert env.clock.now < sub.lease_until
    env.subscriber_run(lambda s, f: s.renew_due())
    wait_for(lambda: len(env.hub.verifications) == 2)
    assert [r["hub.callback"] for r in env.hub.requests] == [
        env.site.url(f"/websub/{sub.token}")
    ] * 2
    (renewed,) = env.subs()
    assert renewed.state == "active" and renewed.token == sub.token
    assert renewed.lease_until == env.clock.now + timedelta(seconds=LEASE)

    # The hub breaks; the lease runs out: content is dropped, the subscription expires.
    env.hub.fail = True
    assert renewed.lease_until is not None
    env.clock.now = renewed.lease_until + timedelta(minutes=11)
    body = atom([("stale", "Past the lease")])
    assert push(env, sub.token, body, sign(sub.secret, body)).status_code == 202
    assert "Past the lease" not in {a.title for a in articles_of(env.store, env.feed.id or 0)}
    env.subscriber_run(lambda s, f: s.renew_due())
    (expired,) = env.subs()
    assert expired.state == "expired" and (expired.last_error or "").startswith("http_500")
    assert expired.renew_at == env.clock.now + timedelta(seconds=CFG.retry_s)
    body = atom([("late", "After the lease")])
    assert push(env, sub.token, body, sign(sub.secret, body)).status_code == 202
    assert "After the lease" not in {a.title for a in articles_of(env.store, env.feed.id or 0)}

    env.hub.fail = False  # the hub is back: the retry re-subscribes
    env.clock.now = expired.renew_at
    env.subscriber_run(lambda s, f: s.renew_due())
    wait_for(lambda: len(env.hub.verifications) == 3)
    assert env.subs()[0].state == "active"


def test_private_hub_refused_with_no_connection(env: Env) -> None:
    feed_id = env.feed.id or 0
    resolver = FakeResolver({"hub.internal.example": ["10.0.0.5"]})
    log = ConnectLog()
    sub = env.subscriber_run(
        lambda s, f: s.subscribe(feed_id, "http://hub.internal.example/hub", env.feed.url),
        resolver=resolver,
        connect_hook=log,
    )
    assert sub.state == "pending" and (sub.last_error or "").startswith("address_not_allowed")
    assert resolver.calls == ["hub.internal.example"]
    assert log.attempts == []

    # A loopback hub that is up but not allow-listed is refused before any connection.
    log2 = ConnectLog()
    sub2 = env.subscriber_run(
        lambda s, f: s.subscribe(feed_id, env.hub_srv.url("/hub/a"), env.feed.url),
        policy=NetPolicy(),
        connect_hook=log2,
    )
    assert (sub2.last_error or "").startswith("address_not_allowed")
    assert log2.attempts == [] and env.hub.requests == []
    # An http hub is not sent the secret unless allowed (hub.secret needs https).
    log3 = ConnectLog()
    sub3 = env.subscriber_run(
        lambda s, f: s.subscribe(feed_id, env.hub_srv.url("/hub/a"), env.feed.url),
        cfg=WebSubSettings(),
        connect_hook=log3,
    )
    assert (sub3.last_error or "").startswith("insecure_hub")
    assert log3.attempts == [] and env.hub.requests == []


def test_dead_hub_leaves_polling_alone(env: Env) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/hub"
    feed_id = env.feed.id or 0
    before = schedule_of(env.store.get_feed(feed_id))
    links = HubLinks((dead,), env.feed.url)
    (sub,) = env.subscriber_run(lambda s, f: s.sync_feed(env.feed, links))
    assert sub.state == "pending" and (sub.last_error or "").startswith("connect")
    assert sub.renew_at == T0 + timedelta(seconds=CFG.retry_s)
    assert schedule_of(env.store.get_feed(feed_id)) == before
    due = env.store.claim_due_feeds("w1", T0 + timedelta(minutes=15), 10, 60)
    assert [f.id for f in due] == [feed_id]  # still polled on its own schedule

    # The feed later advertises a live hub: the dead one is dropped, the live one used.
    live = HubLinks((env.hub_srv.url("/hub/a"),), env.feed.url)
    env.subscriber_run(lambda s, f: s.sync_feed(env.feed, live))
    wait_for(lambda: len(env.hub.verifications) == 1)
    (now,) = env.subs()
    assert (now.hub, now.state) == (env.hub_srv.url("/hub/a"), "active")
    assert urlsplit(env.hub.requests[0]["hub.callback"]).path == f"/websub/{now.token}"


def test_hub_that_verifies_before_answering(env: Env) -> None:
    # The verification GET arrives while our subscribe request is still waiting for its
    # answer: the row exists already, and the lease the callback recorded is kept.
    env.hub.verify_first = True
    sub = env.subscriber_run(
        lambda s, f: s.subscribe(env.feed.id or 0, env.hub_srv.url("/hub/a"), env.feed.url)
    )
    assert env.hub.verifications == [("a", "subscribe", 200, "challenge-0")]
    assert sub.state == "active" and sub.last_error is None
    assert sub.renew_at == renewal_time(T0, LEASE)
    assert env.subs() == [sub]
