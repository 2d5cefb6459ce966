"""Article pages of the newsroom simulator, as heavy as real news pages.

A real news article page is mostly not the article: the median page of the
article-extraction benchmark (../shared/data/extraction/aeb) weighs about 119 KB
with about 770 elements and 30 KB of inline script, and its body is a few KB of it.
The extractor's cost follows that weight, so pages that carried only the body and a
little chrome would make extraction look five times cheaper than it is on the web.

This module builds that weight the way news sites do: a head with meta tags, inline
CSS, JSON-LD and analytics scripts; a mega-menu header with a breaking-news ticker;
the article (breadcrumb, headline, standfirst, byline, lead figure, body with
in-article promos and ad slots, share buttons, topic tags); a most-read sidebar and
a newsletter box; related-story cards; threaded comments; a five-column footer; a
cookie banner and trailing scripts. The chrome of an outlet is built once (seeded by
the outlet, so outlets differ) and cached; rendering a page only joins strings.
`bench/ingest` prints the weight of these pages beside that of the benchmark's pages.
"""

from __future__ import annotations

import hashlib
import html
import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from breakingon.tag.sections import SECTIONS

# The outlet's menu: the project's own sections, plus opinion.
_SECTIONS = (*SECTIONS, "opinion")
_SUBSECTIONS = (
    "latest",
    "analysis",
    "explainers",
    "video",
    "podcasts",
    "photos",
    "live",
    "interviews",
    "data",
    "newsletters",
    "archive",
    "in-depth",
)
_FOOTER_COLUMNS = (
    ("News", ("Home", "World", "Politics", "Business", "Technology", "Science")),
    ("Features", ("Long reads", "Interviews", "Photo essays", "Podcasts", "Video")),
    ("Services", ("Newsletters", "Apps", "Alerts", "Podcasts feed", "RSS feeds", "Archive")),
    ("Company", ("About us", "Careers", "Advertise", "Press office", "Contact us")),
    ("Legal", ("Terms of use", "Privacy policy", "Cookie settings", "Accessibility")),
)
_COMMENTS = (
    "Great reporting, thanks for keeping us informed.",
    "I don't agree with the framing of this piece at all.",
    "Does anyone know where to find the full statement?",
    "This is the third time this year. When will anyone be held to account?",
    "Thanks for the update, very clear.",
    "Can you add a map next time? Hard to follow where this happened.",
    "The headline says one thing and the article another.",
    "Sharing this with my family.",
)
_ICON = (
    '<svg class="icon" viewBox="0 0 24 24" aria-hidden="true">'
    '<path d="M{a} {b}h{c}v{d}H{a}z"></path></svg>'
)


@dataclass(frozen=True, slots=True)
class PageLink:
    """Another article of the outlet, for related cards and the most-read list."""

    url: str
    title: str
    summary: str
    published: datetime


def _icon(rng: random.Random) -> str:
    return _ICON.format(
        a=rng.randint(1, 9), b=rng.randint(1, 9), c=rng.randint(2, 14), d=rng.randint(2, 14)
    )


def _css(rng: random.Random) -> str:
    rules = []
    props = ("margin", "padding", "font-size", "line-height", "max-width", "gap", "top")
    for i in range(260):
        prop = rng.choice(props)
        rules.append(
            f".c{i:03d}-{rng.choice(_SECTIONS)}{{{prop}:{rng.randint(0, 48)}px;"
            f"color:#{rng.randrange(0x1000000):06x}}}"
        )
    return "".join(rules)


def _script(rng: random.Random, size: int) -> str:
    keys: list[str] = []
    total = 0
    while total < size:
        keys.append(
            f'"k{rng.randrange(10**6)}":{{"id":"{rng.randrange(16**12):012x}",'
            f'"w":{rng.randint(1, 999)},"on":{str(rng.random() < 0.5).lower()}}}'
        )
        total += len(keys[-1])
    return (
        "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}"
        f"var __cfg={{{','.join(keys)}}};"
        "(function(w,d){var s=d.createElement('script');s.async=true;"
        "w.__q=w.__q||[];for(var k in __cfg){if(__cfg[k].on){w.__q.push(k)}}})(window,document);"
    )


