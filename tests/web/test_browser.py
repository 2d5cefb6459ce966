"""Browser tests: Debian's headless Chromium, driven by Playwright, against the real app
served by uvicorn on 127.0.0.1 (port 0) over a store filled through the Store API.

Opens the front page, a story, a section, a place, search and the status page, clicks a
citation marker through to its source, checks no script errors and no CSP violations, and
saves screenshots under test-artifacts/ (gitignored).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from webfill import Filled, fill_store, make_settings, serve_app

from breakingon.store import open_store
from breakingon.web import create_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Filled]]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('browser') / 'b.sqlite'}")
    filled = fill_store(store)
    try:
        with serve_app(
            create_app(make_settings(public_base_url="http://127.0.0.1"), store)
        ) as base:
            yield base, filled
    finally:
        store.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield b
        finally:
            b.close()


def test_reader_walks_through_the_site(browser: object, server: tuple[str, Filled]) -> None:
    base, filled = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None,
    )
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))

    page.goto(base + "/")
    assert page.locator("h1#top-h").inner_text() == "Top stories"
    assert page.locator(".breaking").is_visible()
    page.screenshot(path=str(ARTIFACTS / "front.png"), full_page=True)

    page.click("text=Earthquake strikes near Tokyo")
    page.wait_for_url(f"**/story/{filled.stories['quake']}")
    assert page.locator("h1#headline").inner_text() == "Earthquake strikes near Tokyo"
    page.screenshot(path=str(ARTIFACTS / "story.png"), full_page=True)
    marker = page.locator("a.cite").first
    href = marker.get_attribute("href")
    assert href and href.startswith("#src-")
    marker.click()
    assert page.url.endswith(href)
    target = page.locator(f"li{href}")
    assert "highlight" in (target.get_attribute("class") or "")  # progressive enhancement
    source = target.locator("a.source-link")
    assert source.get_attribute("href") == "https://nhk.example/news/quake"
    assert source.get_attribute("rel") == "noopener noreferrer"
    page.screenshot(path=str(ARTIFACTS / "story-citation.png"))

    for name, path, needle in (
        ("section", "/section/world", "Earthquake strikes near Tokyo"),
        ("place", "/place/2988507", "Paris council approves budget"),
        ("search", "/search?q=aftershocks", "<mark>Aftershocks</mark> rattle Tokyo"),
        ("status", "/status", "Failing or stopped feeds"),
        ("evil", f"/story/{filled.stories['evil']}", "onerror=alert(1)"),
    ):
        page.goto(base + path)
        assert needle in page.content(), name
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    page.goto(base + "/")
    page.screenshot(path=str(ARTIFACTS / "front-mobile.png"), full_page=True)
    context.close()
    assert problems == []


# Characters per line of an element: its content width over the mean advance of a
# character of English prose in the element's own font (canvas text metrics).
_MEASURE_JS = """
(el) => {
  const cs = getComputedStyle(el);
  const ctx = document.createElement("canvas").getContext("2d");
  ctx.font = `${cs.fontStyle} ${cs.fontWeight} ${cs.fontSize} ${cs.fontFamily}`;
  const sample = "The council approved its budget on Tuesday after a long debate, " +
    "and officials said the new rules would take effect in the spring of next year.";
  const perChar = ctx.measureText(sample).width / sample.length;
  const width = el.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight);
  return {chars: width / perChar, lineHeight: parseFloat(cs.lineHeight) / parseFloat(cs.fontSize)};
}
"""
_OVERFLOW_JS = "() => document.documentElement.scrollWidth - window.innerWidth"


def test_story_page_has_a_readable_measure_on_desktop_and_phone(
    browser: object, server: tuple[str, Filled]
) -> None:
    base, filled = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    story = f"{base}/story/{filled.stories['quake']}"
    page.goto(base + "/")
    page.screenshot(path=str(ARTIFACTS / "front-desktop.png"), full_page=True)
    page.goto(story)
    page.screenshot(path=str(ARTIFACTS / "story-desktop.png"), full_page=True)
    body = page.locator(".brief section p").first
    m = body.evaluate(_MEASURE_JS)
    assert 55 <= m["chars"] <= 80, m  # about 70 characters a line, never ~150
    assert 1.4 <= m["lineHeight"] <= 1.8, m
    assert page.locator(".brief .dek").evaluate(_MEASURE_JS)["chars"] <= 80
    # The timeline sits beside the brief on a wide screen.
    brief_box = page.locator("article.brief").bounding_box()
    side_box = page.locator(".story-side").bounding_box()
    assert brief_box and side_box and side_box["x"] > brief_box["x"] + brief_box["width"]

    page.set_viewport_size({"width": 390, "height": 844})  # a phone
    for name, path in (
        ("story-phone", story),
        ("story-phone-evil", f"{base}/story/{filled.stories['evil']}"),
        ("front-phone", base + "/"),
        ("changes-phone", f"{story}/changes"),
        ("search-phone", base + "/search?q=tokyo"),
        ("section-phone", base + "/section/world"),
    ):
        page.goto(path)
        assert page.evaluate(_OVERFLOW_JS) <= 0, f"{name} scrolls sideways at 390 px"
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        if name == "story-phone":
            m = page.locator(".brief section p").first.evaluate(_MEASURE_JS)
            assert 30 <= m["chars"] <= 80, m
            # Stacked: the timeline below the sources, the brief the full width.
            assert (
                page.locator(".story-side").bounding_box()["y"]
                > page.locator(".sources").bounding_box()["y"]
            )
    context.close()
