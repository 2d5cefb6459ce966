"""CLI commands: `alerts add|list|remove|test|mute|vapid-keys` (readers' alert rules).

    breakingon alerts add alice breaking webhook --url https://hooks.example/in
    breakingon alerts add alice search email --target "rate cut" --to a@example.org --digest hourly
    breakingon alerts add bob follows ntfy --url https://ntfy.sh/my-topic --priority high
    breakingon alerts list [alice]          breakingon alerts remove alice 3
    breakingon alerts test alice 3          breakingon alerts mute alice [3] --for 2h | --off
    breakingon alerts vapid-keys

Every command that names a rule names its reader too, and acts only on that reader's
rules. A webhook's secret is printed once, at `add` (the receiver checks signatures with
it); `list` never shows secrets or tokens. Composition only: rules are checked by
`breakingon.alerts.validate`, stored through `AlertStore`, tested by the alert stage.
"""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer

from breakingon.cli.app import app, fail, load, open_configured_store
from breakingon.records import AlertRule, User
from breakingon.store import Store
from breakingon.store.base import TooManyRules

alerts_app = typer.Typer(
    help="Readers' alert rules (needs `breakingon users`).", no_args_is_help=True
)
app.add_typer(alerts_app, name="alerts")

_SECRET_KEYS = ("secret", "token")
_DURATION = re.compile(r"^(\d{1,6})([mhdw])$")
_UNITS = {"m": 60, "h": 3600, "d": 86_400, "w": 604_800}

Opt = Annotated[str, typer.Option()]


def _user(store: Store, name: str) -> User:
    found = store.find_user(name)
    if found is None:
        fail(f"no user {name!r} (add one with `breakingon users add {name}`)", code=1)
        raise AssertionError  # unreachable
    return found


def _public(rule: AlertRule) -> dict[str, Any]:
    config = {k: ("(hidden)" if k in _SECRET_KEYS else v) for k, v in rule.config.items()}
    return {
        "id": rule.id,
        "user": rule.user_name,
        "kind": rule.kind,
        "target": rule.target,
        "channel": rule.channel,
        "config": config,
        "digest": rule.digest,
        "muted_until": rule.muted_until.isoformat() if rule.muted_until else None,
        "created_at": rule.created_at.isoformat(),
    }


@alerts_app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="The reader (a `breakingon users` name).")],
    kind: Annotated[str, typer.Argument(help="breaking | follows | search | place")],
    channel: Annotated[str, typer.Argument(help="webhook | ntfy | webpush | email")],
    target: Annotated[
        str, typer.Option(help="breaking: a section or none; search: the query; place: a geonameid")
    ] = "",
    url: Annotated[str, typer.Option(help="webhook / ntfy: where to POST")] = "",
    secret: Annotated[str, typer.Option(help="webhook: the HMAC key (default: a new one)")] = "",
    token: Annotated[str, typer.Option(help="ntfy: an access token")] = "",
    priority: Annotated[str, typer.Option(help="ntfy: 1-5 or min|low|default|high|max")] = "",
    to: Annotated[str, typer.Option(help="email: the address")] = "",
    digest: Annotated[str, typer.Option(help="email: hourly | daily")] = "",
    hour: Annotated[str, typer.Option(help="email: the daily digest's hour, 0-23 UTC")] = "",
) -> None:
    """Add an alert rule for a reader."""
    from breakingon.alerts.validate import OPTIONS, RuleError, rule_spec
    from breakingon.crawl.netpolicy import NetPolicy
    from breakingon.web.params import SECTIONS

    settings = load()
    given = {"url": url, "secret": secret, "token": token, "priority": priority}
    given.update({"to": to, "digest": digest, "hour": hour})
    extra = [k for k, v in given.items() if v and k not in OPTIONS.get(channel, given)]
    if extra:
        fail(f"--{extra[0]} is not an option of the {channel} channel")
    options = {k: v for k, v in given.items() if v}
    try:
        spec = rule_spec(
            kind,
            target,
            channel,
            options,
            sections=SECTIONS,
            policy=NetPolicy(allow_networks=settings.fetch_allow_networks),
        )
    except RuleError as exc:
        fail(str(exc))
        raise  # unreachable
    store = open_configured_store(settings)
    reader = _user(store, name)
    try:
        rule = store.add_alert_rule(
            reader.id,
            spec.kind,
            spec.target,
            spec.channel,
            spec.config,
            spec.digest,
            datetime.now(UTC),
        )
    except TooManyRules as exc:
        fail(str(exc), code=1)
        raise  # unreachable
    shown = _public(rule)
    if rule.channel == "webhook":
        shown["config"]["secret"] = rule.config["secret"]  # once: the receiver needs it
    typer.echo(json.dumps(shown))