class OutletChrome:
    """The fixed parts of one outlet's pages, built once."""

    def __init__(self, name: str, root: str) -> None:
        # Seeded by the outlet's name, so its pages do not change with the port.
        seed = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big")
        rng = random.Random(seed)
        self.name = html.escape(name)
        self.root = root
        self.css = _css(rng)
        self.head_scripts = (
            f"<script>{_script(rng, 9000)}</script>"
            f'<script async src="{root}static/js/vendor.{rng.randrange(16**8):08x}.js"></script>'
            f"<script>{_script(rng, 6000)}</script>"
        )
        self.tail_scripts = (
            f"<script>{_script(rng, 8000)}</script>"
            f'<script src="{root}static/js/app.{rng.randrange(16**8):08x}.js" defer></script>'
            f"<script>{_script(rng, 5000)}</script>"
        )
        self.header = self._header(rng)
        self.footer = self._footer(rng)
        self.share = (
            '<div class="share-bar"><span>Share</span>'
            + "".join(
                f'<a class="share share-{n}" href="{root}share/{n}" aria-label="Share on {n}">'
                f"{_icon(rng)}</a>"
                for n in ("facebook", "x", "whatsapp", "linkedin", "email", "copy")
            )
            + "</div>"
        )
        self.newsletter = (
            '<div class="newsletter-box"><h3>The morning briefing</h3>'
            "<p>The day's top stories in your inbox every weekday morning.</p>"
            f'<form action="{root}newsletter" method="post"><label for="nl-email">Email'
            '</label><input id="nl-email" type="email" name="email" placeholder="you@example.com">'
            '<input type="hidden" name="list" value="morning"><button type="submit">Sign up'
            '</button></form><p class="small">By signing up you agree to our terms.</p></div>'
        )

    def _header(self, rng: random.Random) -> str:
        root = self.root
        menu = "".join(
            f'<li class="nav-item"><a href="{root}{s}/">{s.title()}</a>'
            '<ul class="submenu">'
            + "".join(
                f'<li><a href="{root}{s}/{sub}/">{sub.replace("-", " ").title()}</a></li>'
                for sub in _SUBSECTIONS
            )
            + "</ul></li>"
            for s in _SECTIONS
        )
        return (
            '<div class="skip"><a href="#main">Skip to content</a></div>'
            '<div class="top-bar"><span class="date-line">Today\'s edition</span>'
            '<span class="weather">Weather: 14° light rain</span>'
            f'<a href="{root}account/login">Sign in</a><a href="{root}subscribe">Subscribe</a>'
            "</div>"
            f'<header class="site-header"><a class="logo" href="{root}">{_icon(rng)}'
            f'<span class="logo-text">{self.name}</span></a>'
            f'<form class="search" action="{root}search" role="search"><label for="q">Search'
            '</label><input id="q" name="q" type="search"><button>Go</button></form>'
            f'<nav class="main-nav" aria-label="Sections"><ul class="menu">{menu}</ul></nav>'
            "</header>"
        )

    def _footer(self, rng: random.Random) -> str:
        root = self.root
        columns = "".join(
            f'<div class="footer-col"><h4>{title}</h4><ul>'
            + "".join(
                f'<li><a href="{root}{label.lower().replace(" ", "-")}">{label}</a></li>'
                for label in labels
            )
            + "</ul></div>"
            for title, labels in _FOOTER_COLUMNS
        )
        social = "".join(
            f'<a href="{root}follow/{n}" aria-label="{n}">{_icon(rng)}</a>'
            for n in ("facebook", "x", "instagram", "youtube", "tiktok", "linkedin")
        )
        return (
            f'<footer class="site-footer"><div class="footer-columns">{columns}</div>'
            f'<div class="social">{social}</div>'
            f'<p class="legal">© 2025 {self.name}. All rights reserved. Reproduction '
            "without permission is prohibited. Registered office: 1 Press Row.</p></footer>"
            '<div class="cookie-banner" role="dialog" aria-label="Cookies"><p>We and our '
            "partners use cookies to personalise content and ads, to provide social media "
            "features and to analyse our traffic.</p><button>Accept all</button>"
            "<button>Reject all</button><button>Manage options</button></div>"
            '<div class="modal" hidden><div class="modal-body"><h2>Subscribe</h2>'
            "<p>Unlimited access to all our journalism.</p><button>Start trial</button>"
            "</div></div>"
        )


