"""Streaming WARC ingestion (e.g. Common Crawl CC-NEWS) into the normal story pipeline.

`read_warc(path, start)` streams a WARC file (gzip per record or plain): each record is
framed by `ops.warcframe` (capped header blocks, Content-Length checked against the
record separator) and parsed with warcio, and it yields, for every record, either an
`ArchivePage` (a 200 HTML response) or a `Skipped` note with its reason (not a response,
not HTML, HTTP error status, revisit, broken record, truncated record). A broken stretch
of the file is skipped by resynchronising on the next record header, so one bad record
never loses the rest of the archive.

`ingest_warc(path, store, extractor)` extracts each page with the project's extractor
(in `ExtractorPool` workers, under the per-page time budget), turns it into a
`records.Article` with the same facts a crawled article gets (`tag.facts.article_facts`:
language, content hash, sections, places, page kind) and stores it with
`Store.save_archive_articles` under an outlet named by the page's host, in state
"extracted", so the cluster and story stages pick it up like any crawled article. It is
resumable: after each batch is committed, the byte offset of the last fully processed
record is written to store meta under a key that identifies the file (name, size and a
digest of its head), and a later run seeks there and goes on.
Storage is exactly-once even across a crash between the two commits: an article already
stored for its outlet (same canonical URL) is skipped by the store.

This module never opens sockets, never runs the clustering or story stages and reads no
settings; the CLI (`breakingon ingest-warc`) wires it up and draws the progress bar.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

from breakingon.extract.article import MAX_PAGE_BYTES, ExtractorPool
from breakingon.feeds.sanitize import html_to_text
from breakingon.feeds.urls import alias_key, canonicalize_url
from breakingon.ops.warcframe import read_gzip, read_plain
from breakingon.records import Article, Extracted, Extraction, Outlet
from breakingon.store import Store
from breakingon.tag.facts import article_facts, with_facts

log = logging.getLogger("breakingon.ops.warc")

META_PREFIX = "warc_offset:"
MIN_TEXT_CHARS = 200  # shorter extractions are navigation or stubs, not articles
ARCHIVED = Extraction("ok", "warc")  # extracted from an archived page (stored "ok:warc")
_HEAD_BYTES = 64 * 1024
_RESYNC_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class ArchivePage:
    """One HTML page captured in a WARC response record."""

    offset: int
    url: str
    html: bytes
    captured: datetime | None


@dataclass(frozen=True, slots=True)
class Skipped:
    """A record that is not ingested, and why."""

    offset: int
    url: str
    reason: str


@dataclass(slots=True)
class IngestReport:
    """What one `ingest_warc` call did."""

    path: str
    key: str
    resumed_from: int | None = None  # offset of the last record a previous run finished
    last_offset: int | None = None  # offset of the last record this run finished
    records: int = 0  # records processed by this run (pages and skips)
    stored: int = 0  # new articles
    already: int = 0  # pages whose article was stored before (same outlet and URL)
    skipped: Counter[str] = field(default_factory=Counter)
    finished: bool = False  # reached the end of the file

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "resumed_from": self.resumed_from,
            "last_offset": self.last_offset,
            "records": self.records,
            "stored": self.stored,
            "already_stored": self.already,
            "skipped": dict(sorted(self.skipped.items())),
            "finished": self.finished,
        }


def file_key(path: Path) -> str:
    """Identity of a WARC file that survives a move: name, size, digest of its head."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = hashlib.sha256(fh.read(_HEAD_BYTES)).hexdigest()[:24]
    return f"{META_PREFIX}{path.name}:{size}:{head}"


def _reason_for(record: object) -> str | None:
    rec_type = getattr(record, "rec_type", "")
    if rec_type == "revisit":
        return "revisit"
    if rec_type != "response":
        return f"not_response:{rec_type or 'unknown'}"
    http = getattr(record, "http_headers", None)
    if http is None:
        return "no_http_headers"
    status = str(http.get_statuscode() or "")
    if status != "200":
        return f"http_{status or 'unknown'}"
    ctype = (http.get_header("Content-Type") or "").split(";", 1)[0].strip().lower()
    if "html" not in ctype:
        return f"not_html:{ctype or 'none'}"
    return None


def _captured(record: object) -> datetime | None:
    headers = getattr(record, "rec_headers", None)
    raw = headers.get_header("WARC-Date") if headers is not None else None
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _resync(fh: IO[bytes], start: int, gzipped: bool) -> int | None:
    """Offset of the next plausible record start at or after `start`, or None at EOF."""
    magic = b"\x1f\x8b\x08" if gzipped else b"WARC/1."
    pos = start
    while True:
        fh.seek(pos)
        chunk = fh.read(_RESYNC_CHUNK + len(magic))
        if len(chunk) < len(magic):
            return None
        i = chunk.find(magic)
        if i >= 0:
            return pos + i
        pos += _RESYNC_CHUNK


def _is_gzip(fh: IO[bytes]) -> bool:
    fh.seek(0)
    gz = fh.read(2) == b"\x1f\x8b"
    fh.seek(0)
    return gz


def _page(offset: int, uri: str, record: object, body: bytes) -> ArchivePage:
    return ArchivePage(offset, uri, body, _captured(record))


