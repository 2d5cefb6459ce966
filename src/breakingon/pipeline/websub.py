"""WebSub subscriber (W3C WebSub): push delivery for feeds that offer a hub.

The protocol's pure parts (hub discovery, signatures, lease timing) are in
`feeds.websub`. Here: `verify_intent` decides whether a hub's verification GET is one we
asked for, and `apply_intent` what it does to the stored subscription.

The service, `WebSubSubscriber`, sends subscribe/unsubscribe requests to hubs THROUGH the
project's `Fetcher` (`Fetcher.post_form`: same SSRF policy, resolver, pinned connections
and connect hook as every fetch, so a private or loopback hub that is not allow-listed is
refused before any connection), with one unguessable capability callback URL per
subscription (`<public_base_url>/websub/<token>`). `ingest_push` stores pushed content
exactly like a polled fetch (the same `feeds.ingest.feed_job` in the same kind of worker
pool, then the same page fetch and `tag.facts.article_facts` once the articles are
claimed) without touching the feed's schedule or validators, so polling goes on
whatever the hub does.

This module never reads the environment, never edits a feed's schedule and opens no socket
of its own: all outbound traffic goes through the Fetcher handed to it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from breakingon.crawl.http import Fetcher
from breakingon.extract.article import HardTimeoutPool, shared_pool
from breakingon.feeds.ingest import budgeted_feed_job
from breakingon.feeds.parse import ParseSettings
from breakingon.feeds.websub import HubLinks, discover_hubs, renewal_time
from breakingon.ops.metrics import METRICS
from breakingon.records import Feed, FetchResult
from breakingon.settings import Settings
from breakingon.store.base import CrawlStore, WebSubState, WebSubStore, WebSubSubscription

log = logging.getLogger("breakingon.pipeline.websub")

# Hub subscriptions are rare and the hub answers with an empty 202: a small cap is plenty.
_HUB_RESPONSE_CAP = 64 * 1024
MAX_CHALLENGE = 1024


@dataclass(frozen=True, slots=True)
class IntentVerdict:
    """Answer to a hub's verification GET. `accept` False means 404."""

    accept: bool
    reason: str
    body: str = ""  # the challenge to echo (empty for a denial notice)
    state: WebSubState | None = None  # new state of the subscription, None: remove it
    lease_seconds: int | None = None


def verify_intent(
    sub: WebSubSubscription | None, params: Mapping[str, str], default_lease_s: int
) -> IntentVerdict:
    """Apply the WebSub intent-verification rules to a callback GET.

    - subscribe: accepted only for a subscription we requested (pending, or active and
      being renewed) whose topic equals `hub.topic`, with a non-empty `hub.challenge`;
      the lease is `hub.lease_seconds` (the requested lease when absent or invalid).
    - unsubscribe: accepted only for a subscription we asked to end ('unsubscribing').
    - denied: the hub refused the subscription; acknowledged, the subscription expires.
    Anything else (unknown token, wrong topic, wrong mode) is refused.
    """
    if sub is None:
        return IntentVerdict(False, "unknown subscription")
    mode = params.get("hub.mode", "")
    topic = params.get("hub.topic", "")
    if topic != sub.topic:
        return IntentVerdict(False, f"topic {topic[:200]!r} is not this subscription's")
    if mode == "denied":
        reason = params.get("hub.reason", "")[:300]
        return IntentVerdict(True, f"denied by hub: {reason}", state="expired")
    challenge = params.get("hub.challenge", "")
    if not challenge or len(challenge) > MAX_CHALLENGE:
        return IntentVerdict(False, "missing or oversized hub.challenge")
    if mode == "subscribe":
        if sub.state not in ("pending", "active"):
            return IntentVerdict(False, f"no subscribe request pending ({sub.state})")
        raw = params.get("hub.lease_seconds", "")
        lease = int(raw) if raw.isdigit() and 0 < int(raw) <= 10 * 365 * 86400 else None
        return IntentVerdict(
            True,
            "subscribe verified",
            body=challenge,
            state="active",
            lease_seconds=lease or default_lease_s,
        )
    if mode == "unsubscribe":
        if sub.state != "unsubscribing":
            return IntentVerdict(False, f"no unsubscribe request pending ({sub.state})")
        return IntentVerdict(True, "unsubscribe verified", body=challenge, state=None)
    return IntentVerdict(False, f"mode {mode[:40]!r} does not match")


