"""Extraction workers run under a memory cap (hardening 13).

The crawl stage's real worker pool (spawned processes with the real preload) gets the
operator's `extract_memory_mb` as RLIMIT_AS. A page job that asks for more memory than
that fails alone: the article keeps the feed's text with an extraction error, and the
same pool goes on extracting the next page.
"""

from __future__ import annotations

import asyncio
import resource
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from newsfixtures import after, make_stream

from breakingon.pipeline import poll
from breakingon.pipeline.pagework import PageOutcome, page_job
from breakingon.records import Article
from breakingon.settings import Settings, parse_networks
from breakingon.sim.server import Newsroom
from breakingon.store import open_store
from netguard import loopback_only

__all__ = ["loopback_only"]

CAP_MB = 1536

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS: Linux")


def address_space_cap() -> int:
    """Runs in a worker: its soft RLIMIT_AS."""
    return resource.getrlimit(resource.RLIMIT_AS)[0]


def hungry_page_job(body: bytes, url: str, art: Article) -> PageOutcome:
    """Runs in a worker: a page whose extraction balloons (twice the cap), then the rest."""
    hog = bytearray(2 * CAP_MB * 1024 * 1024)
    hog[-1] = 1
    return page_job(body, url, art)


def test_a_page_over_the_memory_cap_fails_alone_and_the_pool_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = make_stream(1, 2, prefix="m")
    store = open_store(f"sqlite:///{tmp_path / 'm.sqlite'}")
    settings = Settings(
        data_dir=tmp_path,
        extract_workers=1,
        extract_memory_mb=CAP_MB,
        extract_timeout_s=60.0,
        per_host_delay_s=0.0,
        fetch_allow_networks=parse_networks("allow", "127.0.0.0/8"),
    )

    async def run(room: Newsroom) -> tuple[int, Any, Any]:
        arts = [
            Article(
                id=i + 1,
                url=room.article_url(r.id),
                title=r.title,
                text="Short feed text.",
                published=r.published,
            )
            for i, r in enumerate(rows)
        ]
        async with poll.CrawlStage(settings, store, "w") as stage:
            pool = stage._pool
            assert pool is not None
            cap = await asyncio.to_thread(pool.call, address_space_cap, (), 120.0)
            monkeypatch.setattr(poll, "page_job", hungry_page_job)
            failed = await stage._page(arts[0])
            monkeypatch.setattr(poll, "page_job", page_job)
            fine = await stage._page(replace(arts[1]))
            return cap, failed, fine

    with Newsroom(rows, speed=0, start=after(rows)) as room:
        cap, failed, fine = asyncio.run(run(room))
    store.close()
    assert cap == CAP_MB * 1024 * 1024  # the worker runs under the operator's cap
    assert failed.article.extraction.status == "feed_fallback"
    assert failed.article.extraction.reason == "extract_error"
    assert failed.article.text == "Short feed text."  # the feed's text stands
    assert fine.article.extraction.status == "ok", fine.article.extraction  # pool goes on
    assert len(fine.article.text) > 200
