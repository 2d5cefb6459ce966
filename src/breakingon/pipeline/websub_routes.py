"""The WebSub callback route: `/websub/<token>`, passed to `create_app(extra_routes=...)`.

It lives in the pipeline, not in `web/`, because a push is ingestion: the web layer only
reads and renders, and the composition root (`cli/web.py`) mounts this route beside it.

GET is the hub's intent verification: the challenge is echoed (200 text/plain) only for a
subscription we requested whose topic and mode match (`pipeline.websub.verify_intent`), else 404.
POST is content distribution: the body is checked against the subscription's secret
(`feeds.websub.check_signature`); a missing or wrong signature drops it, still answered 2xx as
the spec permits (and indistinguishable from an accepted body, so a forger learns
nothing); a valid one is handed to the ingestion function. An unknown token answers 410,
which tells a hub to forget the subscription.

This module holds no SQL, no parsing and no network client: one store call to find the
subscription, one to save its new state, one ingestion call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from breakingon.extract.article import HardTimeoutPool
from breakingon.feeds.websub import TOKEN_PATTERN, check_signature
from breakingon.pipeline.websub import (
    PushOutcome,
    WebSubSettings,
    apply_intent,
    ingest_push,
    verify_intent,
)
from breakingon.records import Feed
from breakingon.store.base import Store, WebSubSubscription

log = logging.getLogger("breakingon.pipeline.websub")

PushIngest = Callable[[WebSubSubscription, bytes, Sequence[tuple[str, str]]], Awaitable[object]]
"""Stores a verified pushed body for a subscription (default: `store_push`)."""

_ACCEPTING = frozenset({"active", "unsubscribing"})
# Content a little past the lease end is still taken (hub and subscriber clocks differ);
# later than this the lease is over even if `renew_due` has not marked it expired yet.
LEASE_GRACE = timedelta(minutes=10)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def store_push(
    store: Store,
    clock: Callable[[], datetime] = _utcnow,
    pool: HardTimeoutPool | None = None,
) -> PushIngest:
    """The default ingestion: `websub.ingest_push` into the subscription's feed, unless the
    feed is gone or not active (a paused feed takes no pushed items either). `pool`: the
    worker pool to parse in (a crawl stage's), else the shared push pool."""

    async def ingest(
        sub: WebSubSubscription, body: bytes, headers: Sequence[tuple[str, str]]
    ) -> PushOutcome | None:
        feed: Feed | None = await asyncio.to_thread(store.get_feed, sub.feed_id)
        if feed is None or feed.status != "active":
            return None
        out = await ingest_push(store, feed, body, headers, clock(), pool=pool)
        if out.error:
            log.warning("pushed content for %s not stored: %s %s", feed.url, out.error, out.detail)
        return out

    return ingest


def websub_routes(
    store: Store,
    *,
    ingest: PushIngest | None = None,
    cfg: WebSubSettings | None = None,
    clock: Callable[[], datetime] = _utcnow,
) -> list[BaseRoute]:
    """The callback route(s), for `create_app(settings, store, extra_routes=...)`."""
    settings = cfg or WebSubSettings()
    push = ingest or store_push(store, clock)

    async def verify(request: Request, token: str) -> Response:
        params = dict(request.query_params)
        for _ in range(3):  # a concurrent renewal may bump the row: re-read and retry
            sub = await asyncio.to_thread(store.get_websub_subscription, token)
            verdict = verify_intent(sub, params, settings.lease_seconds)
            if not verdict.accept or sub is None:
                log.info("websub verification refused: %s", verdict.reason)
                return PlainTextResponse("not found", status_code=404)
            if verdict.state is None:
                await asyncio.to_thread(store.remove_websub_subscription, sub.id)
            elif (
                await asyncio.to_thread(
                    store.save_websub_subscription, apply_intent(sub, verdict, clock())
                )
                is None
            ):
                continue
            log.info("websub %s for %s: %s", verdict.reason, sub.topic, sub.hub)
            return PlainTextResponse(verdict.body, status_code=200)
        return PlainTextResponse("busy", status_code=503)

    async def content(request: Request, token: str) -> Response:
        sub = await asyncio.to_thread(store.get_websub_subscription, token)
        if sub is None:
            return PlainTextResponse("gone", status_code=410)
        body = await request.body()
        accepted = PlainTextResponse("", status_code=202)
        lapsed = sub.lease_until is not None and clock() > sub.lease_until + LEASE_GRACE
        if sub.state not in _ACCEPTING or lapsed:
            why = "lease over" if lapsed else sub.state
            log.info("websub content for %s dropped: subscription %s", sub.topic, why)
            return accepted
        verdict = check_signature(sub.secret, body, request.headers.get("x-hub-signature"))
        if verdict != "ok":
            log.warning("websub content for %s dropped: signature %s", sub.topic, verdict)
            return accepted
        await push(sub, body, list(request.headers.items()))
        return accepted

    async def callback(request: Request) -> Response:
        token = request.path_params["token"]
        if not TOKEN_PATTERN.match(token):
            return PlainTextResponse("not found", status_code=404)
        if request.method == "GET":
            return await verify(request, token)
        return await content(request, token)

    return [Route("/websub/{token}", callback, methods=["GET", "POST"])]