@alerts_app.command("list")
def list_rules(
    name: Annotated[str, typer.Argument(help="One reader (default: every reader).")] = "",
) -> None:
    """List alert rules as JSON lines (secrets and tokens hidden)."""
    store = open_configured_store(load())
    readers = [_user(store, name)] if name else store.list_users()
    for reader in readers:
        for rule in store.list_alert_rules(reader.id):
            typer.echo(json.dumps(_public(rule)))


def _rule(store: Store, reader: User, rule_id: int) -> AlertRule:
    found = next((r for r in store.list_alert_rules(reader.id) if r.id == rule_id), None)
    if found is None:
        fail(f"{reader.name} has no alert rule {rule_id}", code=1)
        raise AssertionError  # unreachable
    return found


@alerts_app.command("remove")
def remove(
    name: Annotated[str, typer.Argument(help="The reader.")],
    rule_id: Annotated[int, typer.Argument(help="The rule's id (`alerts list`).")],
) -> None:
    """Remove one of a reader's alert rules (and its queued alerts)."""
    store = open_configured_store(load())
    reader = _user(store, name)
    if not store.remove_alert_rule(reader.id, rule_id):
        fail(f"{name} has no alert rule {rule_id}", code=1)
    typer.echo(f"removed alert rule {rule_id} of {name}")


@alerts_app.command("test")
def test(
    name: Annotated[str, typer.Argument(help="The reader.")],
    rule_id: Annotated[int, typer.Argument(help="The rule's id.")],
) -> None:
    """Send one test alert through the rule's channel now."""
    from breakingon.pipeline.alert_stage import AlertStage

    settings = load()
    store = open_configured_store(settings)
    rule = _rule(store, _user(store, name), rule_id)
    stage = AlertStage(settings, store, "cli-test")

    async def go() -> tuple[str, str | None]:
        async with stage:
            out = await stage.send_probe(rule)
            return out.state, out.error

    state, error = asyncio.run(go())
    if state != "sent":
        fail(f"test alert through rule {rule_id} ({rule.channel}) not sent: {state}: {error}", 1)
    typer.echo(f"test alert sent through rule {rule_id} ({rule.channel})")


def parse_duration(text: str) -> timedelta:
    """`30m`, `2h`, `1d`, `1w` as a timedelta (ValueError otherwise)."""
    m = _DURATION.match(text.strip().lower())
    if m is None:
        raise ValueError(f"{text!r}: expected a number and m, h, d or w (30m, 2h, 1d)")
    return timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])


@alerts_app.command("mute")
def mute(
    name: Annotated[str, typer.Argument(help="The reader.")],
    rule_id: Annotated[int | None, typer.Argument(help="One rule (default: all of them).")] = None,
    for_: Annotated[str, typer.Option("--for", help="How long: 30m, 2h, 1d, 1w.")] = "",
    off: Annotated[bool, typer.Option("--off", help="Unmute.")] = False,
) -> None:
    """Mute a reader's alerts (one rule, or all): what happens meanwhile is dropped."""
    if off == bool(for_):
        fail("give exactly one of --for DURATION or --off")
    now = datetime.now(UTC)
    until = now  # unmuted from now: what happened while muted stays dropped
    if for_:
        try:
            until = now + parse_duration(for_)
        except ValueError as exc:
            fail(f"--for {exc}")
    store = open_configured_store(load())
    reader = _user(store, name)
    if rule_id is None:
        store.mute_user_alerts(reader.id, until)
    elif not store.mute_alert_rule(reader.id, rule_id, until):
        fail(f"{name} has no alert rule {rule_id}", code=1)
    what = f"rule {rule_id}" if rule_id is not None else "all alerts"
    typer.echo(f"{name}: {what} " + (f"muted until {until.isoformat()}" if for_ else "unmuted"))


@alerts_app.command("vapid-keys")
def vapid_keys() -> None:
    """Make a VAPID key pair for Web Push (set the private key in the environment)."""
    from breakingon.alerts.webpush import generate_vapid_keys

    private, public = generate_vapid_keys()
    typer.echo(f"BREAKINGON_VAPID_PRIVATE_KEY={private}")
    typer.echo(f"# public key (the site shows it to browsers): {public}")
    typer.echo("# also set BREAKINGON_VAPID_SUBJECT=mailto:you@example.org")
