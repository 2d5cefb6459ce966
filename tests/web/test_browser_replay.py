"""Browser test on a database filled from the newsroom replay (not from fixtures).

The newsroom simulator serves a subset of ../shared/data/stream/newsroom-dev.jsonl on
loopback; the real pipeline (fetch, parse, extract, dedup, cluster, signals, briefs)
fills a SQLite store; the real site is served by uvicorn; Debian's Chromium, driven by
Playwright, opens the front page, a story with a brief, follows a citation to its source,
then a section, a place, search and the status page, saving screenshots.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from webfill import serve_app

from breakingon.pipeline import Pipeline
from breakingon.pipeline.poll import fetch_bytes
from breakingon.settings import Settings
from breakingon.sim.server import Newsroom
from breakingon.sim.stream import load_stream
from breakingon.sources.catalogue import feed_url_key, parse_opml
from breakingon.store import Store, open_store
from breakingon.store.base import StoryQuery
from breakingon.web import create_app

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
STREAM = ROOT.parent / "shared" / "data" / "stream" / "newsroom-dev.jsonl"
CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "browser-replay"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Replayed:
    base: str
    store: Store


def _subset() -> list:  # type: ignore[type-arg]
    """The articles of the 20 most covered stories (chosen with the stream's labels; the
    pipeline never sees them)."""
    articles = load_stream(STREAM)
    sizes = Counter(a.story for a in articles)
    keep = {s for s, _ in sizes.most_common(20)}
    return [a for a in articles if a.story in keep]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replayed]:
    if not STREAM.exists():
        pytest.skip("../shared/data is not beside this checkout")
    subset = _subset()
    db = tmp_path_factory.mktemp("replay") / "r.sqlite"
    settings = Settings(
        database_url=f"sqlite:///{db}",
        fetch_allow_networks=(ipaddress.ip_network("127.0.0.0/8"),),
        per_host_delay_s=0.0,
        public_base_url="http://127.0.0.1",
        rate_limit_per_min=0,
        site_name="Replay Wire",
    )
    store = open_store(settings.effective_database_url)
    last = max(a.published for a in subset)
    with Newsroom(subset, speed=0.0, start=last) as newsroom:
        data, error = fetch_bytes(settings, newsroom.opml_url)
        assert error is None, error
        store.add_feeds([(f, feed_url_key(f.url), None) for f in parse_opml(data)])
        pipeline = Pipeline(settings, store, clock=newsroom.clock.now)
        asyncio.run(pipeline.run(asyncio.Event(), once=True))
    assert store.stats()["articles"] == len(subset)
    try:
        with serve_app(create_app(settings, store)) as base:
            yield Replayed(base, store)
    finally:
        store.close()


def _assert_own_image(page: Any, img: Any) -> None:
    """The image loaded (naturalWidth > 0) from the site's own origin."""
    img.wait_for(state="attached")
    handle = img.element_handle()
    page.wait_for_function("(el) => el.complete && el.naturalWidth > 0", arg=handle)
    src_origin = page.evaluate("(el) => new URL(el.currentSrc || el.src).origin", handle)
    assert src_origin == page.evaluate("() => location.origin")


def test_reader_walks_the_replayed_site(replayed: Replayed) -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    store = replayed.store
    top = store.list_stories(StoryQuery(limit=50, min_outlets=2))
    with_brief = [s for s in top if store.get_brief(s.id) is not None]
    assert with_brief, "multi-outlet stories get briefs"
    story = with_brief[0]
    pictured = [s for s in store.list_stories(StoryQuery(limit=100)) if s.image is not None]
    assert pictured, "the image stage gave stories lead images from the simulator"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems: list[str] = []
        page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
        page.goto(replayed.base + "/")
        assert "Replay Wire" in page.content()
        thumbs = page.locator(".story-item .thumb img")
        assert thumbs.count() > 0, "front-page thumbnails"
        for i in range(min(thumbs.count(), 5)):
            thumbs.nth(i).scroll_into_view_if_needed()
            _assert_own_image(page, thumbs.nth(i))
        page.screenshot(path=str(ARTIFACTS / "front.png"), full_page=True)

        page.goto(f"{replayed.base}/story/{pictured[0].id}")
        lead = page.locator("figure.lead-image img")
        _assert_own_image(page, lead)
        credit = page.locator("figure.lead-image figcaption").inner_text()
        assert pictured[0].image is not None and pictured[0].image.credit in credit
        assert lead.get_attribute("alt")
        page.screenshot(path=str(ARTIFACTS / "story-image.png"), full_page=True)

        page.goto(f"{replayed.base}/story/{story.id}")
        assert story.headline[:30] in page.locator("h1").first.inner_text()
        page.screenshot(path=str(ARTIFACTS / "story.png"), full_page=True)
        marker = page.locator("a.cite").first
        href = marker.get_attribute("href")
        assert href and href.startswith("#src-")
        marker.click()
        source = page.locator(f"li{href} a.source-link")
        link = source.get_attribute("href")
        assert link and link.startswith("http://127.0.")
        # the citation leads to the outlet's article page on the newsroom (now stopped),
        # so check the link belongs to a stored article of this story
        urls = {a.url for a in store.story_articles(story.id)}
        assert link in urls
        page.screenshot(path=str(ARTIFACTS / "citation.png"))

        section = story.sections[0] if story.sections else "world"
        place = next((pl for s in top for pl in s.places), None)
        checks = [
            ("section", f"/section/{section}"),
            ("search", "/search?q=" + story.headline.split()[0]),
            ("status", "/status"),
        ]
        if place is not None:
            checks.append(("place", f"/place/{place.geonameid}"))
        for name, path in checks:
            resp = page.goto(replayed.base + path)
            assert resp is not None and resp.status == 200, name
            page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        browser.close()
    assert problems == []
    (ARTIFACTS / "summary.json").write_text(
        json.dumps({"stories": store.stats()["stories"], "story": story.id}), "utf-8"
    )
