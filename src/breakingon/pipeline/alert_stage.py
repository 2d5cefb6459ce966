"""The alert stage: stories the story stage saved -> readers' alerts, queued and sent.

`AlertStage.step()` runs beside clustering and the story stage (its own loop in the
runner, never holding them up) and does three things:

1. **Scan** (one worker at a time: the named lease `alert-scan`). Read the stories saved
   since the cursor (the meta key `alerts.cursor`: the last seen (updated_at, id)),
   match each against every enabled reader's rules (`alerts.rules.match`) and queue the
   events in the outbox (`enqueue_alerts`): the new rows and the advanced cursor commit
   in ONE transaction, fenced by the lease. A worker killed before that commit leaves
   the cursor where it was, so the next scan finds the same events; the outbox's UNIQUE
   (rule, event key) makes a second scan of the same story queue nothing new. Every
   `MARGIN_EVERY_S` the scan re-reads `margin` behind the cursor, for a story whose save
   committed late (a story stage step stamps its stories with its start time).
2. **Recover** what a dead sender left `sending` (`recover_alert_deliveries`): a webhook
   goes back to pending (sent again with the same idempotency key), an email, ntfy or
   Web Push alert becomes `unknown` and is never sent twice (at most once).
3. **Send** the due rows (`claim_alert_deliveries`: leased and committed as `sending`
   first; an email rule's due rows together, as one digest) through `AlertSender`, then
   record each outcome in its own transaction: sent, pending again after an exponential
   backoff (`backoff_s`; the endpoint's Retry-After when longer), failed after
   `MAX_ATTEMPTS` or at once for a permanent refusal, muted when the rule or its reader
   was muted meanwhile.

The first scan of a new database starts `margin` before now: stories older than the
alert stage are never alerted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Protocol

from breakingon.alerts.digest import DEFAULT_HOUR, next_digest_at
from breakingon.alerts.message import message_for, probe_message
from breakingon.alerts.model import AT_MOST_ONCE, AlertEvent, AlertRule, Delivery
from breakingon.alerts.rules import match
from breakingon.crawl.http import Fetcher, FetchSettings
from breakingon.crawl.netpolicy import NetPolicy, Resolver
from breakingon.crawl.smtp import SmtpSender, parse_smtp_url
from breakingon.ops.metrics import METRICS
from breakingon.pipeline.alert_send import AlertSender, Mailer, Outcome
from breakingon.records import Outlet
from breakingon.settings import Settings
from breakingon.store.base import AlertStore, LeaseLost, LeaseStore

__all__ = ["MAX_ATTEMPTS", "AlertStage", "alert_fetch_settings", "backoff_s"]

log = logging.getLogger("breakingon.alerts")

SCAN_LEASE = "alert-scan"
CURSOR = "alerts.cursor"
PAGE = 500  # stories per read of the scan
SCAN_CAP = 5_000  # stories one scan reads at most (the rest next step)
MARGIN_EVERY_S = 10.0
MAX_ATTEMPTS = 8
BACKOFF_BASE_S = 30.0
BACKOFF_MAX_S = 3_600.0
SEND_BATCH = 32
SEND_CONCURRENCY = 8


class _Store(AlertStore, LeaseStore, Protocol):
    def list_outlets(self) -> list[Outlet]: ...


def _now() -> datetime:
    return datetime.now(UTC)


def backoff_s(attempts: int, retry_after_s: float | None = None) -> float:
    """Seconds before attempt `attempts + 1`: 30 s, 60 s, 120 s, ... up to an hour, or
    the endpoint's Retry-After when that is longer (capped at a day)."""
    delay = min(BACKOFF_BASE_S * 2.0 ** max(0, attempts - 1), BACKOFF_MAX_S)
    if retry_after_s is not None:
        delay = max(delay, min(retry_after_s, 86_400.0))
    return delay


def alert_fetch_settings(settings: Settings) -> FetchSettings:
    """The alert sender's Fetcher: short deadlines, small answers, no politeness delay
    (each request is one reader's own endpoint), several requests per host (ntfy.sh)."""
    ua = settings.user_agent or FetchSettings().user_agent
    return FetchSettings(
        user_agent=ua,
        connect_timeout=10.0,
        read_timeout=15.0,
        total_deadline=20.0,
        max_body_bytes=64 * 1024,
        max_redirects=0,
        per_host_concurrency=4,
        per_host_delay_s=0.0,
        max_connections=64,
    )


