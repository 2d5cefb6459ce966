"""A reader's rule as typed on the command line or posted from the site, checked.

`rule_spec(kind, target, channel, options, ...)` returns the normalised `RuleSpec` or
raises `RuleError` naming what is wrong. A webhook or ntfy URL is checked for shape
and, without DNS, for a host the SSRF policy refuses (an IP literal in a private range,
`localhost`): early, clear feedback. The check that counts is the one made at each send,
when the crawler's `Fetcher` resolves the name and refuses a private address.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address

from breakingon.alerts.digest import DEFAULT_HOUR
from breakingon.alerts.model import ALERT_KINDS, CHANNELS, DIGESTS
from breakingon.alerts.ntfy import parse_priority
from breakingon.alerts.rules import query_terms
from breakingon.crawl.netpolicy import NetPolicy, check_url

OPTIONS = {
    "webhook": ("url", "secret"),
    "ntfy": ("url", "token", "priority"),
    "email": ("to", "digest", "hour"),
    "webpush": (),
}
MIN_SECRET = 16


class RuleError(ValueError):
    """A rule's kind, target, channel or options are unusable; the message says why."""


@dataclass(frozen=True, slots=True)
class RuleSpec:
    kind: str
    target: str
    channel: str
    config: dict[str, str] = field(default_factory=dict)
    digest: str = ""


def _url(name: str, raw: str, policy: NetPolicy) -> str:
    url = raw.strip()
    if not url:
        raise RuleError(f"{name}: required")
    why = check_url(url) or policy.literal_host_refusal(url)
    if why is not None:
        raise RuleError(f"{name}: refused ({why})")
    return url


def _ascii(name: str, raw: str, limit: int = 200) -> str:
    value = raw.strip()
    if not value.isascii() or not value.isprintable() or len(value) > limit:
        raise RuleError(f"{name}: printable ASCII, at most {limit} characters")
    return value


def email_address(raw: str) -> str:
    """`raw` as a plain mailbox address (local@domain), or RuleError."""
    value = raw.strip()
    if not value or len(value) > 254 or any(c in value for c in '\r\n<>,;"() '):
        raise RuleError("to: expected one address like reader@example.org")
    try:
        addr = Address(addr_spec=value)
    except (HeaderParseError, ValueError, IndexError) as exc:
        raise RuleError(f"to: not an email address ({exc})") from None
    if not addr.username or "." not in addr.domain:
        raise RuleError("to: expected one address like reader@example.org")
    return addr.addr_spec


def _target(kind: str, raw: str, sections: Collection[str]) -> str:
    target = " ".join(raw.split())
    if kind == "breaking":
        if target and target not in sections:
            raise RuleError(f"target: a section ({', '.join(sections)}) or nothing")
    elif kind == "follows":
        if target:
            raise RuleError("target: a follows rule covers everything the reader follows")
    elif kind == "search":
        if len(target) > 200 or not query_terms(target):
            raise RuleError("target: a search query of at most 200 characters")
    elif kind == "place":
        if not target.isdigit() or not 0 < int(target) < 2**31:
            raise RuleError("target: a place's geonameid (the number in /place/ID)")
        target = str(int(target))
    return target


def rule_spec(
    kind: str,
    target: str,
    channel: str,
    options: Mapping[str, str],
    *,
    sections: Collection[str],
    policy: NetPolicy | None = None,
) -> RuleSpec:
    """The checked rule (see the module doc). A webhook without a `secret` gets a new
    random one (shown to the reader once, by the caller)."""
    if kind not in ALERT_KINDS:
        raise RuleError(f"kind: one of {', '.join(ALERT_KINDS)}")
    if channel not in CHANNELS:
        raise RuleError(f"channel: one of {', '.join(CHANNELS)}")
    allowed = OPTIONS[channel]
    for name in options:
        if name not in allowed:
            known = ", ".join(allowed) or "none"
            raise RuleError(f"option {name!r}: not one of the {channel} options ({known})")
    policy = policy or NetPolicy()
    opts = {k: str(v) for k, v in options.items()}
    config: dict[str, str] = {}
    digest = ""
    if channel in ("webhook", "ntfy"):
        config["url"] = _url("url", opts.get("url", ""), policy)
    if channel == "webhook":
        secret = _ascii("secret", opts.get("secret", "")) or secrets.token_urlsafe(32)
        if len(secret) < MIN_SECRET:
            raise RuleError(f"secret: at least {MIN_SECRET} characters")
        config["secret"] = secret
    elif channel == "ntfy":
        if opts.get("token", "").strip():
            config["token"] = _ascii("token", opts["token"])
        if opts.get("priority", "").strip():
            try:
                config["priority"] = str(parse_priority(opts["priority"]))
            except ValueError as exc:
                raise RuleError(str(exc)) from None
    elif channel == "email":
        config["to"] = email_address(opts.get("to", ""))
        digest = opts.get("digest", "").strip() or "daily"
        if digest not in DIGESTS:
            raise RuleError(f"digest: one of {', '.join(DIGESTS)}")
        hour = opts.get("hour", "").strip() or str(DEFAULT_HOUR)
        if not hour.isdigit() or not 0 <= int(hour) <= 23:
            raise RuleError("hour: the daily digest's hour, 0-23 (UTC)")
        config["hour"] = str(int(hour))
    return RuleSpec(kind, _target(kind, target, sections), channel, config, digest)
