"""/status in Chromium at phone and desktop width: the table headers stay whole words
(one line each, never broken mid-word) while long URLs and errors in the cells wrap."""

from __future__ import annotations

from typing import Any

import pytest
from test_browser import browser, server
from webfill import Filled

pytestmark = pytest.mark.browser
__all__ = ["browser", "server"]

LINES = """() => [...document.querySelectorAll('.status-table th')].map(th => {
  const r = document.createRange(); r.selectNodeContents(th);
  const tops = new Set([...r.getClientRects()].map(x => Math.round(x.top)));
  return [th.textContent, tops.size, th.scrollWidth <= th.clientWidth + 1];
})"""


@pytest.mark.parametrize("width", [390, 1280])
def test_status_table_headers_never_break_mid_word(
    browser: Any, server: tuple[str, Filled], width: int
) -> None:
    base, _ = server
    page = browser.new_page(viewport={"width": width, "height": 900})
    try:
        page.goto(f"{base}/status")
        heads = page.evaluate(LINES)
        assert {h[0] for h in heads} >= {"Outlet", "Feed", "Errors", "Last success", "Kind"}
        broken = [h for h in heads if h[1] != 1 or not h[2]]
        assert broken == [], f"headers broken at {width}px: {broken}"
    finally:
        page.close()
