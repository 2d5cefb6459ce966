"""Every way an article enters gives it the same facts: poll, push and archive.

One news page is served on loopback. It reaches the store three ways: a polled feed
links to it (the crawl stage fetches the feed, then the page), a pushed feed document
links to it (`websub.ingest_push`, then the same page fetch), and a web archive holds it
(`warc.ingest_warc`). Each stored copy carries the same language, content hash,
sections, places and page kind, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from breakingon.extract.article import ExtractorPool
from breakingon.ops.warc import ingest_warc
from breakingon.pipeline.poll import CrawlStage
from breakingon.pipeline.websub import ingest_push
from breakingon.records import Article, Feed
from breakingon.settings import Settings, parse_networks
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import Store

TITLE = "Lisbon council approves a new tram line"
PARAGRAPHS = (
    "Officials in Lisbon on Tuesday approved a new tram line after a vote of 31 to 9, "
    "ending a debate that had divided the city council for most of the year.",
    "The line, which will link the riverside districts with the airport, is expected to "
    "cost 240 million euros and to open in 2028, the mayor's office said in a statement.",
    "Residents had campaigned for the tram for six years, and several neighbourhood groups "
    "welcomed the decision while shop owners asked how long the building works would last.",
    "Construction will begin next spring, according to the city engineer, who said traffic "
    "on the main avenues of Lisbon would be diverted during the first phase of the works.",
)
PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'>"
    f"<title>{TITLE}</title>"
    "<meta property='article:published_time' content='2025-02-10T08:00:00Z'></head>"
    "<body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav>"
    f"<main><article><h1>{TITLE}</h1>{''.join(f'<p>{p}</p>' for p in PARAGRAPHS)}"
    "</article></main><footer>Copyright The Example Post.</footer></body></html>"
).encode()


def atom(page_url: str, entry_id: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>Example Post</title>'
        f"<id>urn:example:{entry_id}</id><updated>2025-02-10T08:00:00Z</updated>"
        f"<entry><id>urn:example:{entry_id}:1</id><title>{TITLE}</title>"
        f'<link href="{page_url}"/><updated>2025-02-10T08:00:00Z</updated>'
        "<summary>The council approved the tram line.</summary></entry></feed>"
    ).encode()


class _Site:
    """The outlet on loopback: /page.html, /poll.xml (a feed linking to it), else 404."""

    def __init__(self) -> None:
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body, ctype = {
                    "/page.html": (PAGE, "text/html; charset=utf-8"),
                    "/poll.xml": (atom(site.url("/page.html"), "poll"), "application/atom+xml"),
                }.get(self.path, (b"", ""))
                self.send_response(200 if body else 404)
                self.send_header("Content-Type", ctype or "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site() -> Iterator[_Site]:
    s = _Site()
    yield s
    s.close()


def _archive(path: Path, url: str) -> None:
    with path.open("wb") as fh:
        w = WARCWriter(fh, gzip=True)
        headers = StatusAndHeaders(
            "200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1"
        )
        w.write_record(
            w.create_warc_record(url, "response", payload=io.BytesIO(PAGE), http_headers=headers)
        )


def _facts(a: Article) -> tuple[object, ...]:
    return (a.text, a.language, a.content_hash, a.sections, a.places, a.page_kind)


def test_poll_push_and_archive_give_the_same_facts(
    store: Store, site: _Site, tmp_path: Path
) -> None:
    poll_feed = Feed(url=site.url("/poll.xml"), outlet="Poll Post")
    push_feed = Feed(url=site.url("/push.xml"), outlet="Push Post")  # 404: push only
    store.add_feeds([(f, feed_url_key(f.url), None) for f in (poll_feed, push_feed)])
    feeds = {f.outlet: f for f in store.list_feeds()}
    settings = Settings(
        data_dir=tmp_path,
        fetch_allow_networks=parse_networks("allow", "127.0.0.0/8"),
        per_host_delay_s=0.0,
        fetch_timeout_s=10.0,
        extract_workers=1,
    )

    async def crawl() -> None:
        async with CrawlStage(settings, store, "w1") as stage:
            while await stage.check_due_feeds() > 0:
                pass
            pushed = await ingest_push(
                store,
                feeds["Push Post"],
                atom(site.url("/page.html"), "push"),
                [("Content-Type", "application/atom+xml")],
                datetime.now(UTC),
            )
            assert pushed.error is None and len(pushed.new_ids) == 1
            while await stage.process_discovered() > 0:
                pass

    asyncio.run(crawl())
    warc = tmp_path / "page.warc.gz"
    _archive(warc, site.url("/page.html"))
    with ExtractorPool(workers=1, timeout_s=30) as extractor:
        report = ingest_warc(warc, store, extractor)
    assert report.stored == 1

    stored = store.list_articles(limit=10)
    by_way = {a.outlet: a for a in stored}
    assert set(by_way) == {"Poll Post", "Push Post", "127.0.0.1"}
    poll, push, archive = by_way["Poll Post"], by_way["Push Post"], by_way["127.0.0.1"]
    assert poll.extraction is not None and poll.extraction.ok
    assert push.extraction == poll.extraction
    assert archive.extraction is not None and archive.extraction.ok
    assert _facts(poll) == _facts(push) == _facts(archive)
    assert poll.language == "en" and poll.page_kind == ""
    assert "Lisbon" in [p.name for p in poll.places]
    assert poll.content_hash and PARAGRAPHS[0] in poll.text
