"""The trend bar and /api/trends say a term's language when it is not the site's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient
from webfill import BASE, FakeResolver, fill_store, make_settings

from breakingon.store import open_store
from breakingon.store.base import Trend
from breakingon.web import create_app


@pytest.fixture
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("trendlang") / "t.sqlite"
    store = open_store(f"sqlite:///{path}")
    try:
        filled = fill_store(store)
        now = datetime.now(UTC)
        sid = next(iter(filled.stories.values()))
        store.save_trends(
            [
                Trend("Bundestag", 9.0, (sid,), now, "de"),
                Trend("earthquake", 8.0, (sid,), now, "en"),
            ]
        )
        app = create_app(make_settings(), store, resolver=FakeResolver())
        with TestClient(app, base_url=BASE) as c:
            yield c
    finally:
        store.close()


def test_trend_bar_marks_a_term_in_another_language(client: TestClient) -> None:
    html = client.get("/").text
    bar = html[html.index('class="trending"') :]
    bar = bar[: bar.index("</nav>")]
    assert '<a href="/search?q=Bundestag" lang="de">Bundestag</a>' in bar
    assert '<span class="lang" title="in de">DE</span>' in bar
    assert '<a href="/search?q=earthquake">earthquake</a></li>' in bar  # the site's own


def test_api_trends_carry_the_language(client: TestClient) -> None:
    trends = client.get("/api/trends").json()["trends"]
    assert [(t["term"], t["language"]) for t in trends] == [
        ("Bundestag", "de"),
        ("earthquake", "en"),
    ]