def read_warc(path: Path, start: int = 0) -> Iterator[ArchivePage | Skipped]:
    """Every record from byte `start` on, as a page or a skip note, in file order.

    Records are framed by `ops.warcframe` first (header blocks capped, the separator
    checked where Content-Length ends, a truncated last record noted), per record in a
    plain file and per gzip member in a compressed one.
    """
    with path.open("rb") as fh:
        gzipped = _is_gzip(fh)
        common = {
            "max_page_bytes": MAX_PAGE_BYTES,
            "reason_for": _reason_for,
            "resync": _resync,
            "page": _page,
            "note": Skipped,
        }
        size = path.stat().st_size
        read = read_gzip if gzipped else read_plain
        entries = read(fh, start, size, **common)  # type: ignore[arg-type]
        for entry in entries:
            assert isinstance(entry, ArchivePage | Skipped)
            yield entry


def page_article(page: ArchivePage, ex: Extracted, now: datetime) -> Article | None:
    """The article of one extracted page, with its facts (None when the page holds no
    article text)."""
    url = canonicalize_url(page.url)
    if not url or ex.error or len(ex.text) < MIN_TEXT_CHARS:
        return None
    art = Article(
        url=url,
        title=ex.title or html_to_text(ex.text[:120]),
        text=ex.text,
        summary="",
        published=ex.published or page.captured or now,
        first_seen=now,
        authors=ex.authors,
        image=ex.image,
        language=ex.language,
        item_key=url,
        alias_key=alias_key(url),
        extraction=ARCHIVED,
    )
    # The extractor detected the language on this very text, as on a crawled page.
    return with_facts(art, article_facts(art, language_known=True))


def outlet_for(url: str) -> Outlet:
    """The outlet an archived page is filed under: its host name (without www.)."""
    parts = urlsplit(url)
    host = (parts.hostname or "unknown").lower()
    name = host.removeprefix("www.")
    return Outlet(name=name, homepage=f"{parts.scheme or 'https'}://{host}/")


def _why_not(page: ArchivePage, ex: Extracted) -> str:
    if not canonicalize_url(page.url):
        return "bad_url"
    if ex.error:
        return f"extract:{ex.error}"
    return "too_short"


class _Batch:
    def __init__(self) -> None:
        self.pages: list[ArchivePage] = []
        self.skips: list[Skipped] = []
        self.last_offset: int | None = None

    def __len__(self) -> int:
        return len(self.pages) + len(self.skips)


def ingest_warc(
    path: Path,
    store: Store,
    extractor: ExtractorPool,
    *,
    batch_size: int = 32,
    limit: int | None = None,
    stop: threading.Event | None = None,
    progress: Callable[[int, int], None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> IngestReport:
    """Ingest one WARC file, resuming from the offset a previous run recorded.

    `limit` stops after that many records (this run); `stop` stops after the batch in
    hand; `progress(done_bytes, total_bytes)` is called after every batch.
    """
    path = Path(path)
    key = file_key(path)
    total = path.stat().st_size
    report = IngestReport(path=str(path), key=key)
    saved = store.get_meta(key)
    start = 0
    if saved:
        state = json.loads(saved)
        if state.get("done"):
            report.resumed_from = int(state["offset"])
            report.last_offset = report.resumed_from
            report.finished = True
            if progress is not None:
                progress(total, total)
            return report
        report.resumed_from = int(state["offset"])
        start = report.resumed_from

    def commit(batch: _Batch, done: bool) -> None:
        now = clock()
        by_outlet: dict[str, tuple[Outlet, list[Article]]] = {}
        extracted = extractor.extract_many([(p.html, p.url) for p in batch.pages])
        for page, ex in zip(batch.pages, extracted, strict=True):
            art = page_article(page, ex, now)
            if art is None:
                report.skipped[_why_not(page, ex)] += 1
                continue
            outlet = outlet_for(art.url)
            first_copy = store.find_by_content_hash(art.content_hash, -1)
            if first_copy is not None:  # a syndicated copy of an article already stored
                art = replace(art, duplicate_of=first_copy)
            by_outlet.setdefault(outlet.name, (outlet, []))[1].append(art)
        for skip in batch.skips:
            report.skipped[skip.reason] += 1
        for outlet, arts in by_outlet.values():
            new = store.save_archive_articles(outlet, arts, "extracted")
            report.stored += len(new)
            report.already += len(arts) - len(new)
        if batch.last_offset is not None:
            offset = batch.last_offset
        else:
            offset = report.last_offset if report.last_offset is not None else start
        store.set_meta(key, json.dumps({"offset": offset, "done": done, "path": str(path)}))
        report.last_offset = offset
        report.records += len(batch)
        if progress is not None:
            progress(total if done else min(offset, total), total)

    batch = _Batch()
    finished = True
    for entry in read_warc(path, start):
        if report.resumed_from is not None and entry.offset == report.resumed_from:
            continue  # that record was finished by the previous run
        if (limit is not None and report.records + len(batch) >= limit) or (
            stop is not None and stop.is_set()
        ):
            finished = False
            break
        if isinstance(entry, ArchivePage):
            batch.pages.append(entry)
        else:
            batch.skips.append(entry)
        batch.last_offset = entry.offset
        if len(batch) >= batch_size:
            commit(batch, done=False)
            batch = _Batch()
    commit(batch, done=finished)
    report.finished = finished
    return report
