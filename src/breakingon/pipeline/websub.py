"""WebSub subscriber (W3C WebSub, RELIABILITY B6): push delivery for feeds that offer a hub.

Pure parts (no I/O): `discover_hubs` finds a feed's hubs and self URL in HTTP `Link`
headers (they win, as the spec says) or in the document (Atom/RSS `<link rel="hub">`,
JSON Feed `hubs`); `check_signature` verifies `X-Hub-Signature` (sha1, sha256, sha384,
sha512 HMAC of the raw body with the subscription's secret, compared in constant time);
`verify_intent` decides whether a hub's verification GET is one we asked for;
`renewal_time` says when to renew before a lease ends.

The service, `WebSubSubscriber`, sends subscribe/unsubscribe requests to hubs THROUGH the
project's `Fetcher` (`post_form`: same SSRF policy, resolver, pinned connections and
connect hook as every fetch, so a private or loopback hub that is not allow-listed is
refused before any connection), with one unguessable capability callback URL per
subscription (`<public_base_url>/websub/<token>`). `ingest_push` stores pushed content
exactly like a polled fetch (parse_feed_budgeted, item_to_article) without touching the
feed's schedule or validators, so polling goes on whatever the hub does.

This module never reads the environment, never edits a feed's schedule and opens no socket
of its own: all outbound traffic goes through the Fetcher handed to it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import logging
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Literal
from urllib.parse import urlencode, urljoin

import defusedxml.ElementTree as SafeET
import httpx

from breakingon.crawl.http import Fetcher, parse_retry_after
from breakingon.crawl.netpolicy import BlockedAddress, DnsError, check_url, parse_ip_literal
from breakingon.feeds.parse import ParseSettings, parse_feed_budgeted
from breakingon.ops.metrics import METRICS
from breakingon.pipeline.pagework import item_to_article
from breakingon.records import Feed, FetchResult
from breakingon.settings import Settings
from breakingon.store.base import Store, WebSubState, WebSubSubscription

log = logging.getLogger("breakingon.pipeline.websub")

# Hub subscriptions are rare and the hub answers with an empty 202: a small cap is plenty.
_HUB_RESPONSE_CAP = 64 * 1024
# A feed advertising more hubs than this is not going to get them all tried.
MAX_HUBS = 8
# Only the head of a document is searched: hub links sit in the feed's header.
_DISCOVERY_HEAD = 256 * 1024
MAX_CHALLENGE = 1024
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,128}$")
SIGNATURE_ALGORITHMS: Mapping[str, Callable[[], hashlib._Hash]] = {
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
    "sha384": hashlib.sha384,
    "sha512": hashlib.sha512,
}
SignatureVerdict = Literal["ok", "missing", "malformed", "unsupported", "mismatch"]
_ATOM_NS = "{http://www.w3.org/2005/Atom}"
_ITEM_TAGS = frozenset({"item", "entry"})
_LINK_TAG = re.compile(rb"<(?:[A-Za-z0-9_]+:)?link\b([^>]{0,2000})>", re.IGNORECASE)
_ATTR = re.compile(rb"""([A-Za-z_:][-A-Za-z0-9_:.]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


# --- discovery -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HubLinks:
    """What a feed advertises: its hubs (absolute http(s) URLs) and its self URL."""

    hubs: tuple[str, ...] = ()
    self_url: str = ""


def parse_link_header(values: Sequence[str]) -> list[tuple[str, frozenset[str]]]:
    """(target, rels) of each link in RFC 8288 `Link` header values; rels lower-cased."""
    out: list[tuple[str, frozenset[str]]] = []
    for value in values:
        for m in re.finditer(
            r"<([^>]*)>((?:\s*;\s*[^,;<=]+(?:=\s*(?:\"[^\"]*\"|[^,;]*))?)*)", value
        ):
            rels: set[str] = set()
            for p in re.finditer(r";\s*([A-Za-z*]+)\s*=\s*(\"[^\"]*\"|[^,;\s]*)", m.group(2)):
                if p.group(1).lower() == "rel":
                    rels.update(p.group(2).strip('"').lower().split())
            out.append((m.group(1).strip(), frozenset(rels)))
    return out


def _absolute(href: str, base: str) -> str:
    url = urljoin(base, href.strip())
    return url if check_url(url) is None else ""


def _links_from_xml(head: bytes) -> list[tuple[str, frozenset[str]]]:
    """rel/href of <link> elements before the first item/entry (DTDs refused)."""
    found: list[tuple[str, frozenset[str]]] = []
    try:
        for event, el in SafeET.iterparse(io.BytesIO(head), events=("start",), forbid_dtd=True):
            assert event == "start"
            tag = el.tag if isinstance(el.tag, str) else ""
            local = tag.rsplit("}", 1)[-1]
            if local in _ITEM_TAGS:
                break
            if local == "link" and (tag.startswith(_ATOM_NS) or "href" in el.attrib):
                href = el.attrib.get("href", "")
                if href:
                    found.append((href, frozenset(el.attrib.get("rel", "").lower().split())))
    except Exception:  # broken or hostile XML: fall back to a plain scan of the head
        if found:
            return found
        return _links_from_scan(head)
    return found


def _links_from_scan(head: bytes) -> list[tuple[str, frozenset[str]]]:
    out: list[tuple[str, frozenset[str]]] = []
    cut = min((i for i in (head.find(b"<item"), head.find(b"<entry")) if i >= 0), default=-1)
    for m in _LINK_TAG.finditer(head if cut < 0 else head[:cut]):
        attrs = {
            k.decode("ascii", "replace").lower(): (v1 or v2).decode("utf-8", "replace")
            for k, v1, v2 in _ATTR.findall(m.group(1))
        }
        if attrs.get("href"):
            out.append((attrs["href"], frozenset(attrs.get("rel", "").lower().split())))
    return out


def _links_from_json(text: str) -> HubLinks | None:
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, dict):
        return None
    hubs: list[str] = []
    raw = doc.get("hubs")
    if isinstance(raw, list):
        for h in raw:
            if isinstance(h, dict) and isinstance(h.get("url"), str):
                kind = str(h.get("type", "")).lower()
                if kind in ("websub", "pubsubhubbub", ""):
                    hubs.append(h["url"])
    feed_url = doc.get("feed_url")
    return HubLinks(tuple(hubs), feed_url if isinstance(feed_url, str) else "")


