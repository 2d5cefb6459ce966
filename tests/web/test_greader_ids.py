"""The Google Reader API's names for BreakingOn things, both ways, and item HTML."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from breakingon.records import Brief, BriefSentence, Citation, Story
from breakingon.store.base_accounts import ItemSource
from breakingon.web import greader_ids as ids
from breakingon.web.itemhtml import item_html

BASE = "https://news.example.org"


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("tag:google.com,2005:reader/item/000000000000002a", 42),
        ("000000000000002a", 42),
        ("42", 42),
        ("-1", None),  # 2**64 - 1: beyond any story id
        ("tag:google.com,2005:reader/item/2a", None),
        ("tag:google.com,2005:reader/item/zzzzzzzzzzzzzzzz", None),
        ("0", None),
        ("forty-two", None),
        ("9" * 30, None),
    ],
)
def test_item_ids(text: str, want: int | None) -> None:
    assert ids.parse_item_id(text) == want
    if want is not None:
        assert ids.parse_item_id(ids.item_id(want)) == want


def test_stream_ids_round_trip_and_refuse_nonsense() -> None:
    for kind, value in [
        ("top", ""),
        ("breaking", ""),
        ("section", "science"),
        ("place", "2988507"),
        ("outlet", "7"),
        ("search", "paris budget"),
        ("story", "12"),
    ]:
        sid = ids.stream_id(kind, value)  # type: ignore[arg-type]
        assert ids.parse_feed(sid) == (kind, value)
        assert ids.parse_target(sid).follow == (kind, value)
    assert ids.parse_feed("feed/breakingon:search/Paris%20Budget!") == ("search", "paris budget")
    assert ids.parse_target("user/1234/state/com.google/reading-list").all_follows
    assert ids.parse_target("user/-/state/com.google/starred").starred
    assert ids.parse_target("user/-/label/Places").kinds == ("place",)
    for bad in (
        "feed/http://example.com/rss",
        "feed/breakingon:section/knitting",
        "feed/breakingon:place/x",
        "feed/breakingon:story/0",
        "feed/breakingon:top/extra",
        "feed/breakingon:search/%21%21",
        "user/-/label/Nope",
    ):
        with pytest.raises(ids.BadStream):
            ids.parse_target(bad)


def test_site_urls_name_streams() -> None:
    assert ids.stream_for_url(f"{BASE}/", BASE) == ("top", "")
    assert ids.stream_for_url(f"{BASE}/feed.atom", BASE) == ("top", "")
    assert ids.stream_for_url("/section/world/feed.rss", BASE) == ("section", "world")
    assert ids.stream_for_url(f"{BASE}/story/5/changes", BASE) == ("story", "5")
    assert ids.stream_for_url(f"{BASE}/search?q=Vote+count", BASE) == ("search", "vote count")
    assert ids.stream_for_url("https://NEWS.example.org/outlet/3", BASE) == ("outlet", "3")
    for bad in ("https://evil.example/section/world", "http://news.example.org/", "/about", ""):
        with pytest.raises(ids.BadStream):
            ids.stream_for_url(bad, BASE)


def test_times_and_continuations() -> None:
    t = datetime(2026, 11, 1, 12, 0, 0, 123456, tzinfo=UTC)
    micros = ids.usec(t)
    assert ids.from_unix(micros) == t
    assert ids.from_unix(micros // 1000) == t.replace(microsecond=123000)
    assert ids.from_unix(micros // 1_000_000) == t.replace(microsecond=0)
    assert ids.parse_continuation(ids.continuation(t, 9)) == (t, 9)
    assert ids.parse_continuation(ids.continuation(None, 9)) == (None, 9)
    for bad in ("", "abc", "1_", "_1", "1_0", "1_x", "9" * 30 + "_1"):
        assert ids.parse_continuation(bad) is None


def test_item_html_escapes_and_keeps_only_web_links() -> None:
    t = datetime(2026, 11, 1, tzinfo=UTC)
    story = Story(id=1, headline="<b>H</b>", first_reported=t, last_reported=t, dek="dek")
    brief = Brief(
        headline="h",
        dek=(
            BriefSentence(
                "A <script>alert(1)</script> claim.",
                (Citation("10"), Citation("11", "Evil", "javascript:alert(1)")),
            ),
        ),
        sections=(),
        credits=(),
    )
    sources = (
        ItemSource(10, "Reuters", "Report <i>one</i>", "https://reuters.example/a"),
        ItemSource(11, 'E"vil', "x", "javascript:alert(1)"),
        ItemSource(12, "Reuters", "second Reuters report", "https://reuters.example/b"),
    )
    html = item_html(story, brief, sources, f"{BASE}/story/1")
    assert "<script" not in html and "javascript:" not in html and "<i>" not in html
    assert "A &lt;script&gt;alert(1)&lt;/script&gt; claim." in html
    assert html.count('href="https://reuters.example/a"') == 2  # the citation and the source
    assert "second Reuters report" not in html  # one source per outlet
    assert 'rel="noopener noreferrer nofollow"' in html and f'href="{BASE}/story/1"' in html
    plain = item_html(story, None, (), f"{BASE}/story/1")
    assert plain.startswith("<p>dek</p>")
