"""Non-article pages: crafted interstitials are recognised, real news is not."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from breakingon.extract.pagekind import non_article_kind
from breakingon.pipeline.pagework import merge_extraction
from breakingon.records import EXTRACTED, Article, Extracted, Extraction

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
REPORT = (
    "The city council voted on Tuesday to close the riverside car park from March, "
    "after a two-hour debate in which residents argued for and against the plan. "
) * 12


@pytest.mark.parametrize(
    ("title", "text", "kind"),
    [
        ("", "You need to enable JavaScript to view this page.", "javascript wall"),
        (
            "Before you continue",
            "We use cookies and data to deliver our services. Accept all cookies or manage "
            "your privacy settings.",
            "cookie consent",
        ),
        (
            "",
            "This video is unavailable. Autoplay is paused. Try again later.",
            "media player",
        ),
        (
            "Add a location to your Tweets",
            "When you tweet with a location, the location is stored with your Tweets.",
            "social widget",
        ),
        (
            "",
            "Pages in this collection come from a web crawl of news sites; captures are added "
            "to the Wayback Machine after a delay.",
            "crawl notice",
        ),
        (
            "Shop now",
            "Add to cart. Free shipping on orders over $50. Log into your account to check out.",
            "shop page",
        ),
    ],
)
def test_interstitials_are_not_articles(title: str, text: str, kind: str) -> None:
    assert non_article_kind(title, text) == kind


def test_two_kinds_in_a_short_page_is_a_wall() -> None:
    text = "Subscribe now to continue reading. Already a subscriber? " + "Sign in. " * 3
    text += "We use cookies to improve your experience. " + "More about our offers. " * 60
    assert non_article_kind("", text) == "cookie consent, paywall"


def test_news_that_mentions_web_words_is_an_article() -> None:
    cookies = "Regulators fined the site because it used cookies without consent. " + REPORT
    archive = (
        "The Internet Archive said on Monday that its Wayback Machine now holds a trillion "
        "pages. " + REPORT
    )
    assert non_article_kind("Regulator fines news site", cookies) == ""
    assert non_article_kind("Archive reaches a trillion pages", archive) == ""
    assert non_article_kind("Council closes car park", REPORT) == ""


def test_a_short_page_that_keeps_to_one_kind_is_that_kind() -> None:
    notice = (
        "Crawl of outlinks from a wiki, started March 2016. These files are not public. "
        "The seed list for this crawl was built from all the wikis; the crawler respected "
        "robots.txt. " + "Duplicate detection was off for this collection. " * 8
    )
    assert non_article_kind("Crawl of outlinks from a wiki", notice) == "crawl notice"
    # a report that names the kind's words once or twice stays an article
    mention = "Students held a pub crawl on Friday to raise money for the shelter. " * 8
    assert non_article_kind("Students raise money", mention) == ""


def test_a_list_of_cut_teasers_is_an_index_page_whatever_its_length() -> None:
    teasers = (
        "A new study found workplace incivility can affect an employee's sleep but their "
        "partner's as ... Less data-sharing among firms can lead to more collusion, "
        "economists ... Men with dyslexia have altered connections in the brain, new "
        "research ... Teachers' workloads are harming their mental health, a survey ... "
    )
    assert non_article_kind("Science news", teasers + REPORT) == "teaser list"
    # one quote cut short is reporting, not an index
    quoted = 'She said the plan was "a start ... We need more," and left. ' + REPORT
    assert non_article_kind("Council closes car park", quoted) == ""


def test_an_interstitial_extraction_falls_back_to_the_feed_text() -> None:
    feed_text = "The council voted to close the car park. " * 8
    art = Article(url="https://a.example/1", title="Car park", text=feed_text, published=T0)
    wall = Extracted(
        url=art.url,
        text="Please enable JavaScript. Verify you are human to continue. " * 10,
    )
    out = merge_extraction(art, wall)
    assert out.extraction == Extraction.fallback("not_article")
    assert out.text == feed_text and out.published == T0
    real = Extracted(url=art.url, text=REPORT)
    assert merge_extraction(art, real).extraction == EXTRACTED


def test_no_real_article_of_the_shared_data_is_flagged(shared_data: Path) -> None:
    texts: list[tuple[str, str]] = []
    with (shared_data / "categories" / "bbc-dev.jsonl").open(encoding="utf-8") as fh:
        texts += [(r["title"], r["text"]) for r in map(json.loads, fh)]
    for name in ("ecbplus-dev", "newswcl50"):
        with (shared_data / "clustering" / f"{name}.jsonl").open(encoding="utf-8") as fh:
            texts += [(r["title"], r["text"]) for r in map(json.loads, fh)]
    for name in ("GeoWebNews.xml", "TR-News.xml"):
        root = etree.parse(str(shared_data / "geo" / name)).getroot()
        texts += [
            (a.findtext("title") or "", a.findtext("text") or "") for a in root.iter("article")
        ]
    truth = json.loads((shared_data / "extraction" / "aeb" / "ground-truth.json").read_text())
    texts += [("", v.get("articleBody") or "") for v in truth.values()]
    assert len(texts) > 3000
    flagged = [t[:60] for t in texts if non_article_kind(*t)]
    assert flagged == []


@pytest.mark.parametrize(
    "title",
    ["Most Popular Stories More>>", "Most read articles", "Skip to main content"],
)
def test_navigation_chrome_is_not_an_article(title: str) -> None:
    assert non_article_kind(title, "") == "navigation"
    assert non_article_kind(title, "Top News Sports Business Weather Opinion") == "navigation"
    # a report that says "most popular" is still a report
    assert non_article_kind("Baby names", "The most popular names this year were Olivia.") == ""