def _encode_cursor(at: datetime, story_id: int) -> str:
    return f"{at.astimezone(UTC).isoformat()}|{story_id}"


def _decode_cursor(raw: str | None) -> tuple[datetime, int] | None:
    if not raw:
        return None
    at, _, sid = raw.partition("|")
    try:
        return datetime.fromisoformat(at), int(sid or 0)
    except ValueError:
        return None


class AlertStage:
    """Scans saved stories into the outbox and sends what is due (module doc)."""

    def __init__(
        self,
        settings: Settings,
        store: _Store,
        worker: str,
        *,
        resolver: Resolver | None = None,
        clock: Callable[[], datetime] = _now,
        mailer: Mailer | None = None,
        fetcher: Fetcher | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.worker = worker
        self.clock = clock
        self.margin = timedelta(seconds=settings.lease_s + 30)
        self.fetcher = fetcher or Fetcher(
            alert_fetch_settings(settings),
            NetPolicy(allow_networks=settings.fetch_allow_networks),
            resolver=resolver,
        )
        problem = None
        if mailer is None and settings.smtp_url:
            try:
                mailer = SmtpSender(parse_smtp_url(settings.smtp_url))
            except ValueError as exc:
                problem = f"BREAKINGON_SMTP_URL: {exc}"
                log.error("%s: email alerts are off", problem)
        self.sender = AlertSender(settings, self.fetcher, store, mailer, problem)
        self._margin_at = -1e18
        self._outlets: dict[str, int] = {}
        self._outlets_at = -1e18
        self.scanned = 0
        self.queued = 0
        self.sent = 0

    async def __aenter__(self) -> AlertStage:
        await self.fetcher.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.fetcher.__aexit__(exc_type, exc, tb)

    # -- 1. scan -------------------------------------------------------------------------
    def _outlet_ids(self) -> dict[str, int]:
        if time.monotonic() - self._outlets_at > 60:
            self._outlets = {o.name: o.id for o in self.store.list_outlets() if o.id is not None}
            self._outlets_at = time.monotonic()
        return self._outlets

    def scan(self) -> int:
        """Queue the events of the stories saved since the cursor; how many rows are new
        (0 when another worker holds the scan)."""
        now = self.clock()
        every = self.store.active_alert_rules()
        if not every:
            return 0  # no reader has a rule: nothing to scan for (a new rule fires only
            # on stories saved after it was made)
        # muted rules fire nothing, but the cursor moves on: what happens while a rule
        # is muted is dropped, not delivered when it is unmuted
        rules = [r for r in every if not r.muted_at(now)]
        held, _ = self.store.try_lease(SCAN_LEASE, self.worker, now, self.settings.lease_s)
        if not held:
            return 0
        cursor = _decode_cursor(self.store.get_meta(CURSOR)) or (now - self.margin, 0)
        # from the cursor's time, not after its story: a story saved with the same stamp
        # (one story stage step stamps all its stories alike) may have committed later
        start = (cursor[0], 0)
        if time.monotonic() - self._margin_at >= MARGIN_EVERY_S:
            self._margin_at = time.monotonic()
            start = (cursor[0] - self.margin, 0)
        watching = sorted({r.user_id for r in rules if r.kind == "follows"})
        follows = self.store.follows_of(watching) if watching else {}
        by_outlet = any(f.kind == "outlet" for fs in follows.values() for f in fs)
        outlets = self._outlet_ids() if by_outlet else {}
        events: list[tuple[AlertEvent, str, datetime]] = []
        by_id = {r.id: r for r in rules}
        last = cursor
        read = 0
        while read < SCAN_CAP:
            page = self.store.changed_stories(start[0], start[1], PAGE)
            read += len(page)
            for change in page:
                found = match(
                    change,
                    rules,
                    follows,
                    now,
                    base_url=self.settings.public_base_url,
                    outlet_ids=outlets,
                )
                for e in found:
                    rule = by_id[e.rule_id]
                    events.append((e, rule.channel, self._first_attempt(rule, now)))
                saved = change.story.updated_at
                if saved is not None and (saved, change.story.id) > last:
                    last = (saved, change.story.id)
            if len(page) < PAGE:
                break
            tail = page[-1].story
            start = (tail.updated_at or start[0], tail.id)
        self.scanned += read
        new_cursor = _encode_cursor(*last)
        if not events and last == cursor:
            return 0
        try:
            new = self.store.enqueue_alerts(
                events, now, cursor=(CURSOR, new_cursor), lease=(SCAN_LEASE, self.worker)
            )
        except LeaseLost:
            log.info("alert scan: the lease moved to another worker; its scan counts")
            return 0
        self.queued += new
        return new

    @staticmethod
    def _first_attempt(rule: AlertRule, now: datetime) -> datetime:
        if rule.channel != "email":
            return now
        hour = rule.config.get("hour", "")
        at = int(hour) if hour.isdigit() else DEFAULT_HOUR
        return next_digest_at(rule.digest or "daily", now, at)

    # -- 2. and 3. recover and send ------------------------------------------------------
    async def send_due(self, limit: int = SEND_BATCH) -> int:
        """Recover orphaned sends, then claim and send up to `limit` due rows (and the
        rest of their digests); return how many rows reached an outcome."""
        now = self.clock()
        await asyncio.to_thread(self.store.recover_alert_deliveries, now)
        rows = await asyncio.to_thread(
            self.store.claim_alert_deliveries, self.worker, now, limit, self.settings.lease_s
        )
        if not rows:
            return 0
        groups: dict[tuple[int, int], list[Delivery]] = {}
        for d in rows:  # email rows of one rule go out as one digest
            groups.setdefault((d.rule_id, d.id if d.channel != "email" else 0), []).append(d)
        gate = asyncio.Semaphore(SEND_CONCURRENCY)

        async def one(group: list[Delivery]) -> int:
            async with gate:
                return await self._deliver(group, now)

        done = await asyncio.gather(*(one(g) for g in groups.values()))
        return sum(done)

    async def _deliver(self, group: Sequence[Delivery], now: datetime) -> int:
        ids = [d.id for d in group]
        rule = await asyncio.to_thread(self.store.get_alert_rule, group[0].rule_id)
        if rule is None:
            return await self._finish(ids, "failed", "the rule was removed")
        if rule.muted_at(now):
            return await self._finish(ids, "muted", None)
        started = time.perf_counter()
        try:
            out = await self.sender.send(rule, [message_for(d) for d in group], now)
        except Exception as exc:  # a bug or a hostile answer: the row must not stay claimed
            log.exception("alert rule %d: send failed", rule.id)
            METRICS.errors.labels(stage="alerts").inc()
            out = Outcome("unknown", f"{type(exc).__name__}: {exc}"[:300])
        METRICS.stage_seconds.labels(stage="alerts").observe(time.perf_counter() - started)
        attempts = max(d.attempts for d in group)
        if out.state == "unknown" and rule.channel not in AT_MOST_ONCE:
            out = Outcome("retry", out.error, out.retry_after_s)
        if out.state == "sent":
            self.sent += len(ids)
            return await self._finish(ids, "sent", None)
        if out.state == "retry" and attempts < MAX_ATTEMPTS:
            retry = now + timedelta(seconds=backoff_s(attempts, out.retry_after_s))
            return await self._finish(ids, "pending", out.error, retry)
        if out.state == "unknown":
            why = f"outcome unknown, not sent again: {out.error}"
            return await self._finish(ids, "unknown", why)
        return await self._finish(ids, "failed", out.error)

    async def _finish(
        self, ids: list[int], state: str, error: str | None, retry_at: datetime | None = None
    ) -> int:
        """Record the outcome (sent_at is now: after the send) of rows still ours."""
        return await asyncio.to_thread(
            self.store.finish_alert_deliveries,
            ids,
            self.worker,
            state,  # type: ignore[arg-type]
            self.clock(),
            error,
            retry_at,
        )

    async def step(self) -> int:
        """One scan and one send round; how many rows were queued or reached an outcome."""
        queued = await asyncio.to_thread(self.scan)
        return queued + await self.send_due()

    async def send_probe(self, rule: AlertRule) -> Outcome:
        """Send one test alert through `rule`'s channel now (`breakingon alerts test`);
        nothing is queued or recorded."""
        now = self.clock()
        msg = probe_message(rule, self.settings.public_base_url, now)
        return await self.sender.send(rule, [msg], now)