def apply_intent(
    sub: WebSubSubscription, verdict: IntentVerdict, now: datetime
) -> WebSubSubscription:
    """The subscription after an accepted verification (`verdict.state` must not be None)."""
    assert verdict.accept and verdict.state is not None
    if verdict.state == "active":
        lease = verdict.lease_seconds or 0
        return replace(
            sub,
            state="active",
            lease_until=now + timedelta(seconds=lease),
            renew_at=renewal_time(now, lease),
            last_error=None,
            updated_at=now,
        )
    return replace(
        sub, state=verdict.state, renew_at=None, last_error=verdict.reason, updated_at=now
    )


# --- pushed content -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushOutcome:
    """What one pushed document gave: new article ids, or a typed parse error."""

    new_ids: tuple[int, ...] = ()
    items: int = 0
    error: str | None = None
    detail: str = ""


def push_pool() -> HardTimeoutPool:
    """The worker pool pushed documents are parsed in when the caller has none (a web
    process): the same worker module and job as the crawl stage's pool."""
    return shared_pool("ingest", workers=2, preload=("breakingon.feeds.ingest",))


async def ingest_push(
    store: CrawlStore,
    feed: Feed,
    body: bytes,
    headers: Sequence[tuple[str, str]],
    now: datetime,
    cfg: ParseSettings | None = None,
    pool: HardTimeoutPool | None = None,
) -> PushOutcome:
    """Store a pushed feed document as new articles of `feed`, like a polled fetch would.

    Parsed into articles by `feeds.ingest.feed_job` in a worker of `pool` (the crawl stage's,
    or `push_pool()`) under the parse time budget, exactly as a polled document is; known
    items skipped (`known_item_keys`), new ones stored 'discovered' (their pages are
    fetched and their facts computed like any other) with `save_pushed_articles`, which
    leaves the feed's schedule and validators alone.
    """
    assert feed.id is not None
    parsed = await asyncio.to_thread(
        budgeted_feed_job,
        pool or push_pool(),
        body,
        tuple(headers),
        feed.url,
        now,
        cfg or ParseSettings(),
        feed,
    )
    if parsed.error:
        return PushOutcome(error=parsed.error, detail=parsed.bozo[:300])
    articles = list(parsed.articles)
    if not articles:
        return PushOutcome()
    known = await asyncio.to_thread(
        store.known_item_keys, feed.id, [(a.item_key, a.alias_key, a.title) for a in articles]
    )
    fresh = [a for a in articles if a.item_key not in known]
    ids = await asyncio.to_thread(store.save_pushed_articles, feed.id, fresh, "discovered")
    METRICS.articles_discovered.inc(len(ids))
    return PushOutcome(new_ids=tuple(ids), items=len(articles))


# --- the subscriber service ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WebSubSettings:
    """Subscriber knobs. Defaults are production values; tests shorten them."""

    lease_seconds: int = 10 * 86400  # requested lease; the hub decides
    # A subscribe request the hub accepted but never verified is retried after this.
    verify_wait_s: int = 3600
    retry_s: int = 3600  # after a failed hub request (dead hub, 5xx)
    refused_retry_s: int = 86400  # after a hub refused by the SSRF policy or malformed
    # hub.secret must not travel in clear text (WebSub §5.1): http hubs are skipped
    # unless this is set (tests on loopback set it).
    allow_http_hubs: bool = False


def new_token() -> str:
    """A callback capability: 256 random bits, URL-safe."""
    return secrets.token_urlsafe(32)


