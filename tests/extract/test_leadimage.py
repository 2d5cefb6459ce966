"""The lead image URL of real-shaped article pages (and what is refused)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from breakingon.extract.article import extract_article
from breakingon.extract.leadimage import lead_image_url, usable_image_url
from breakingon.sim.page import OutletChrome, render_article_page

PAGE = "https://news.example/2025/02/10/harbour-plan.html"
BODY = "<p>" + "The harbour council met on Monday to approve the new budget plan. " * 8 + "</p>"


def _page(head: str = "", article: str = "") -> str:
    return (
        f"<!doctype html><html><head><title>Harbour plan</title>{head}</head><body>"
        '<header><img src="/static/logo.png" width="120" height="40"></header>'
        f"<main><article><h1>Harbour plan</h1>{article}{BODY}</article>"
        '<article class="card"><figure><img src="/related/other.jpg" width="320"></figure>'
        "</article></main></body></html>"
    )


def test_og_image_wins_and_is_resolved_against_the_page() -> None:
    html = _page(
        '<meta property="og:image" content="/img/harbour.jpg">'
        '<meta name="twitter:image" content="https://cdn.example/tw.jpg">'
    )
    assert lead_image_url(html, PAGE) == "https://news.example/img/harbour.jpg"


def test_twitter_then_json_ld_then_the_first_figure_of_the_article() -> None:
    tw = _page('<meta name="twitter:image" content="https://cdn.example/tw.jpg">')
    assert lead_image_url(tw, PAGE) == "https://cdn.example/tw.jpg"
    ld = _page(
        '<script type="application/ld+json">{"@context":"https://schema.org",'
        '"@type":"NewsArticle","headline":"Harbour plan","image":{"@type":"ImageObject",'
        '"url":"https://cdn.example/ld.jpg","width":1200,"height":675}}</script>'
    )
    assert lead_image_url(ld, PAGE) == "https://cdn.example/ld.jpg"
    fig = _page(article='<figure><img src="photos/lead.jpg" width="1200"></figure>')
    assert lead_image_url(fig, PAGE) == "https://news.example/2025/02/10/photos/lead.jpg"
    # The related-story card's figure is never the report's image; nor is the logo.
    assert lead_image_url(_page(), PAGE) == ""


@pytest.mark.parametrize(
    "url",
    [
        "data:image/png;base64,iVBORw0KGgo=",
        "javascript:alert(1)",
        "ftp://news.example/a.jpg",
        "blob:https://news.example/1",
        "https://news.example/static/logo.png",
        "https://news.example/icons/share.png",
        "https://news.example/img/sprite-2x.png",
        "https://news.example/favicon.ico",
        "https://news.example/a/b/lead.svg",
        "https://pixel.example/track/1x1.gif",
        "https://news.example/",
    ],
)
def test_non_photographs_and_unsafe_schemes_are_refused(url: str) -> None:
    assert usable_image_url(url) == ""
    assert lead_image_url(_page(f'<meta property="og:image" content="{url}">'), PAGE) == ""


def test_slugs_that_contain_the_words_are_still_photographs() -> None:
    for url in (
        "https://news.example/pixel-9-review/hero.jpg",
        "https://news.example/2025/icons-of-jazz/lead-photo.jpg",
        "https://news.example/img/logan-airport.jpg",
    ):
        assert usable_image_url(url) == url


def test_declared_tiny_sizes_are_tracking_pixels() -> None:
    pixel = _page(
        '<meta property="og:image" content="https://ads.example/p.gif">'
        '<meta property="og:image:width" content="1"><meta property="og:image:height" content="1">'
    )
    assert lead_image_url(pixel, PAGE) == ""
    tiny_fig = _page(article='<figure><img src="/t.jpg" width="1" height="1"></figure>')
    assert lead_image_url(tiny_fig, PAGE) == ""


def test_hostile_markup_gives_no_image_and_no_crash() -> None:
    assert lead_image_url(b"\x00\x01\x02", PAGE) == ""
    assert lead_image_url("", PAGE) == ""
    assert lead_image_url("<" * 10_000, PAGE) == ""
    broken_ld = _page('<script type="application/ld+json">{"image": [</script>')
    assert lead_image_url(broken_ld, PAGE) == ""


def test_extraction_of_a_simulator_page_carries_its_lead_image() -> None:
    chrome = OutletChrome("Harbour Times", "http://127.0.1.1:8080/")
    url = "http://127.0.1.1:8080/2025/02/10/harbour-plan-a1.html"
    image = "http://127.0.1.1:8080/img/a1.jpg"
    html = render_article_page(
        chrome,
        url=url,
        title="Harbour plan approved",
        author="Ann Lee",
        published=datetime(2025, 2, 10, 8, 0, tzinfo=UTC),
        section="world",
        paragraphs=[BODY[3:-4]] * 3,
        related=[],
        image=image,
    )
    assert extract_article(html, url).image == image
    without = render_article_page(
        chrome,
        url=url,
        title="Harbour plan approved",
        author="Ann Lee",
        published=datetime(2025, 2, 10, 8, 0, tzinfo=UTC),
        section="world",
        paragraphs=[BODY[3:-4]] * 3,
        related=[],
    )
    assert extract_article(without, url).image == ""
