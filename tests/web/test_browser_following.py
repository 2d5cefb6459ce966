"""Browser test of following: Debian's headless Chromium, driven by Playwright, against
the real app served by uvicorn on 127.0.0.1. A reader signs in, follows a section from
its page, sees it on /following, and the /alerts page loads its script under the CSP
with no script error; a screenshot is saved under test-artifacts/ (gitignored)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from webfill import Filled, fill_store, make_settings, serve_app

from breakingon.accounts import hash_password
from breakingon.alerts.webpush import generate_vapid_keys
from breakingon.store import open_store
from breakingon.web import create_app

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Filled]]:
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('follow') / 'b.sqlite'}")
    filled = fill_store(store)
    assert store.add_user("alice", hash_password(PASSWORD), None, filled.now) is not None
    private, _ = generate_vapid_keys()
    settings = make_settings(
        public_base_url="http://127.0.0.1",
        vapid_private_key=private,
        vapid_subject="mailto:ops@news.example.org",
    )
    try:
        with serve_app(create_app(settings, store)) as base:
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


def test_sign_in_follow_a_section_and_see_it_on_following(
    browser: object, server: tuple[str, Filled]
) -> None:
    base, _ = server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"pageerror: {exc}"))
    page.on(
        "console",
        lambda msg: problems.append(f"console: {msg.text}") if msg.type == "error" else None,
    )

    page.goto(base + "/section/world")
    assert page.locator("form.follow-button").count() == 0  # anonymous: no button
    page.goto(base + "/signin?next=/section/world")
    page.fill("#name", "alice")
    page.fill("#password", PASSWORD)
    page.click("form.signin button[type=submit]")
    page.wait_for_url(base + "/section/world")
    assert "Signed in as alice" in page.locator("nav.account").inner_text()
    page.click("form.follow-button button")
    page.wait_for_url(base + "/section/world")
    assert page.locator("form.follow-button button").inner_text() == "Unfollow"

    page.click("nav.account >> text=Following")
    page.wait_for_url(base + "/following")
    followed = page.locator("section.followed h2 a")
    assert followed.count() == 1 and followed.inner_text() == "World"
    assert followed.get_attribute("href") == "/section/world"
    page.screenshot(path=str(ARTIFACTS / "following.png"), full_page=True)

    page.goto(base + "/alerts")
    assert page.locator("#push-on").is_visible()
    key = page.evaluate("() => document.getElementById('push').dataset.vapidKey")
    assert isinstance(key, str) and len(key) == 87
    page.click("nav.account form button")  # sign out
    page.wait_for_url(base + "/")
    assert page.locator("nav.account").count() == 0
    assert problems == [], problems
    context.close()
