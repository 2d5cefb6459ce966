"""A trend's language is stored and read back (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from breakingon.store import Store
from breakingon.store.base import Trend

T0 = datetime(2024, 5, 1, 12, tzinfo=UTC)


def test_trend_language_round_trip(store: Store) -> None:
    store.save_trends(
        [
            Trend("Merkel", 5.0, (1,), T0, "de"),
            Trend("Merkel", 4.0, (2,), T0, "en"),
            Trend("Quake", 3.0, (3,), T0),
        ]
    )
    got = [(t.term, t.language, t.story_ids) for t in store.get_trends()]
    assert got == [("Merkel", "de", (1,)), ("Merkel", "en", (2,)), ("Quake", "", (3,))]
