"""The `--now` replay: the stream rebased on the present, never a time in the future,
the last article published exactly when the replay ends."""

from __future__ import annotations

import itertools
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest

from breakingon.sim.server import Newsroom
from breakingon.sim.stream import StreamArticle, rebase_on_now

T0 = datetime(2024, 3, 1, 6, 0, tzinfo=UTC)


def _articles(hours: int = 5) -> list[StreamArticle]:
    return [
        StreamArticle(
            id=f"n{i}",
            outlet=f"Outlet {i % 2}",
            domain=f"outlet{i % 2}.example",
            published=T0 + timedelta(hours=i),
            title=f"Harbour fire update number {i}",
            text="Firefighters fought a blaze at the harbour through the night. " * 8,
        )
        for i in range(hours + 1)
    ]


def test_rebase_keeps_the_gaps_and_ends_the_replay_at_the_last_article() -> None:
    wall = datetime(2026, 1, 1, 12, tzinfo=UTC)
    rows = _articles()
    shifted = rebase_on_now(list(reversed(rows)), speed=600.0, wall_now=wall)
    span = rows[-1].published - rows[0].published
    assert [a.id for a in shifted] == [a.id for a in rows]
    assert shifted[-1].published == wall + span / 600.0
    gaps = [b.published - a.published for a, b in itertools.pairwise(shifted)]
    assert gaps == [timedelta(hours=1)] * (len(rows) - 1)
    # replayed from `wall` at x600, the simulated clock starts span - span/600 back
    assert shifted[0].published == wall - (span - span / 600.0)
    with pytest.raises(ValueError, match="speed above 0"):
        rebase_on_now(rows, speed=0.0, wall_now=wall)


def test_now_replay_never_serves_the_future_and_ends_with_the_last_article() -> None:
    rows = _articles()
    span = rows[-1].published - rows[0].published
    speed = span.total_seconds() / 1.5  # the whole stream in 1.5 wall seconds
    made = datetime.now(UTC)
    with Newsroom(rows, speed=speed, now=True, feed_items=50) as room:
        assert room.replay_seconds == pytest.approx(1.5)
        last_seen: list[str] = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            before = datetime.now(UTC)
            assert room.clock.now() <= datetime.now(UTC)
            for feed in room.feeds:
                body = httpx.get(feed.rss_url).content
                for date in ET.fromstring(body).iter("pubDate"):
                    assert parsedate_to_datetime(date.text or "") <= datetime.now(UTC)
            last_seen = [i.findtext("title") or "" for f in room.feeds for i in _items(f.rss_url)]
            if len(last_seen) == len(rows) and before > made + timedelta(seconds=1.6):
                break
            time.sleep(0.1)
        assert len(last_seen) == len(rows)
        last = max(
            parsedate_to_datetime(d.text or "")
            for f in room.feeds
            for d in ET.fromstring(httpx.get(f.rss_url).content).iter("pubDate")
        )
        # the last article is published when the replay ends (pubDate has whole seconds)
        assert abs((last - (made + timedelta(seconds=1.5))).total_seconds()) < 1.5
        # once it has ended the clock reads the present
        assert abs((room.clock.now() - datetime.now(UTC)).total_seconds()) < 0.1


def _items(url: str) -> list[ET.Element]:
    return list(ET.fromstring(httpx.get(url).content).iter("item"))


def test_now_excludes_a_start_time_and_a_frozen_clock() -> None:
    with pytest.raises(ValueError, match="exclude"):
        Newsroom(_articles(), speed=60.0, now=True, start=T0)
    with pytest.raises(ValueError, match="speed above 0"):
        Newsroom(_articles(), speed=0.0, now=True)