def _ticker(root: str, links: Sequence[PageLink]) -> str:
    items = "".join(
        f'<li><a href="{html.escape(link.url)}">{html.escape(link.title)}</a></li>'
        for link in links[:5]
    )
    return f'<div class="ticker"><span class="label">Latest</span><ul>{items}</ul></div>'


def _card(link: PageLink, index: int) -> str:
    url = html.escape(link.url)
    return (
        f'<div class="col col-{index % 4}"><div class="card-wrap"><article class="card">'
        f'<div class="card-media"><a href="{url}" tabindex="-1"><figure class="thumb">'
        f'<picture><source srcset="{url}.webp" type="image/webp">'
        f'<img src="{url}.jpg" alt="" loading="lazy" width="320" height="180"></picture>'
        '</figure></a></div><div class="card-content"><div class="card-kicker">'
        '<span class="label">News</span></div>'
        f'<h3 class="card-title"><a href="{url}">{html.escape(link.title)}</a></h3>'
        f'<p class="card-summary">{html.escape(link.summary)}</p>'
        '<div class="card-meta">'
        f'<time datetime="{link.published.strftime("%Y-%m-%dT%H:%MZ")}">'
        f"{link.published.strftime('%d %b')}</time></div></div></article></div></div>"
    )


def render_article_page(
    chrome: OutletChrome,
    *,
    url: str,
    title: str,
    author: str,
    published: datetime,
    section: str,
    paragraphs: Sequence[str],
    related: Sequence[PageLink],
    image: str = "",
) -> str:
    """One article page: `paragraphs` are the body; everything else is chrome.

    `image`: the URL of the lead image (og:image, JSON-LD and the lead figure), or ""
    for a page without one."""
    root = chrome.root
    esc_title = html.escape(title)
    stamp = published.strftime("%Y-%m-%dT%H:%M:%SZ")
    author_url = f"{root}author/{author.lower().replace(' ', '-')}"
    ld = json.dumps(
        {
            "@context": "https://schema.org",
            "@type": "NewsArticle",
            "headline": title,
            "datePublished": stamp,
            "dateModified": stamp,
            "author": [{"@type": "Person", "name": author, "url": author_url}],
            "publisher": {"@type": "Organization", "name": html.unescape(chrome.name)},
            "mainEntityOfPage": url,
            **({"image": [image]} if image else {}),
            "articleSection": section,
        }
    ).replace("</", "<\\/")
    body: list[str] = []
    for i, paragraph in enumerate(paragraphs):
        body.append(f"<p>{html.escape(paragraph)}</p>")
        if i % 4 == 1 and related:
            link = related[(i // 4) % len(related)]
            body.append(
                '<aside class="read-more"><h4>Read more</h4>'
                f'<a href="{html.escape(link.url)}">{html.escape(link.title)}</a></aside>'
            )
        if i % 4 == 3:
            body.append(
                f'<div class="ad-slot" data-slot="inarticle-{i}"><div class="ad-label">'
                'Advertisement</div><div class="ad-container"></div></div>'
            )
    esc_url = html.escape(url)
    meta = (
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta name="description" content="{esc_title}">'
        f'<meta property="og:title" content="{esc_title}">'
        '<meta property="og:type" content="article">'
        f'<meta property="og:url" content="{esc_url}">'
        + (f'<meta property="og:image" content="{html.escape(image)}">' if image else "")
        + f'<meta property="og:site_name" content="{chrome.name}">'
        f'<meta property="article:published_time" content="{stamp}">'
        f'<meta property="article:section" content="{html.escape(section)}">'
        f'<meta name="author" content="{html.escape(author)}">'
        '<meta name="twitter:card" content="summary_large_image">'
        f'<meta name="twitter:title" content="{esc_title}">'
        f'<link rel="canonical" href="{esc_url}">'
        f'<link rel="alternate" type="application/rss+xml" href="{root}feed.rss">'
        f'<link rel="alternate" type="application/atom+xml" href="{root}feed.atom">'
        f'<link rel="preload" as="style" href="{root}static/css/main.css">'
        f'<link rel="stylesheet" href="{root}static/css/main.css">'
        f'<link rel="icon" href="{root}favicon.ico">'
    )
    comments = "".join(
        f'<div class="comment" id="c{i}"><div class="comment-meta"><span class="user">'
        f"reader{i}</span><time>{i} hours ago</time></div><p>{html.escape(text)}</p>"
        '<div class="comment-actions"><button>Reply</button><button>Like</button>'
        "<button>Report</button></div></div>"
        for i, text in enumerate(_COMMENTS, 1)
    )
    most_read = "".join(
        f'<li><a href="{html.escape(link.url)}"><span class="rank">{n}</span>'
        f"<span>{html.escape(link.title)}</span></a></li>"
        for n, link in enumerate(related[:10], 1)
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc_title} | {chrome.name}</title>{meta}"
        f"<style>{chrome.css}</style>"
        f'<script type="application/ld+json">{ld}</script>'
        f"{chrome.head_scripts}</head><body>"
        f"{chrome.header}{_ticker(root, related)}"
        '<div class="page"><main id="main">'
        f'<nav class="breadcrumb"><a href="{root}">Home</a> › '
        f'<a href="{root}{html.escape(section)}/">{html.escape(section.title())}</a></nav>'
        '<article class="story">'
        f'<h1 class="headline">{esc_title}</h1>'
        f'<div class="byline">By <a rel="author" href="{author_url}">'
        f'{html.escape(author)}</a> · <time datetime="{stamp}">'
        f"{published.strftime('%d %B %Y %H:%M')} UTC</time></div>"
        f"{chrome.share}"
        + (
            f'<figure class="lead-image"><img src="{html.escape(image)}" alt="" width="1200" '
            'height="675"><figcaption>Photograph: agency</figcaption></figure>'
            if image
            else ""
        )
        + f'<div class="article-body">{"".join(body)}</div>'
        f'<ul class="topics"><li><a href="{root}{html.escape(section)}/">'
        f"{html.escape(section.title())}</a></li>"
        f'<li><a href="{root}world/">World</a></li></ul>'
        "</article>"
        '<section class="related"><h2>Related stories</h2>'
        f"{''.join(_card(link, i) for i, link in enumerate(related))}</section>"
        '<section class="more-stories"><h2>More top stories</h2>'
        f"{''.join(_card(link, i) for i, link in enumerate(reversed(related)))}</section>"
        f'<section class="comments"><h2>Comments ({len(_COMMENTS)})</h2>{comments}'
        '<form class="comment-form"><textarea name="c"></textarea><button>Post</button>'
        "</form><p>Comments are moderated. Read our community guidelines.</p></section>"
        "</main>"
        f'<aside class="sidebar"><h2>Most read</h2><ol class="most-read">{most_read}</ol>'
        f'{chrome.newsletter}<div class="ad-slot" data-slot="sidebar"><div class="ad-label">'
        'Advertisement</div><div class="ad-container"></div></div></aside></div>'
        f"{chrome.footer}{chrome.tail_scripts}</body></html>\n"
    )