def new_secret() -> str:
    """An HMAC secret for hub.secret (64 hex characters, under the spec's 200 bytes)."""
    return secrets.token_hex(32)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class WebSubSubscriber:
    """Subscribes feeds to their hubs, follows hub switches and renews leases.

    Holds no state of its own: subscriptions live in the store, so any worker may renew
    and any web process may answer the callbacks. `fetcher` must be entered (`async with`).
    """

    def __init__(
        self,
        settings: Settings,
        store: WebSubStore,
        fetcher: Fetcher,
        *,
        cfg: WebSubSettings | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.settings = settings
        self.store = store
        self.fetcher = fetcher
        self.cfg = cfg or WebSubSettings()
        self.clock = clock

    def callback_url(self, token: str) -> str:
        """The absolute callback URL of a subscription (from `public_base_url` only)."""
        return f"{self.settings.public_base_url.rstrip('/')}/websub/{token}"

    async def sync_feed(self, feed: Feed, links: HubLinks) -> list[WebSubSubscription]:
        """Bring `feed`'s subscriptions in line with what it advertises now.

        Keeps a subscription whose hub and topic are still advertised; otherwise subscribes
        to the first advertised hub and unsubscribes from the hubs it no longer names (a
        hub switch). A feed that stopped advertising hubs is unsubscribed everywhere.
        Returns the feed's subscriptions afterwards. Never touches the feed's schedule.
        """
        assert feed.id is not None
        subs = await asyncio.to_thread(self.store.websub_subscriptions_for_feed, feed.id)
        live = [s for s in subs if s.state != "unsubscribing"]
        topic = links.self_url or feed.url
        keep = next((s for s in live if s.hub in links.hubs and s.topic == topic), None)
        if keep is None and links.hubs:
            keep = await self.subscribe(feed.id, links.hubs[0], topic)
        for s in live:
            if keep is None or s.id != keep.id:
                await self.unsubscribe(s)
        return await asyncio.to_thread(self.store.websub_subscriptions_for_feed, feed.id)

    async def sync_from_fetch(self, feed: Feed, result: FetchResult) -> list[WebSubSubscription]:
        """`sync_feed` with the hubs a successful (200) poll of the feed advertised.

        A failed or 304 fetch says nothing about hubs: existing subscriptions are kept.
        """
        assert feed.id is not None
        if result.error is not None or result.status != 200:
            return await asyncio.to_thread(self.store.websub_subscriptions_for_feed, feed.id)
        links = await asyncio.to_thread(
            discover_hubs, result.body, result.headers, result.final_url
        )
        return await self.sync_feed(feed, links)

    async def subscribe(self, feed_id: int, hub: str, topic: str) -> WebSubSubscription:
        """Record a pending subscription, then send the subscribe request to `hub`.

        The row exists before the request, so a hub that verifies before it answers finds
        it. A refused or failed request leaves it pending with `last_error` and a retry
        time; the feed keeps being polled either way.
        """
        now = self.clock()
        sub = await asyncio.to_thread(
            self.store.add_websub_subscription,
            feed_id,
            hub,
            topic,
            new_token(),
            new_secret(),
            now,
        )
        return await self._request(sub)

    async def unsubscribe(self, sub: WebSubSubscription) -> WebSubSubscription | None:
        """Ask the hub to end `sub`; forget it at once when the hub never knew it or is
        unreachable (its lease then lapses on its own). Returns the row, or None if gone."""
        never_known = sub.state in ("pending", "expired") and sub.last_error is not None
        if never_known:
            await asyncio.to_thread(self.store.remove_websub_subscription, sub.id)
            return None
        marked: WebSubSubscription | None = None
        current: WebSubSubscription | None = sub
        for _ in range(3):  # the callback may update the row meanwhile: re-read and retry
            assert current is not None
            marked = await self._save(
                current,
                state="unsubscribing",
                renew_at=self.clock() + timedelta(seconds=self.cfg.verify_wait_s),
            )
            if marked is not None:
                break
            current = await asyncio.to_thread(self.store.get_websub_subscription, sub.token)
            if current is None:
                return None
        if marked is None:
            return current
        res = await self._send(marked, "unsubscribe")
        if res.error is not None:
            log.info("unsubscribe from %s failed (%s); forgetting it", sub.hub, res.error)
            await asyncio.to_thread(self.store.remove_websub_subscription, sub.id)
            return None
        return marked

    async def renew_due(self, limit: int = 50) -> list[WebSubSubscription]:
        """Renew every subscription whose renewal time has come (the runner calls this).

        Active leases are renewed before they end (see `renewal_time`); a lease that ran
        out first is marked expired (content is then dropped) and re-requested; pending
        requests the hub never verified are retried; unsubscriptions the hub never
        confirmed are forgotten. Returns the subscriptions after their renewal requests.
        """
        now = self.clock()
        due = await asyncio.to_thread(self.store.websub_subscriptions_due, now, limit)
        out: list[WebSubSubscription] = []
        for sub in due:
            try:
                renewed = await self._renew(sub, now)
            except Exception as exc:  # one bad row never stalls the renewal of the others
                log.exception("renewal of the subscription to %s failed", sub.hub[:200])
                renewed = await self._failed(sub, exc)
            if renewed is not None:
                out.append(renewed)
        return out

    async def _renew(self, sub: WebSubSubscription, now: datetime) -> WebSubSubscription | None:
        if sub.state == "unsubscribing":
            await asyncio.to_thread(self.store.remove_websub_subscription, sub.id)
            return None
        if sub.state == "active" and sub.lease_until is not None and sub.lease_until <= now:
            expired = await self._save(sub, state="expired")
            if expired is None:
                return None
            sub = expired
        return await self._request(sub)

    async def _failed(self, sub: WebSubSubscription, exc: Exception) -> WebSubSubscription | None:
        """Record an unexpected renewal failure on the current row and back it off."""
        try:
            current = await asyncio.to_thread(self.store.get_websub_subscription, sub.token)
            if current is None:
                return None
            error = f"internal: {type(exc).__name__}: {exc}"[:300]
            wait = timedelta(seconds=self.cfg.refused_retry_s)
            return await self._save(current, renew_at=self.clock() + wait, last_error=error)
        except Exception:
            log.exception("could not record the failed renewal of %s", sub.hub[:200])
            return None

    async def _send(self, sub: WebSubSubscription, mode: str) -> FetchResult:
        if not self.cfg.allow_http_hubs and not sub.hub.lower().startswith("https://"):
            return FetchResult(
                url=sub.hub,
                final_url=sub.hub,
                error="insecure_hub",
                detail="hub.secret is only sent to https hubs",
            )
        form = {
            "hub.mode": mode,
            "hub.topic": sub.topic,
            "hub.callback": self.callback_url(sub.token),
        }
        if mode == "subscribe":
            form["hub.lease_seconds"] = str(self.cfg.lease_seconds)
            form["hub.secret"] = sub.secret
        return await self.fetcher.post_form(sub.hub, form, max_response_bytes=_HUB_RESPONSE_CAP)

    async def _request(self, sub: WebSubSubscription) -> WebSubSubscription:
        """Send a (re-)subscribe request for `sub` and record when to try again."""
        lapsed = sub.state == "expired"
        if lapsed:
            # Requested again: pending BEFORE the request, since a hub may verify before
            # it answers; it goes back to expired if the request fails.
            pending = await self._save(sub, state="pending")
            if pending is None:
                current = await asyncio.to_thread(self.store.get_websub_subscription, sub.token)
                return current or sub
            sub = pending
        res = await self._send(sub, "subscribe")
        now = self.clock()
        changes: dict[str, object] = {}
        if res.error is None:
            log.info("subscribe request for %s accepted by %s", sub.topic, sub.hub)
            changes.update(renew_at=now + timedelta(seconds=self.cfg.verify_wait_s))
            changes.update(last_error=None)
        else:
            refused = res.error in ("address_not_allowed", "bad_url", "insecure_hub")
            wait = self.cfg.refused_retry_s if refused else self.cfg.retry_s
            if res.retry_after_s is not None:
                wait = max(wait, int(res.retry_after_s))
            error = f"{res.error}{': ' + res.detail[:200] if res.detail else ''}"
            log.warning("subscribe request to %s failed: %s", sub.hub, error)
            changes.update(renew_at=now + timedelta(seconds=wait), last_error=error)
            if lapsed:
                changes.update(state="expired")
        # The hub may have verified while we waited for its answer: then the row moved on
        # (version bumped) and what the callback wrote stands.
        saved = await self._save(sub, **changes)
        if saved is None:
            current = await asyncio.to_thread(self.store.get_websub_subscription, sub.token)
            return current or sub
        return saved

    async def _save(self, sub: WebSubSubscription, **changes: object) -> WebSubSubscription | None:
        """Save `sub` with `changes`; None when the row changed meanwhile or is gone."""
        updated = replace(sub, updated_at=self.clock(), **changes)  # type: ignore[arg-type]
        return await asyncio.to_thread(self.store.save_websub_subscription, updated)
