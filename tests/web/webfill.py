"""Test data for the web tests: a store filled through the Store API.

`fill_store` writes outlets, feeds, articles, stories with cited briefs (two versions for
one story), places, sections, a merged story, trends, runs and a failing feed, plus one
story whose every field carries hostile markup (script tags, template syntax and
`javascript:` URLs that pages and feeds must escape or drop).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from breakingon.records import (
    Article,
    Brief,
    BriefSection,
    BriefSentence,
    Citation,
    Feed,
    Outlet,
    Place,
)
from breakingon.settings import Settings
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import Store
from breakingon.store.base import FeedUpdate, Membership, StoryUpdate, Trend
from breakingon.story.headline import brief_dek

XSS = "\"><img src=x onerror=alert(1)> {{7*7}} <script>alert('x')</script> &quot;"
JS_URL = "javascript:alert(1)"
ADMIN_TOKEN = "test-admin-token-0123456789"
BASE = "https://news.example.org"

PARIS = Place(2988507, "Paris", "FR", "city", 48.85, 2.35, 0.9)
FRANCE = Place(3017382, "France", "FR", "country", 46.0, 2.0, 0.5)
TOKYO = Place(1850147, "Tokyo", "JP", "city", 35.69, 139.69, 0.9)
EVIL_PLACE = Place(5128581, XSS, "US", "city", 40.71, -74.0, 0.8)


@dataclass
class Filled:
    now: datetime
    stories: dict[str, int] = field(default_factory=dict)
    articles: dict[str, list[int]] = field(default_factory=dict)
    feeds: dict[str, int] = field(default_factory=dict)
    outlets: dict[str, int] = field(default_factory=dict)


OUTLETS = [
    # name, domain, country, language, ownership
    ("Reuters", "reuters.example", "GB", "en", "private"),
    ("Le Monde", "lemonde.example", "FR", "fr", "private"),
    ("NHK", "nhk.example", "JP", "ja", "public"),
    (XSS, "evil.example", "US", "en", "state"),
]


def _sentence(text: str, *article_ids: int) -> BriefSentence:
    return BriefSentence(text, tuple(Citation(str(a)) for a in article_ids))


def fill_store(store: Store, now: datetime | None = None) -> Filled:
    """Fill `store` through its public API with a small realistic newsroom."""
    now = now or datetime.now(UTC).replace(microsecond=0)
    filled = Filled(now=now)
    for name, domain, country, lang, ownership in OUTLETS:
        url = f"https://{domain}/rss.xml"
        feed, _ = store.add_feed(
            Feed(url=url, outlet=name, country=country, language=lang, sections=("world",)),
            feed_url_key(url),
        )
        assert feed.id is not None and feed.source_id is not None
        store.upsert_outlet(
            Outlet(name=name, homepage=f"https://{domain}/", country=country, ownership=ownership)
        )
        filled.feeds[name] = feed.id
        filled.outlets[name] = feed.source_id

    def add_articles(outlet: str, items: list[tuple[str, str, str, datetime]]) -> list[int]:
        feed_id = filled.feeds[outlet]
        arts = [
            Article(
                url=url,
                title=title,
                text=text,
                summary=text[:200],
                published=published,
                item_key=url + title,
                language="en",
                authors=("Jane Doe",),
            )
            for title, text, url, published in items
        ]
        update = FeedUpdate(
            checked_at=now,
            next_check_at=now + timedelta(minutes=15),
            interval_s=900,
            error_count=0,
            success=True,
        )
        return store.save_feed_check(feed_id, update, arts, "extracted")

    def story(
        key: str,
        headline: str,
        dek: str,
        members: list[tuple[str, str, str, str, datetime]],
        sections: tuple[str, ...],
        places: tuple[Place, ...],
        score: float,
        breaking: bool = False,
        brief_of: object = None,
    ) -> int:
        ids: list[int] = []
        outlets: list[str] = []
        for outlet, title, text, url, published in members:
            ids += add_articles(outlet, [(title, text, url, published)])
            if outlet not in outlets:
                outlets.append(outlet)
        sid = store.new_story_id(now)
        store.save_clustering([Membership(a, sid, 0.9, "test") for a in ids], [], [], now)
        brief = brief_of(ids) if callable(brief_of) else None
        if brief is not None and brief.dek:
            # What the story stage stores: the brief's dek but the sentence the headline
            # repeats.
            dek = brief_dek(brief.dek, headline)
        store.save_story(
            StoryUpdate(
                story_id=sid,
                headline=headline,
                dek=dek,
                first_reported=min(m[4] for m in members),
                last_reported=max(m[4] for m in members),
                article_count=len(ids),
                outlet_count=len(outlets),
                representative_article_id=ids[0],
                outlets=tuple(outlets),
                countries=tuple(sorted({c for n, _, c, _, _ in OUTLETS if n in outlets})),
                languages=("en", "fr"),
                sections=sections,
                places=places,
                score=score,
                score_explanation=f"{len(outlets)} outlets in the last 3 hours",
                breaking_since=now - timedelta(minutes=20) if breaking else None,
                breaking_until=now + timedelta(hours=2) if breaking else None,
                brief=brief,
            ),
            now,
        )
        filled.stories[key] = sid
        filled.articles[key] = ids
        return sid

    t0 = now - timedelta(hours=3)

    def quake_brief(ids: list[int]) -> Brief:
        return Brief(
            headline="Earthquake strikes near Tokyo",
            dek=(
                _sentence(
                    "A magnitude 6.1 earthquake struck near Tokyo on Monday.", ids[0], ids[1]
                ),
            ),
            sections=(
                BriefSection(
                    "What happened",
                    (_sentence("Trains were halted across the capital region.", ids[1]),),
                ),
                BriefSection(
                    "Reactions",
                    (
                        _sentence(
                            '"We are checking for damage," the chief cabinet secretary said.',
                            ids[2],
                        ),
                    ),
                ),
            ),
            credits=("Reuters", "NHK", "Le Monde"),
        )

    quake = story(
        "quake",
        "Earthquake strikes near Tokyo",
        "A strong quake hit the Tokyo region.",
        [
            (
                "NHK",
                "Strong earthquake hits Tokyo",
                "A magnitude 6.1 earthquake struck near Tokyo on Monday. Trains stopped.",
                "https://nhk.example/news/quake",
                t0,
            ),
            (
                "Reuters",
                "Quake of magnitude 6.1 jolts Tokyo",
                "Trains were halted across the capital region after the quake.",
                "https://reuters.example/world/quake",
                t0 + timedelta(minutes=10),
            ),
            (
                "Le Monde",
                "Séisme près de Tokyo",
                '"We are checking for damage," the chief cabinet secretary said.',
                "https://lemonde.example/monde/seisme",
                t0 + timedelta(minutes=25),
            ),
        ],
        ("world", "science"),
        (TOKYO,),
        9.5,
        breaking=True,
        brief_of=quake_brief,
    )
    # A second brief version: the story developed.
    ids = filled.articles["quake"]
    extra = add_articles(
        "Reuters",
        [
            (
                "Aftershocks rattle Tokyo",
                "Two aftershocks followed the earthquake near Tokyo.",
                "https://reuters.example/world/aftershocks",
                now - timedelta(minutes=30),
            )
        ],
    )
    store.save_clustering([Membership(extra[0], quake, 0.9, "test")], [], [], now)
    ids = [*ids, *extra]
    filled.articles["quake"] = ids
    v2 = quake_brief(ids)
    v2 = Brief(
        headline=v2.headline,
        dek=v2.dek,
        sections=(
            *v2.sections,
            BriefSection(
                "What comes next",
                (_sentence("Two aftershocks followed the earthquake near Tokyo.", extra[0]),),
            ),
        ),
        credits=v2.credits,
    )
    s = store.get_story(quake)
    assert s is not None
    store.save_story(
        StoryUpdate(
            story_id=quake,
            headline=s.headline,
            dek=s.dek,
            first_reported=s.first_reported,
            last_reported=now - timedelta(minutes=30),
            article_count=4,
            outlet_count=3,
            representative_article_id=ids[0],
            outlets=s.outlets,
            countries=s.countries,
            languages=s.languages,
            sections=s.sections,
            places=s.places,
            score=9.6,
            score_explanation="3 outlets in 3 countries in the last 3 hours",
            breaking_since=now - timedelta(minutes=20),
            breaking_until=now + timedelta(hours=2),
            brief=v2,
        ),
        now + timedelta(seconds=1),
    )

    def paris_brief(ids: list[int]) -> Brief:
        return Brief(
            headline="Paris council approves budget",
            dek=(_sentence("The Paris council approved its budget on Tuesday.", ids[0], ids[1]),),
            sections=(),
            credits=("Le Monde", "Reuters"),
        )

    story(
        "paris",
        "Paris council approves budget",
        "The council voted late on Tuesday.",
        [
            (
                "Le Monde",
                "Le budget de Paris adopté",
                "The Paris council approved its budget on Tuesday.",
                "https://lemonde.example/paris/budget",
                t0 + timedelta(hours=1),
            ),
            (
                "Reuters",
                "Paris approves budget",
                "The Paris council approved its budget on Tuesday after a long debate.",
                "https://reuters.example/paris/budget",
                t0 + timedelta(hours=1, minutes=5),
            ),
        ],
        ("politics",),
        (PARIS, FRANCE),
        5.0,
        brief_of=paris_brief,
    )

    def evil_brief(ids: list[int]) -> Brief:
        return Brief(
            headline=XSS,
            dek=(BriefSentence(XSS, (Citation(str(ids[0]), XSS, JS_URL),)),),
            sections=(BriefSection(XSS, (_sentence(XSS, ids[0]),)),),
            credits=(XSS,),
        )

    story(
        "evil",
        XSS,
        XSS,
        [(XSS, XSS, XSS, JS_URL, t0 + timedelta(hours=2))],
        ("technology", XSS),
        (EVIL_PLACE,),
        3.0,
        brief_of=evil_brief,
    )
    # Two stories that the clusterer later merged: /story/OLD must lead to /story/NEW.
    story(
        "merged_into",
        "Chip makers report earnings",
        "Results beat forecasts.",
        [
            (
                "Reuters",
                "Chip earnings beat forecasts",
                "Chip makers reported strong results.",
                "https://reuters.example/tech/chips",
                t0,
            )
        ],
        ("business", "technology"),
        (),
        4.0,
    )
    old = story(
        "merged_from",
        "Chip earnings",
        "Results.",
        [
            (
                "NHK",
                "Chip results",
                "Chip makers reported results.",
                "https://nhk.example/tech/chips",
                t0,
            )
        ],
        ("business",),
        (),
        1.0,
    )
    store.save_clustering([], [], [(old, filled.stories["merged_into"])], now)

    store.save_trends(
        [
            Trend("earthquake", 12.0, (quake,), now),
            Trend(XSS, 3.0, (filled.stories["evil"],), now),
        ]
    )
    run = store.start_run("crawl", "worker-1", now - timedelta(minutes=5))
    store.finish_run(run, now, {"feeds": 4, "articles": 9}, error=None)
    run2 = store.start_run("crawl", "worker-2", now - timedelta(minutes=2))
    store.finish_run(run2, now, {"feeds": 1}, error=XSS)
    # A failing feed for the status and outlet pages.
    store.save_feed_check(
        filled.feeds["NHK"],
        FeedUpdate(
            checked_at=now,
            next_check_at=now + timedelta(hours=1),
            interval_s=3600,
            error_count=3,
            last_error=f"timeout {XSS}",
            success=False,
        ),
        [],
        "extracted",
    )
    return filled


def make_settings(**overrides: object) -> Settings:
    values: dict[str, object] = {
        "public_base_url": BASE,
        "admin_token": ADMIN_TOKEN,
        "rate_limit_per_min": 100_000,
        "search_rate_limit_per_min": 100_000,
        "site_name": "Test Wire",
        "site_about": "Test Wire gathers reporting from test outlets.",
        "site_copyright": "© Test Wire contributors",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


class FakeResolver:
    """Maps host names to addresses without DNS; records every lookup."""

    def __init__(self, table: dict[str, list[str]] | None = None) -> None:
        self.table = table or {}
        self.lookups: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.lookups.append(host)
        return self.table.get(host, ["93.184.215.14"])


@contextmanager
def serve_app(app: object) -> Iterator[str]:
    """Serve an ASGI app with a real uvicorn on 127.0.0.1 (port 0) in a thread; yield
    its base URL and stop the server afterwards."""
    import uvicorn

    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=0,
        log_level="warning",
        access_log=False,
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    port = srv.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(10)
