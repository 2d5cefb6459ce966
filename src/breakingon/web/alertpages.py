"""A signed-in reader's alerts on the site: /alerts (rules, mutes, Web Push) and /sw.js.

- GET /alerts: the reader's rules, their latest deliveries, forms to add, mute and
  remove rules, and (when the operator set BREAKINGON_VAPID_PRIVATE_KEY) the button that
  turns Web Push on in this browser (`static/alerts.js`: registers the service worker
  /sw.js, subscribes with the VAPID public key, posts the subscription here).
- POST /alerts/rules, /alerts/rules/{id}/remove, /alerts/rules/{id}/mute, /alerts/mute:
  forms with the CSRF token; a rule is checked by `alerts.validate.rule_spec` (a webhook
  or ntfy URL at a private address is refused here already) and a bad one is a 400.
- POST /alerts/push and /alerts/push/remove: JSON from alerts.js with the CSRF token in
  `X-CSRF-Token`; the subscription's keys and endpoint are checked (400 otherwise).

Every store call carries the signed-in reader's id: a rule id of another reader is a
404, never a change. Pages are private (never cached for anyone else).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from breakingon.alerts.validate import RuleError, rule_spec
from breakingon.alerts.webpush import check_subscription
from breakingon.crawl.netpolicy import check_url
from breakingon.store.base import TooManyRules
from breakingon.web.params import SECTIONS, parse_id
from breakingon.web.readerpages import checked_form, field, private
from breakingon.web.render import ctx, page
from breakingon.web.session import csrf_ok, current_reader

STATIC = Path(__file__).parent / "static"
MUTES = {"1h": timedelta(hours=1), "8h": timedelta(hours=8), "1d": timedelta(days=1)}
MUTES["1w"] = timedelta(weeks=1)
RULE_FIELDS = ("url", "secret", "token", "priority", "to", "digest", "hour")
MAX_PUSH_JSON = 8 * 1024


async def _render(
    request: Request, status: int = 200, message: str = "", secret: str = ""
) -> Response:
    """The reader's /alerts page (with a notice after a form, and a new webhook's
    secret, shown this once)."""
    reader = current_reader(request)
    assert reader is not None
    c = ctx(request)

    def render() -> bytes:
        s = c.store
        return page(
            c,
            "alerts.html",
            status,
            title="Alerts",
            canonical="",
            rules=s.list_alert_rules(reader.id),
            deliveries=s.list_alert_deliveries(reader.id, 20),
            muted_until=s.user_alerts_muted_until(reader.id),
            push_count=len(s.list_push_subscriptions(reader.id)),
            vapid_key=request.app.state.vapid_public_key,
            mutes=list(MUTES),
            kinds=("breaking", "follows", "search", "place"),
            channels=("webhook", "ntfy", "webpush", "email"),
            section_names=SECTIONS,
            notice=message,
            secret=secret,
        ).body

    return private(await run_in_threadpool(render), status)


async def alerts_page(request: Request) -> Response:
    if current_reader(request) is None:
        return RedirectResponse("/signin?next=/alerts", status_code=303)
    return await _render(request)


def _rule_id(request: Request) -> int:
    rid = parse_id("id", request.path_params["id"])
    assert rid is not None
    return rid


async def add_rule(request: Request) -> Response:
    reader, form = await checked_form(request)
    c = ctx(request)
    options = {k: form[k] for k in RULE_FIELDS if form.get(k, "").strip()}
    try:
        spec = rule_spec(
            field(form, "kind"),
            form.get("target", ""),
            field(form, "channel"),
            options,
            sections=SECTIONS,
            policy=request.app.state.net_policy,
        )
    except RuleError as exc:
        return await _render(request, 400, message=f"Not added: {exc}")
    try:
        rule = await run_in_threadpool(
            c.store.add_alert_rule,
            reader.id,
            spec.kind,
            spec.target,
            spec.channel,
            spec.config,
            spec.digest,
            c.now,
        )
    except TooManyRules as exc:
        return await _render(request, 409, message=str(exc))
    secret = rule.config.get("secret", "") if rule.channel == "webhook" else ""
    return await _render(request, message=f"Rule {rule.id} added.", secret=secret)


async def remove_rule(request: Request) -> Response:
    reader, _ = await checked_form(request)
    rid = _rule_id(request)
    if not await run_in_threadpool(request.app.state.store.remove_alert_rule, reader.id, rid):
        raise HTTPException(404, "No such alert rule.")
    return RedirectResponse("/alerts", status_code=303)


def _until(request: Request, form: dict[str, str]) -> datetime:
    choice = field(form, "for")
    if choice == "off":  # unmuted from now: what happened while muted stays dropped
        return ctx(request).now
    if choice not in MUTES:
        raise HTTPException(400, f"for: one of {', '.join(MUTES)} or off")
    return ctx(request).now + MUTES[choice]


async def mute_rule(request: Request) -> Response:
    reader, form = await checked_form(request)
    rid, until = _rule_id(request), _until(request, form)
    store = request.app.state.store
    if not await run_in_threadpool(store.mute_alert_rule, reader.id, rid, until):
        raise HTTPException(404, "No such alert rule.")
    return RedirectResponse("/alerts", status_code=303)


async def mute_all(request: Request) -> Response:
    reader, form = await checked_form(request)
    until = _until(request, form)
    await run_in_threadpool(request.app.state.store.mute_user_alerts, reader.id, until)
    return RedirectResponse("/alerts", status_code=303)


async def _push_json(request: Request) -> tuple[int, dict[str, Any]]:
    reader = current_reader(request)
    if reader is None:
        raise HTTPException(401, "Sign in first: /signin")
    if not csrf_ok(request, request.headers.get("x-csrf-token")):
        raise HTTPException(403, "The page has expired: reload it and try again.")
    body = await request.body()
    if len(body) > MAX_PUSH_JSON:
        raise HTTPException(413, "A subscription is smaller than that.")
    try:
        doc = json.loads(body)
    except ValueError:
        raise HTTPException(400, "expected JSON (PushSubscription.toJSON())") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("endpoint"), str):
        raise HTTPException(400, "expected {endpoint, keys: {p256dh, auth}}")
    return reader.id, doc


async def add_push(request: Request) -> Response:
    user_id, doc = await _push_json(request)
    keys = doc.get("keys")
    keys = keys if isinstance(keys, dict) else {}
    endpoint, p256dh, auth = doc["endpoint"], keys.get("p256dh"), keys.get("auth")
    if not isinstance(p256dh, str) or not isinstance(auth, str):
        raise HTTPException(400, "keys.p256dh and keys.auth are required")
    policy = request.app.state.net_policy
    why = check_url(endpoint) or policy.literal_host_refusal(endpoint)
    why = why or check_subscription(endpoint, p256dh, auth)
    if why is not None:
        raise HTTPException(400, f"unusable subscription: {why}")
    store, now = request.app.state.store, ctx(request).now
    try:
        await run_in_threadpool(store.add_push_subscription, user_id, endpoint, p256dh, auth, now)
    except TooManyRules as exc:
        raise HTTPException(409, str(exc)) from None
    return JSONResponse({"ok": True}, status_code=201, headers={"Cache-Control": "no-store"})


async def remove_push(request: Request) -> Response:
    user_id, doc = await _push_json(request)
    store = request.app.state.store
    gone = await run_in_threadpool(store.remove_push_subscription, user_id, doc["endpoint"])
    return JSONResponse({"ok": bool(gone)}, headers={"Cache-Control": "no-store"})


async def service_worker(request: Request) -> Response:
    """The Web Push service worker, at the root so its scope is the whole site."""
    body = (STATIC / "sw.js").read_bytes()
    headers = {"Cache-Control": "no-cache"}
    return Response(body, media_type="text/javascript; charset=utf-8", headers=headers)


def routes() -> list[BaseRoute]:
    return [
        Route("/alerts", alerts_page, methods=["GET"]),
        Route("/alerts/rules", add_rule, methods=["POST"]),
        Route("/alerts/rules/{id}/remove", remove_rule, methods=["POST"]),
        Route("/alerts/rules/{id}/mute", mute_rule, methods=["POST"]),
        Route("/alerts/mute", mute_all, methods=["POST"]),
        Route("/alerts/push", add_push, methods=["POST"]),
        Route("/alerts/push/remove", remove_push, methods=["POST"]),
        Route("/sw.js", service_worker, methods=["GET"]),
    ]
