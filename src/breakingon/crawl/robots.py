"""robots.txt for article-page fetches (RFC 9309), parsed with protego and cached per origin.

Rules implemented (RFC 9309 §2.3.1, §2.4):
- 2xx: the file is parsed (at least the first 512 KiB; the fetcher truncates, never fails).
- 4xx (410 included): "unavailable", so everything is allowed.
- 5xx, 429, network/TLS/DNS errors, timeouts: "unreachable", so everything is disallowed,
  unless an earlier good copy is cached, which is then used (the RFC allows it).
- More than 5 redirects: "unavailable" (allow). The fetcher follows at most 5.
- A good copy is cached for at most `ttl_s` (24 h by default); an unreachable verdict is
  cached for `error_ttl_s` so a failing server is not hammered.
- Groups are matched on the product token of our User-Agent (`BreakingOn`), and
  `Crawl-delay` is honoured up to `max_crawl_delay_s`.

Feed polling is NOT gated by robots.txt: a feed URL is one an operator subscribed to on
purpose, published for machine consumption, and feed readers conventionally fetch it
regardless of robots.txt (selfoss #1496). Crawling the article pages a feed links to is
crawling, so those fetches are gated (newspaper4k PR #668).

This module never opens sockets: robots.txt is fetched through the callable it is given
(the `Fetcher`, with the same SSRF policy and caps). It does not touch the store.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from protego import Protego

from breakingon.records import FetchResult

RobotsState = Literal["rules", "allow_all", "disallow_all"]
RobotsFetch = Callable[[str], Awaitable[FetchResult]]

# Errors that mean "the file is unavailable" (RFC 9309: the crawler may access anything).
_UNAVAILABLE_ERRORS = frozenset({"too_many_redirects", "redirect_without_location", "gone"})


@dataclass(frozen=True, slots=True)
class RobotsVerdict:
    """Whether one URL may be fetched, and the Crawl-delay to apply to its host."""

    allowed: bool
    crawl_delay_s: float | None = None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RobotsRules:
    """The robots.txt state of one origin, valid until `expires_at` (clock seconds)."""

    state: RobotsState
    parser: Protego | None
    expires_at: float
    reason: str


def robots_url(url: str) -> str:
    """The robots.txt URL of `url`'s origin (scheme, host, port)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), "/robots.txt", "", ""))


def ua_token(user_agent: str) -> str:
    """The product token RFC 9309 matches groups on: `BreakingOn` from `BreakingOn/0.1 (+...)`."""
    return user_agent.split("/", 1)[0].split(" ", 1)[0].strip() or user_agent


def rules_from_result(
    result: FetchResult, now: float, ttl_s: float, error_ttl_s: float
) -> RobotsRules:
    """Map one robots.txt fetch to rules, following RFC 9309's status-code rules."""
    status = result.status or 0
    if result.error is None and 200 <= status < 300:
        text = result.body.decode("utf-8", errors="replace")
        return RobotsRules(
            "rules", Protego.parse(text), now + ttl_s, f"parsed ({len(result.body)} bytes)"
        )
    if result.error in _UNAVAILABLE_ERRORS or (400 <= status < 500 and status != 429):
        return RobotsRules(
            "allow_all", None, now + ttl_s, f"unavailable ({result.error or status})"
        )
    return RobotsRules(
        "disallow_all", None, now + error_ttl_s, f"unreachable ({result.error or status})"
    )


class RobotsCache:
    """Per-origin robots.txt cache. One fetch per origin at a time; see the module docstring."""

    def __init__(
        self,
        fetch: RobotsFetch,
        *,
        user_agent: str,
        ttl_s: float = 86400.0,
        error_ttl_s: float = 600.0,
        max_crawl_delay_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._token = ua_token(user_agent)
        self._ttl_s = min(ttl_s, 86400.0)
        self._error_ttl_s = error_ttl_s
        self._max_delay = max_crawl_delay_s
        self._clock = clock
        self._rules: dict[str, RobotsRules] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def rules_for(self, url: str) -> RobotsRules:
        """The current rules of `url`'s origin, fetching robots.txt when missing or expired."""
        key = robots_url(url)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            cached = self._rules.get(key)
            now = self._clock()
            if cached is not None and now < cached.expires_at:
                return cached
            result = await self._fetch(key)
            now = self._clock()
            fresh = rules_from_result(result, now, self._ttl_s, self._error_ttl_s)
            if (
                fresh.state == "disallow_all"
                and cached is not None
                and cached.state != "disallow_all"
            ):
                # Unreachable now, but a good copy exists: keep using it for a while.
                fresh = RobotsRules(
                    cached.state,
                    cached.parser,
                    now + self._error_ttl_s,
                    f"{fresh.reason}; using cached copy",
                )
            self._rules[key] = fresh
            return fresh

    async def check(self, url: str) -> RobotsVerdict:
        """May `url` be fetched? Also returns the origin's bounded Crawl-delay."""
        rules = await self.rules_for(url)
        if urlsplit(url).path == "/robots.txt":
            return RobotsVerdict(True, None, "robots.txt itself")
        if rules.state == "allow_all":
            return RobotsVerdict(True, None, rules.reason)
        if rules.state == "disallow_all" or rules.parser is None:
            return RobotsVerdict(False, None, rules.reason)
        delay = rules.parser.crawl_delay(self._token)
        bounded = None if delay is None else max(0.0, min(float(delay), self._max_delay))
        if rules.parser.can_fetch(url, self._token):
            return RobotsVerdict(True, bounded, "allowed by robots.txt")
        return RobotsVerdict(False, bounded, "disallowed by robots.txt")