def discover_hubs(body: bytes, headers: Sequence[tuple[str, str]], url: str) -> HubLinks:
    """The hubs and self URL a fetched feed advertises; empty when it offers no hub.

    HTTP `Link` headers win over the document (W3C WebSub §4). Relative URLs are resolved
    against `url` (the final URL of the fetch); only well-formed http(s) URLs are kept,
    at most `MAX_HUBS`, in the order given. Never raises.
    """
    header_links = parse_link_header([v for k, v in headers if k.lower() == "link"])
    links = header_links if any("hub" in rels for _, rels in header_links) else []
    self_url = ""
    if not links:
        head = body[:_DISCOVERY_HEAD]
        stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if stripped[:1] in (b"{", b"["):
            parsed = _links_from_json(body.decode("utf-8", "replace"))
            links = [(h, frozenset({"hub"})) for h in parsed.hubs] if parsed else []
            self_url = parsed.self_url if parsed else ""
        else:
            links = _links_from_xml(head)
        self_url = next((h for h, rels in header_links if "self" in rels), "") or self_url
    hubs: list[str] = []
    for href, rels in links:
        if "self" in rels and not self_url:
            self_url = href
        if "hub" in rels:
            absolute = _absolute(href, url)
            if absolute and absolute not in hubs:
                hubs.append(absolute)
    return HubLinks(tuple(hubs[:MAX_HUBS]), _absolute(self_url, url) if self_url else "")


# --- signatures, intent, leases ----------------------------------------------------------


def sign(secret: str, body: bytes, algorithm: str = "sha256") -> str:
    """The `X-Hub-Signature` value a hub sends for `body` (tests and fakes use it)."""
    digest = hmac.new(secret.encode(), body, SIGNATURE_ALGORITHMS[algorithm]).hexdigest()
    return f"{algorithm}={digest}"


def check_signature(secret: str, body: bytes, header: str | None) -> SignatureVerdict:
    """Check an `X-Hub-Signature` header ("<method>=<hex>") against the raw body.

    "ok" only for a supported method whose HMAC matches (constant-time comparison);
    any other verdict means the content must be dropped (the spec still wants a 2xx).
    """
    if header is None or not header.strip():
        return "missing"
    method, sep, given = header.strip().partition("=")
    if not sep or not given:
        return "malformed"
    algo = SIGNATURE_ALGORITHMS.get(method.strip().lower())
    if algo is None:
        return "unsupported"
    given = given.strip().lower()
    if not re.fullmatch(r"[0-9a-f]+", given):
        return "malformed"
    expected = hmac.new(secret.encode(), body, algo).hexdigest()
    return "ok" if hmac.compare_digest(expected, given) else "mismatch"


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


def renewal_time(verified_at: datetime, lease_seconds: int) -> datetime:
    """When to renew a lease granted at `verified_at`: always before it ends.

    The margin is a tenth of the lease, at least 5 minutes, at most half the lease (so a
    10-day lease renews a day early and a 10-minute lease 5 minutes early).
    """
    margin = min(max(lease_seconds * 0.1, 300.0), lease_seconds * 0.5)
    return verified_at + timedelta(seconds=lease_seconds - margin)


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


# --- the hub request, through the Fetcher ------------------------------------------------


