"""Sending alerts: one rule's messages through its channel, and what the outcome means.

`AlertSender.send(rule, messages, now)` builds the channel's request with the pure
`breakingon.alerts` modules and sends it: webhooks, ntfy and Web Push as a POST through
the crawler's `Fetcher` (the SSRF policy: a URL whose host is, or resolves to, a
private, loopback, link-local or metadata address is refused before any connection,
unless BREAKINGON_FETCH_ALLOW_NETWORKS allows that range; no redirect is followed),
email as one digest through `crawl.smtp` (in a thread). It returns an `Outcome`:

- `sent`: the endpoint accepted it (a 2xx; for Web Push, at least one of the reader's
  browsers' push services did; a subscription whose service answers 404 or 410 is
  forgotten);
- `retry`: it was not delivered and may be tried again (a connection refused, DNS, a
  5xx, 408, 429 with its Retry-After);
- `failed`: it never will be (refused by the SSRF policy, a bad URL, a 4xx, a channel
  the operator has not configured);
- `unknown`: the request may have arrived (a timeout or a connection broken after the
  request was sent). Webhooks treat it as `retry` (the receiver drops a repeat by its
  idempotency key); email, ntfy and Web Push never repeat it (at most once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from typing import Literal, Protocol
from urllib.parse import urlsplit

from breakingon.alerts.digest import digest_email
from breakingon.alerts.model import AlertMessage, AlertRule, Outbound, PushSubscription
from breakingon.alerts.ntfy import ntfy_request
from breakingon.alerts.webhook import webhook_request
from breakingon.alerts.webpush import push_request
from breakingon.crawl.http import Fetcher
from breakingon.crawl.netpolicy import parse_ip_literal
from breakingon.crawl.smtp import SmtpError
from breakingon.records import FetchResult
from breakingon.settings import Settings

log = logging.getLogger("breakingon.alerts")

State = Literal["sent", "retry", "failed", "unknown"]
# Fetch errors after which the request certainly never reached the endpoint.
NOT_SENT = frozenset({"dns", "connect", "tls", "rate_limited"})
PERMANENT = frozenset({"address_not_allowed", "bad_url", "too_many_redirects", "gone"})
RETRY_STATUSES = frozenset({408, 425, 429})


@dataclass(frozen=True, slots=True)
class Outcome:
    state: State
    error: str | None = None
    retry_after_s: float | None = None


class Mailer(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class PushStore(Protocol):
    def list_push_subscriptions(self, user_id: int) -> list[PushSubscription]: ...
    def drop_push_subscription(self, subscription_id: int) -> None: ...


def sender_address(settings: Settings) -> str:
    """BREAKINGON_SMTP_FROM, or alerts@ the public base URL's host name."""
    if settings.smtp_from:
        return settings.smtp_from
    host = urlsplit(settings.public_base_url).hostname or ""
    if not host or "." not in host or parse_ip_literal(host) is not None:
        host = "localhost"
    return f"alerts@{host}"


def outcome_of(res: FetchResult) -> Outcome:
    """What a POST's FetchResult means for the delivery (see the module doc)."""
    if res.error is None:
        return Outcome("sent")
    err = f"{res.error}: {res.detail}" if res.detail else res.error
    if res.error in PERMANENT:
        return Outcome("failed", err)
    if res.error in NOT_SENT:
        return Outcome("retry", err, res.retry_after_s)
    if res.error.startswith("http_"):
        status = res.status or 0
        if not status and res.error[5:].isdigit():
            status = int(res.error[5:])
        if 500 <= status < 600 or status in RETRY_STATUSES:
            return Outcome("retry", err, res.retry_after_s)
        return Outcome("failed", err)
    return Outcome("unknown", err)


class AlertSender:
    """Sends through one rule's channel (see the module doc)."""

    def __init__(
        self,
        settings: Settings,
        fetcher: Fetcher,
        store: PushStore,
        mailer: Mailer | None,
        mail_problem: str | None = None,
    ) -> None:
        self.settings = settings
        self.fetcher = fetcher
        self.store = store
        self.mailer = mailer
        self.mail_problem = mail_problem or "BREAKINGON_SMTP_URL is not set"

    async def post(self, req: Outbound) -> Outcome:
        res = await self.fetcher.post(req.url, req.body, req.content_type, headers=req.headers)
        out = outcome_of(res)
        if out.state != "sent":
            log.info("alert POST to %s: %s", urlsplit(req.url).hostname, out.error)
        return out

    async def send(
        self, rule: AlertRule, messages: Sequence[AlertMessage], now: datetime
    ) -> Outcome:
        """Send `messages` (one, or a digest's worth for email) through `rule`'s channel."""
        try:
            if rule.channel == "email":
                return await self._email(rule, messages, now)
            [msg] = messages
            if rule.channel == "webhook":
                return await self.post(webhook_request(msg, rule, now))
            if rule.channel == "ntfy":
                return await self.post(ntfy_request(msg, rule))
            if rule.channel == "webpush":
                return await self._webpush(rule, msg, now)
        except ValueError as exc:  # a rule or subscription the channel cannot use
            return Outcome("failed", str(exc))
        return Outcome("failed", f"unknown channel {rule.channel!r}")

    async def _email(
        self, rule: AlertRule, messages: Sequence[AlertMessage], now: datetime
    ) -> Outcome:
        if self.mailer is None:
            return Outcome("failed", self.mail_problem)
        mailer = self.mailer
        email = digest_email(
            messages,
            to=rule.config.get("to", ""),
            sender=sender_address(self.settings),
            site_name=self.settings.site_name,
            period=rule.digest or "daily",
            base_url=self.settings.public_base_url,
            now=now,
        )
        try:
            await asyncio.to_thread(mailer.send, email)
        except SmtpError as exc:
            return Outcome("failed" if exc.permanent else "retry", str(exc))
        return Outcome("sent")

    async def _webpush(self, rule: AlertRule, msg: AlertMessage, now: datetime) -> Outcome:
        s = self.settings
        if not s.vapid_private_key:
            return Outcome("failed", "Web Push is not configured (BREAKINGON_VAPID_PRIVATE_KEY)")
        subs = await asyncio.to_thread(self.store.list_push_subscriptions, rule.user_id)
        if not subs:
            return Outcome("failed", "the reader has no Web Push subscription")
        outcomes: list[Outcome] = []
        for sub in subs:
            try:
                req = push_request(sub, msg, s.vapid_private_key, s.vapid_subject, now)
            except ValueError as exc:
                outcomes.append(Outcome("failed", str(exc)))
                continue
            res = await self.fetcher.post(req.url, req.body, req.content_type, headers=req.headers)
            if res.status in (404, 410):  # the browser unsubscribed: forget it
                await asyncio.to_thread(self.store.drop_push_subscription, sub.id)
            outcomes.append(outcome_of(res))
        for state in ("sent", "unknown", "retry"):
            hit = next((o for o in outcomes if o.state == state), None)
            if hit is not None:
                return hit
        return outcomes[0]
