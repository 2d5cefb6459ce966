"""Paged listings with real rendering: counts, page links, bad page numbers, and search
results with the terms highlighted (and everything else escaped)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from webfill import XSS, Filled, fill_store, make_settings

from breakingon.records import Article
from breakingon.store import Store, open_store
from breakingon.store.base import FeedUpdate, Membership, StoryUpdate
from breakingon.web import create_app
from breakingon.web.paging import Pager

N_SPORTS = 65  # three pages of 30 (30, 30, 5)
HOSTILE_HEADLINE = "Cup <b>final</b> <script>alert('x')</script> & \"derby\" drama"


def _add_stories(store: Store, filled: Filled, headlines: list[str]) -> list[int]:
    """One-article "sports" stories from the Reuters feed, scores falling with the index."""
    now = filled.now
    arts = [
        Article(
            url=f"https://reuters.example/sport/{i}",
            title=h,
            text=f"{h}. The match ended late.",
            published=now - timedelta(minutes=5 + i),
            item_key=f"sport-{i}",
            language="en",
        )
        for i, h in enumerate(headlines)
    ]
    update = FeedUpdate(checked_at=now, next_check_at=now, interval_s=900, error_count=0)
    ids = store.save_feed_check(filled.feeds["Reuters"], update, arts, "extracted")
    out = []
    for i, (aid, h) in enumerate(zip(ids, headlines, strict=True)):
        sid = store.new_story_id(now)
        store.save_clustering([Membership(aid, sid)], [], [], now)
        store.save_story(
            StoryUpdate(
                story_id=sid,
                headline=h,
                dek="The match ended late.",
                first_reported=now - timedelta(minutes=5 + i),
                last_reported=now - timedelta(minutes=5 + i),
                article_count=1,
                outlet_count=1,
                representative_article_id=aid,
                outlets=("Reuters",),
                countries=("GB",),
                languages=("en",),
                sections=("sports",),
                places=(),
                score=100.0 - i,
                score_explanation="",
                breaking_since=None,
                breaking_until=None,
                brief=None,
            ),
            now,
        )
        out.append(sid)
    return out


@pytest.fixture(scope="module")
def paged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, list[int]]]:
    path: Path = tmp_path_factory.mktemp("paging") / "p.sqlite"
    store = open_store(f"sqlite:///{path}")
    try:
        filled = fill_store(store)
        headlines = [f"Match report number {i}" for i in range(N_SPORTS - 1)]
        ids = _add_stories(store, filled, [*headlines, HOSTILE_HEADLINE])
        with TestClient(create_app(make_settings(), store)) as client:
            yield client, ids
    finally:
        store.close()


def _story_links(html: str) -> list[str]:
    return re.findall(r'<h2><a href="(/story/\d+)">', html)


def test_section_pages_count_and_link_every_story_once(
    paged: tuple[TestClient, list[int]],
) -> None:
    client, ids = paged
    first = client.get("/section/sports").text
    assert f"{N_SPORTS} stories · showing 1–30 · page 1 of 3" in first
    assert 'href="/section/sports?page=2" rel="next">Next' in first
    assert 'aria-current="page">1<' in first and 'href="/section/sports?page=3">3<' in first
    seen = _story_links(first)
    for n in (2, 3):
        html = client.get("/section/sports", params={"page": str(n)}).text
        assert f"page {n} of 3" in html
        assert f"<title>Sports (page {n})" in html
        seen += _story_links(html)
    assert "showing 61–65" in html and 'rel="next"' not in html
    assert 'href="/section/sports?page=2" rel="prev">Previous' in html
    # Every story of the section on exactly one page, in score order.
    assert seen == [f"/story/{i}" for i in ids]


def test_bad_page_numbers_are_a_clear_400_and_past_the_end_a_404(
    paged: tuple[TestClient, list[int]],
) -> None:
    client, _ = paged
    for path in ("/section/sports", "/place/1850147", "/search?q=match"):
        sep = "&" if "?" in path else "?"
        for bad in ("0", "-1", "abc", "1.5", "1e3", "99999999999999999999999", "10001", " "):
            r = client.get(f"{path}{sep}page={bad}")
            if bad == " ":  # blank is the first page
                assert r.status_code == 200, path
                continue
            assert r.status_code == 400, (path, bad)
            assert "text/html" in r.headers["content-type"]
            assert "Invalid page: expected a page number from 1 to 10,000" in r.text
        r = client.get(f"{path}{sep}page=99")
        assert r.status_code == 404 and "There is no page 99: this list has" in r.text, path
    assert client.get("/section/sports?page=3").status_code == 200


def test_place_pages_show_a_count(paged: tuple[TestClient, list[int]]) -> None:
    client, _ = paged
    html = client.get("/place/3017382").text  # France: the Paris story
    assert "1 story</p>" in html and "page 1 of" not in html and 'class="pager"' not in html


def test_search_counts_pages_and_highlights_terms(paged: tuple[TestClient, list[int]]) -> None:
    client, _ = paged
    html = client.get("/search", params={"q": "match report"}).text
    # 64 "Match report number N" stories and articles (the hostile one is no report).
    assert "64 stories and 64 articles match · page 1 of 4" in html
    assert re.search(
        r'<a href="/story/\d+"><mark>Match</mark> <mark>report</mark> number \d+</a>', html
    )
    assert "The <mark>match</mark> ended late." in html  # the dek too
    assert 'href="/search?q=match+report&amp;page=2" rel="next"' in html
    last = client.get("/search", params={"q": "match report", "page": "4"}).text
    assert "page 4 of 4" in last and last.count("<mark>Match</mark> <mark>report</mark>") == 8
    empty = client.get("/search", params={"q": "nosuchwordanywhere"}).text
    assert "0 stories and 0 articles match" in empty and "No matching stories." in empty


@pytest.mark.parametrize(
    "q",
    [
        "<script>alert(1)</script> derby",
        '"><mark onmouseover=alert(1)>derby',
        "derby </mark><script>x</script>",
        "final <b>",
        XSS,
    ],
)
def test_highlighting_never_injects_markup(paged: tuple[TestClient, list[int]], q: str) -> None:
    client, _ = paged
    r = client.get("/search", params={"q": q})
    assert r.status_code == 200
    html = r.text
    main = html[html.index("<main") : html.index("</main>")]
    # The only tags in the results are the page's own; <mark> holds words only.
    for m in re.finditer(r"<mark>(.*?)</mark>", main):
        assert re.fullmatch(r"\w+", m.group(1)), m.group(0)
    assert (
        "<script" not in main
        and "<b>" not in main
        and "onmouseover=" not in main.replace("onmouseover=alert(1)&gt;", "")
    )
    assert "<img" not in main


def test_a_stored_hostile_headline_is_escaped_around_the_marks(
    paged: tuple[TestClient, list[int]],
) -> None:
    client, _ = paged
    html = client.get("/search", params={"q": "derby final"}).text
    assert (
        "Cup &lt;b&gt;<mark>final</mark>&lt;/b&gt; &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        " &amp; &#34;<mark>derby</mark>&#34; drama"
    ) in html


def test_pager_links_keep_the_query_and_fold_far_pages() -> None:
    p = Pager(page=7, size=10, total=200, path="/search", query=(("q", "a&b c"),))
    assert p.pages == 20 and p.offset == 60 and (p.first_item, p.last_item) == (61, 70)
    shown = [link.n for link in p.links()]
    assert shown == [1, None, 5, 6, 7, 8, 9, None, 20]
    assert p.href(1) == "/search?q=a%26b+c" and p.href(2) == "/search?q=a%26b+c&page=2"
    assert Pager(1, 30, 0, "/section/world").links() == []
    assert Pager(1, 30, 0, "/section/world").exists and not Pager(2, 30, 30, "/x").exists
