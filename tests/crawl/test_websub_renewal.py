"""One bad hub never stalls WebSub renewals (real store on SQLite and PostgreSQL).

A hub URL httpx cannot parse (an IDNA-invalid host such as `xn--zz.example`, which a
resolver may still answer for) made the renewal pass raise on that row, which stayed due
now, so no other subscription was ever renewed. Every row must end the pass recorded:
renewed, or failed with its error and a backoff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest
from faultserver import LOOPBACK_POLICY, FakeResolver, FaultServer, ok, redirect, small_settings

from breakingon.crawl.http import Fetcher
from breakingon.pipeline.websub import WebSubSettings, WebSubSubscriber
from breakingon.records import Feed, FetchResult
from breakingon.settings import Settings
from breakingon.store import Store

pytestmark = pytest.mark.timeout(60)
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
CFG = WebSubSettings(verify_wait_s=120, retry_s=60, refused_retry_s=7200, allow_http_hubs=True)
SETTINGS = Settings(public_base_url="http://127.0.0.1:9")


class _ExplodingFetcher(Fetcher):
    """A real Fetcher, except that a hub whose URL names "boom" raises (an unexpected bug)."""

    async def post_form(
        self, url: str, form: Mapping[str, str], *, max_response_bytes: int = 64 * 1024
    ) -> FetchResult:
        if "boom" in url:
            raise RuntimeError("unexpected failure")
        return await super().post_form(url, form, max_response_bytes=max_response_bytes)


def _renew(store: Store, fetcher_cls: type[Fetcher], resolver: FakeResolver) -> list[str]:
    async def go() -> list[str]:
        async with fetcher_cls(small_settings(), LOOPBACK_POLICY, resolver=resolver) as f:
            sub = WebSubSubscriber(SETTINGS, store, f, cfg=CFG, clock=lambda: T0)
            return [s.hub for s in await sub.renew_due()]

    return asyncio.run(go())


def test_a_bad_hub_is_backed_off_and_the_others_renew(store: Store) -> None:
    with FaultServer() as srv:
        srv.routes["/hub"] = redirect("/elsewhere", 307)
        srv.routes["/js"] = redirect("javascript:alert(1)", 302)
        srv.routes["/ok"] = ok(b"", status=202)
        feed, _ = store.add_feed(Feed(url=srv.url("/feed"), outlet="N"), "n-feed")
        assert feed.id is not None
        bad = [
            f"http://xn--zz.example:{srv.port}/hub",  # resolves, answers a redirect
            "http://\u2603.example:" + f"{srv.port}/hub",
            srv.url("/js"),
        ]
        good = srv.url("/ok")
        for i, hub in enumerate([*bad, good]):
            store.add_websub_subscription(feed.id, hub, srv.url("/feed"), f"{i}" * 43, "s", T0)
        resolver = FakeResolver({"xn--zz.example": ["127.0.0.1"]})

        renewed = _renew(store, Fetcher, resolver)

        assert sorted(renewed) == sorted([*bad, good])
        subs = {s.hub: s for s in store.websub_subscriptions_for_feed(feed.id)}
        assert subs[good].last_error is None
        assert subs[good].renew_at == T0 + timedelta(seconds=CFG.verify_wait_s)
        assert sorted(r.path for r in srv.requests if r.method == "POST") == ["/js", "/ok"]
        for hub in bad:
            assert (subs[hub].last_error or "").startswith("bad_url"), subs[hub]
            assert subs[hub].renew_at == T0 + timedelta(seconds=CFG.refused_retry_s)
        assert store.websub_subscriptions_due(T0, 10) == []  # nothing is left due now


def test_an_unexpected_error_on_one_row_is_recorded_and_the_others_renew(store: Store) -> None:
    with FaultServer() as srv:
        srv.routes["/ok"] = ok(b"", status=202)
        feed, _ = store.add_feed(Feed(url=srv.url("/feed"), outlet="N"), "n-feed")
        assert feed.id is not None
        boom, good = srv.url("/boom"), srv.url("/ok")
        store.add_websub_subscription(feed.id, boom, srv.url("/feed"), "b" * 43, "s", T0)
        store.add_websub_subscription(feed.id, good, srv.url("/feed"), "g" * 43, "s", T0)

        renewed = _renew(store, _ExplodingFetcher, FakeResolver({}))

        assert sorted(renewed) == sorted([boom, good])
        subs = {s.hub: s for s in store.websub_subscriptions_for_feed(feed.id)}
        assert (subs[boom].last_error or "").startswith("internal: RuntimeError")
        assert subs[boom].renew_at == T0 + timedelta(seconds=CFG.refused_retry_s)
        assert subs[good].last_error is None
        assert subs[good].renew_at == T0 + timedelta(seconds=CFG.verify_wait_s)
        assert store.websub_subscriptions_due(T0, 10) == []
