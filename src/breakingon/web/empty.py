"""Why a page has nothing to show yet: one sentence for the reader of an empty front page
(no sources, no feed fetched, nothing clustered). Reads two cheap counts from the store;
called only while the page is empty."""

from __future__ import annotations

from breakingon.store.base import OpsStore


def why_no_stories(store: OpsStore) -> str:
    """Why the front page has no story yet, in one sentence for the reader (two cheap
    counts, read only while the page is empty)."""
    feeds, checked, fetched = store.feed_fetch_times()
    if not feeds:
        return (
            "No sources yet: the operator adds some with breakingon sources add-catalogue, "
            "breakingon sources add URL or breakingon sources import-opml, "
            "or tries breakingon demo."
        )
    if fetched is None:
        if checked is None:
            return f"No feed fetched yet: {_n(feeds, 'feed')} waiting for a first check."
        return f"No feed fetched yet: no fetch of {_n(feeds, 'feed')} has succeeded (see /status)."
    articles = store.stats()["articles"]
    if not articles:
        return "Feeds are fetched, but they hold no articles yet."
    return f"{_n(articles, 'article')} fetched; nothing clustered into stories yet."


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")
