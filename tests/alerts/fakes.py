"""Test doubles and fixtures for the alert tests: stories saved the way the story stage
saves them, a fake resolver (names -> addresses, no DNS), a connect log (every TCP
connection the Fetcher opens), and a loopback SMTP server (aiosmtpd)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from ipaddress import ip_network
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from breakingon.records import Article, Feed, Place
from breakingon.settings import Settings
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import Store
from breakingon.store.base import FeedUpdate, Membership, StoryUpdate

BASE = "https://news.example"
PARIS = Place(2988507, "Paris", "FR", "city", 48.85, 2.35)


def settings(tmp: Path, **kw: Any) -> Settings:
    base: dict[str, Any] = {
        "data_dir": tmp,
        "fetch_allow_networks": (ip_network("127.0.0.0/8"),),
        "public_base_url": BASE,
        "lease_s": 60,
        "site_name": "Test Desk",
    }
    base.update(kw)
    return Settings(**base)


_n = 0


def save_story(
    store: Store,
    now: datetime,
    *,
    breaking: bool = True,
    sections: tuple[str, ...] = ("world",),
    headline: str = "Dam breaks upstream of the valley",
    story_id: int | None = None,
) -> int:
    """A story with two articles, saved by the story stage's save at `now` (breaking
    from 5 minutes before `now` for 6 hours when `breaking`)."""
    global _n
    if story_id is None:
        _n += 1
        url = f"https://outlet{_n}.example/feed.xml"
        feed, _ = store.add_feed(Feed(url=url, outlet=f"Outlet {_n}"), feed_url_key(url))
        assert feed.id is not None
        arts = [
            Article(
                url=f"https://o{_n}.example/{k}",
                title=headline,
                text="Text.",
                published=now,
                item_key=f"{_n}-{k}",
            )
            for k in "ab"
        ]
        upd = FeedUpdate(
            checked_at=now,
            next_check_at=now + timedelta(hours=1),
            interval_s=900,
            error_count=0,
            success=True,
        )
        ids = store.save_feed_check(feed.id, upd, arts, "extracted")
        story_id = store.new_story_id(now)
        store.save_clustering([Membership(i, story_id) for i in ids], [], [], now)
    store.save_story(
        StoryUpdate(
            story_id=story_id,
            headline=headline,
            dek="Water reached the town at dawn.",
            first_reported=now - timedelta(minutes=30),
            last_reported=now,
            article_count=2,
            outlet_count=2,
            representative_article_id=None,
            outlets=("Outlet A", "Outlet B"),
            countries=("FR",),
            languages=("en",),
            sections=sections,
            places=(PARIS,),
            score=3.0,
            score_explanation="",
            breaking_since=now - timedelta(minutes=5) if breaking else None,
            breaking_until=now + timedelta(hours=6) if breaking else None,
            brief=None,
        ),
        now,
    )
    return story_id


class FakeResolver:
    """Host name -> addresses; never asks DNS."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.calls: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        if host not in self.answers:
            raise socket.gaierror(socket.EAI_NONAME, f"NXDOMAIN {host}")
        return list(self.answers[host])


class ConnectLog:
    """The Fetcher's connect hook: every (host, ip, port) it connected to."""

    def __init__(self) -> None:
        self.attempts: list[tuple[str, str, int]] = []

    def __call__(self, host: str, ip: str, port: int) -> None:
        self.attempts.append((host, ip, port))


@dataclass
class Inbox:
    """What the loopback SMTP server received: (envelope recipients, parsed message)."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, str]]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1; yields (inbox, smtp:// URL)."""
    inbox = Inbox()
    with socket.socket() as probe:  # a free port (aiosmtpd checks its own port by connecting)
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    ctl = Controller(inbox, hostname="127.0.0.1", port=port)
    ctl.start()
    try:
        yield inbox, f"smtp://127.0.0.1:{port}"
    finally:
        ctl.stop()