async def post_form(fetcher: Fetcher, url: str, form: Mapping[str, str]) -> FetchResult:
    """POST a form to `url` under the Fetcher's SSRF policy; never raises for network trouble.

    The Fetcher only GETs; this reuses its policy, resolver, pinned connection pool and
    connect hook (so the same checks and the same test hooks apply) and its deadline. No
    redirects are followed (a hub that redirects a subscription is refused). A 2xx is a
    success; anything else is a typed error as in `Fetcher.fetch`.
    """
    reason = check_url(url)
    if reason is not None:
        return FetchResult(url=url, final_url=url, error="bad_url", detail=reason)
    target = httpx.URL(url)
    host = target.raw_host.decode("ascii").lower()
    port = target.port or (443 if target.scheme == "https" else 80)
    literal = parse_ip_literal(host)
    why = None if literal is None else fetcher.policy.is_allowed_ip(literal)
    if why is not None:
        log.warning("refused hub %s: address_not_allowed (%s)", url, why)
        return FetchResult(url=url, final_url=url, error="address_not_allowed", detail=why)
    wait = fetcher.host_wait_s(url)
    if wait > 0:
        return FetchResult(url=url, final_url=url, error="rate_limited", retry_after_s=wait)
    client = fetcher._client
    assert client is not None, "use `async with Fetcher(...)`"
    s = fetcher.settings
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        async with asyncio.timeout(s.total_deadline):
            ips = await fetcher.policy.resolve_and_check(host, port, fetcher._resolver)
            fetcher._pins[(host, port)] = ips[0]
            async with client.stream(
                "POST",
                target,
                content=urlencode(form).encode(),
                headers={
                    "User-Agent": s.user_agent,
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "*/*",
                },
            ) as resp:
                body = bytearray()
                async for chunk in resp.aiter_raw():
                    body.extend(chunk[: _HUB_RESPONSE_CAP - len(body)])
                    if len(body) >= _HUB_RESPONSE_CAP:
                        break
    except BlockedAddress as exc:
        log.warning("refused hub %s: address_not_allowed (%s)", url, exc.reason)
        return FetchResult(url=url, final_url=url, error="address_not_allowed", detail=exc.reason)
    except DnsError as exc:
        return FetchResult(url=url, final_url=url, error="dns", detail=str(exc))
    except TimeoutError:
        return FetchResult(
            url=url, final_url=url, error="deadline_exceeded", detail="hub request deadline"
        )
    except httpx.TimeoutException as exc:
        return FetchResult(url=url, final_url=url, error="timeout", detail=str(exc))
    except (httpx.ConnectError, OSError) as exc:
        return FetchResult(url=url, final_url=url, error="connect", detail=str(exc)[:300])
    except httpx.HTTPError as exc:
        return FetchResult(url=url, final_url=url, error="protocol", detail=str(exc)[:300])
    headers = tuple((k, v) for k, v in resp.headers.multi_items())
    status = resp.status_code
    elapsed = loop.time() - started
    error: str | None = None
    retry_after: float | None = None
    if status in (429, 503):
        retry_after = parse_retry_after(
            resp.headers.get("retry-after"), datetime.now(UTC), s.retry_after_cap_s
        )
        error = "rate_limited" if status == 429 or retry_after is not None else "http_503"
    elif not 200 <= status < 300:
        error = f"http_{status}"
    return FetchResult(
        url=url,
        final_url=url,
        status=status,
        body=bytes(body),
        headers=headers,
        retry_after_s=retry_after,
        error=error,
        detail=bytes(body[:300]).decode("utf-8", "replace") if error else "",
        elapsed_s=elapsed,
    )


# --- pushed content -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushOutcome:
    """What one pushed document gave: new article ids, or a typed parse error."""

    new_ids: tuple[int, ...] = ()
    items: int = 0
    error: str | None = None
    detail: str = ""


async def ingest_push(
    store: Store,
    feed: Feed,
    body: bytes,
    headers: Sequence[tuple[str, str]],
    now: datetime,
    cfg: ParseSettings | None = None,
) -> PushOutcome:
    """Store a pushed feed document as new articles of `feed`, like a polled fetch would.

    Parsed with `parse_feed_budgeted` (worker process, time budget), items turned into
    articles with `item_to_article`, known items skipped (`known_item_keys`), new ones
    stored 'discovered' (their pages are fetched and extracted like any other) with
    `save_pushed_articles`, which leaves the feed's schedule and validators alone.
    """
    assert feed.id is not None
    parsed = await asyncio.to_thread(
        parse_feed_budgeted, body, tuple(headers), feed.url, now, cfg or ParseSettings()
    )
    if parsed.error:
        return PushOutcome(error=parsed.error, detail=parsed.bozo[:300])
    articles = [item_to_article(item, feed, now) for item in parsed.items]
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
        store: Store,
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
            if sub.state == "unsubscribing":
                await asyncio.to_thread(self.store.remove_websub_subscription, sub.id)
                continue
            if sub.state == "active" and sub.lease_until is not None and sub.lease_until <= now:
                expired = await self._save(sub, state="expired")
                if expired is None:
                    continue
                sub = expired
            out.append(await self._request(sub))
        return out

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
        return await post_form(self.fetcher, sub.hub, form)

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
