"""A fetched feed document -> the new articles it announces, in a worker process.

`feed_job(body, headers, url, now, cfg, feed)` parses the document (`feeds.parse`) and
turns its items into new `Article` records (`item_to_article`: the feed's text until the
page is extracted), with the CPU seconds it took. `budgeted_feed_job` runs it in a worker
of a `HardTimeoutPool` under the parse budget: polled documents (the crawl stage) and
pushed ones (`websub.ingest_push`) both come in this way, so they give the same articles.

Pure: records in, records out; never touches the store, the network or the clock, and
imports only this package, so a worker that only parses feeds starts light.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from breakingon.extract.article import HardTimeoutPool, WorkerTimeout
from breakingon.feeds.parse import PARSE_ERROR, PARSE_TIMEOUT, ParseSettings, parse_feed
from breakingon.feeds.sanitize import html_to_text
from breakingon.records import Article, Feed, FeedItem


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """A parsed feed as articles to store, or a typed parse error."""

    articles: tuple[Article, ...] = ()
    error: str | None = None
    bozo: str = ""
    non_unique_guids: bool = False
    cpu_s: float = 0.0


def item_to_article(item: FeedItem, feed: Feed, now: datetime) -> Article:
    """A feed item as a discovered article (the feed's text until the page is extracted)."""
    text = html_to_text(item.content_html) if item.content_html else ""
    return Article(
        url=item.url,
        title=item.title,
        text=text if len(text) > len(item.summary) else item.summary,
        summary=item.summary,
        published=item.published,
        authors=item.authors,
        image=item.image,
        item_key=item.item_key,
        alias_key=item.alias_key,
        sections=feed.sections,
        first_seen=now,
        language=feed.language,
        extraction=None,
    )


def feed_job(
    body: bytes,
    headers: Sequence[tuple[str, str]],
    url: str,
    now: datetime,
    cfg: ParseSettings,
    feed: Feed,
) -> FeedOutcome:
    """Parse one fetched feed document and turn its items into articles."""
    t0 = time.thread_time()
    parsed = parse_feed(body, tuple(headers), url, now, cfg)
    if parsed.error:
        return FeedOutcome(error=parsed.error, bozo=parsed.bozo, cpu_s=time.thread_time() - t0)
    articles = tuple(item_to_article(i, feed, now) for i in parsed.items)
    return FeedOutcome(
        articles=articles,
        non_unique_guids=parsed.non_unique_guids,
        cpu_s=time.thread_time() - t0,
    )


def budgeted_feed_job(
    pool: HardTimeoutPool,
    body: bytes,
    headers: Sequence[tuple[str, str]],
    url: str,
    now: datetime,
    cfg: ParseSettings,
    feed: Feed,
) -> FeedOutcome:
    """`feed_job` in a worker of `pool` under `cfg.timeout_s`: an overrun or a dead worker
    is a typed parse error, never an exception. Blocks the calling thread."""
    args = (body, tuple(headers), url, now, cfg, feed)
    try:
        out = pool.call(feed_job, args, cfg.timeout_s)
    except WorkerTimeout:
        return FeedOutcome(error=PARSE_TIMEOUT, bozo=f"parse over {cfg.timeout_s:g} s")
    except Exception as exc:  # the worker died (memory, signal): typed, never raised
        return FeedOutcome(error=PARSE_ERROR, bozo=f"{type(exc).__name__}: {exc}"[:300])
    assert isinstance(out, FeedOutcome)
    return out
