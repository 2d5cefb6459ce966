"""Canonical URLs (tracking removed, sorted query) and alias keys (RELIABILITY C7)."""

from __future__ import annotations

import pytest

from breakingon.feeds.urls import alias_key, canonicalize_url


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("HTTP://News.Example.COM:80/a/b?b=2&a=1#frag", "http://news.example.com/a/b?a=1&b=2"),
        ("https://x.example:443/p", "https://x.example/p"),
        ("https://x.example:8443/p", "https://x.example:8443/p"),
        ("https://x.example", "https://x.example/"),
        (
            "https://x.example/s?utm_source=rss&utm_medium=feed&id=7&fbclid=1&gclid=2&mc_cid=3"
            "&mc_eid=4&ref=tw&cmpid=5&ocid=6&igshid=7",
            "https://x.example/s?id=7",
        ),
        ("  https://x.example/a b  ", "https://x.example/a%20b"),
        ("https://x.example/caf%C3%A9", "https://x.example/caf%C3%A9"),
        ("https://bücher.example/", "https://xn--bcher-kva.example/"),
        ("https://x.example./p", "https://x.example/p"),
    ],
)
def test_canonicalize(raw: str, canonical: str) -> None:
    assert canonicalize_url(raw) == canonical


def test_relative_resolution_and_schemes() -> None:
    assert (
        canonicalize_url("../b?x=1", base="https://x.example/a/c/d") == "https://x.example/a/b?x=1"
    )
    assert canonicalize_url("//cdn.example/p", base="https://x.example/") == "https://cdn.example/p"
    for bad in ("javascript:alert(1)", "mailto:a@b", "ftp://x/", "data:,x", "", "   ", "http://"):
        assert canonicalize_url(bad) == ""


def test_canonical_is_idempotent() -> None:
    url = "HTTPS://A.example:443/x/?z=1&utm_campaign=q&a=%20#top"
    once = canonicalize_url(url)
    assert canonicalize_url(once) == once


def test_alias_key_strips_scheme_host_and_slash() -> None:
    assert alias_key("http://news.example/2024/01/story") == "/2024/01/story"
    assert alias_key("https://www.news.example/2024/01/story/") == "/2024/01/story"
    assert alias_key("https://news.example/s?id=1&utm_source=x") == "/s?id=1"
    assert alias_key("tag:news.example,2024:1") == "tag:news.example,2024:1"
    assert alias_key("  12345 ") == "12345"
    assert alias_key("") == ""
