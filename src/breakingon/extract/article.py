"""Full-text extraction of article pages, and the hard-timeout worker pool it runs in.

`extract_article` is pure: HTML (str or bytes) and the page URL in, a
`records.Extracted` out (text, title, authors, date, lead image, language), using
trafilatura with options chosen on the AEB benchmark (`bench/extraction`). Pages over
`MAX_PAGE_BYTES` or that are not HTML are refused before any parsing (pathological pages).

`HardTimeoutPool` runs a module-level function in long-lived worker processes and
kills and replaces a worker that overruns its per-call budget; `ExtractorPool` wraps
it for extraction (error="extract_timeout" on expiry) and `crawl.feeds` uses it for
the feed-parse budget. This module never opens sockets, never touches the store,
the fetcher or settings.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from breakingon.records import Extracted
from breakingon.tag.lang import detect_language

MAX_PAGE_BYTES = 5 * 1024 * 1024  # pages over this are refused before parsing
EXTRACT_TIMEOUT_S = 10.0

# Chosen on ../shared/data/extraction/aeb with bench/extraction (see docs/crawler.md).
TRAFILATURA_OPTIONS: dict[str, Any] = {
    "include_comments": False,
    "include_tables": True,
    "include_images": False,
    "include_links": False,
    "favor_precision": True,  # AEB: F1 0.964 vs 0.960 default (bench/extraction)
    "favor_recall": False,
    "fast": False,
    "deduplicate": False,
}

# Below this many characters trafilatura's main pass hands over to "wild text" recovery,
# which gathers every paragraph of the page: on a short article that is the related-story
# cards and comments around it. 100 instead of the default 250: AEB F1 unchanged (0.964),
# and half the short newsroom articles come out clean (see docs/crawler.md).
MIN_EXTRACTED_SIZE = 100


@lru_cache(maxsize=1)
def _trafilatura_config() -> Any:
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "MIN_EXTRACTED_SIZE", str(MIN_EXTRACTED_SIZE))
    return config


_AUTHOR_SPLIT = re.compile(r"\s*(?:;|\band\b|&|\|)\s*")
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def _refusal(raw: str | bytes) -> str | None:
    size = len(raw) if isinstance(raw, bytes) else len(raw.encode("utf-8", errors="ignore"))
    if size == 0:
        return "empty"
    if size > MAX_PAGE_BYTES:
        return "too_large"
    head = raw[:2048]
    if isinstance(head, bytes):
        if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
            return "not_html"
    elif "\x00" in head:
        return "not_html"
    return None


def _parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    for candidate in (value, value[:10]):
        try:
            parsed = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    return None


_META_DATE = re.compile(
    r"""<meta\b[^>]*?(?:property|name|itemprop)\s*=\s*["']?"""
    r"""(?:article:published_time|og:published_time|datePublished|pubdate|"""
    r"""publish[-_]?date|sailthru\.date|dc\.date\.issued|parsely-pub-date)["']?[^>]*>""",
    re.IGNORECASE,
)
_CONTENT_ATTR = re.compile(r"""\bcontent\s*=\s*["']([^"']{8,40})["']""", re.IGNORECASE)
_TIME_TAG = re.compile(r"""<time\b[^>]*\bdatetime\s*=\s*["']([^"']{8,40})["']""", re.I)


def _meta_published(html: str | bytes) -> datetime | None:
    """A full timestamp from the page's meta tags (trafilatura's date is day-precise)."""
    head = html[:300_000]
    text = head.decode("latin-1") if isinstance(head, bytes) else head
    candidates = [m.group(1) for tag in _META_DATE.finditer(text)
                  for m in [_CONTENT_ATTR.search(tag.group(0))] if m]  # fmt: skip
    candidates.extend(m.group(1) for m in _TIME_TAG.finditer(text))
    for value in candidates:
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            continue
        if "T" in value or " " in value.strip():
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=UTC)
            return parsed.astimezone(UTC)
    return None


def extract_article(html: str | bytes, url: str) -> Extracted:
    """Extract the article of one page. Never raises: failures are `Extracted.error`.

    Errors: "empty", "too_large", "not_html", "no_text" (nothing article-like found),
    "extract_error" (the extractor failed).
    """
    refused = _refusal(html)
    if refused:
        return Extracted(url=url, error=refused)
    import trafilatura

    from breakingon.extract.leadimage import lead_image_url, usable_image_url
    from breakingon.feeds.sanitize import html_to_text, text_without_tags

    try:
        doc = trafilatura.bare_extraction(
            html,
            url=url or None,
            config=_trafilatura_config(),
            with_metadata=True,
            date_extraction_params={"outputformat": _DATE_FORMAT, "extensive_search": True},
            **TRAFILATURA_OPTIONS,
        )
    except RecursionError:
        return Extracted(url=url, error="extract_error")
    except Exception:  # a parser failure on a hostile page is data, not a crash
        return Extracted(url=url, error="extract_error")
    if doc is None or isinstance(doc, dict):
        return Extracted(url=url, error="no_text")
    # "&lt;img onerror=...&gt;" in a paragraph is "<img onerror=...>" in the text: a
    # stored text (and every brief, headline and feed made from it) never holds a tag.
    text = text_without_tags(doc.text or "").strip()
    if not text:
        return Extracted(url=url, error="no_text")
    authors: list[str] = []
    for name in _AUTHOR_SPLIT.split(doc.author or ""):
        clean = html_to_text(name).strip()[:200]
        if clean and clean not in authors:
            authors.append(clean)
    return Extracted(
        url=url,
        title=html_to_text(doc.title or "")[:1000],
        text=text,
        authors=tuple(authors[:20]),
        published=_meta_published(html) or _parse_date(doc.date),
        language=detect_language(text),
        image=lead_image_url(html, url) or usable_image_url(doc.image or "", url or None),
    )


# ---------------------------------------------------------------- worker pool


STARTUP_TIMEOUT_S = 120.0


class WorkerTimeout(Exception):
    """The call overran its budget; the worker that ran it was killed."""


class WorkerCrashed(Exception):
    """The worker died while running the call (signal, memory)."""


def _worker_main(conn: multiprocessing.connection.Connection, preload: tuple[str, ...]) -> None:
    # Import the heavy modules before saying "ready": start-up time must not count
    # against the first call's time budget.
    import importlib

    for name in preload:
        importlib.import_module(name)
    conn.send("ready")
    while True:
        try:
            job = conn.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if job is None:
            return
        func, args = job
        try:
            conn.send(("ok", func(*args)))
        except Exception as exc:  # reported to the caller, the worker lives on
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class _Worker:
    def __init__(self, ctx: Any, preload: tuple[str, ...] = ()) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, preload), daemon=True)
        self.process.start()
        child.close()
        if not self.conn.poll(STARTUP_TIMEOUT_S) or self.conn.recv() != "ready":
            self.kill()
            raise WorkerCrashed("worker did not start")

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.process.join(2)
        if self.process.is_alive():
            self.kill()
        else:
            self.conn.close()


class HardTimeoutPool:
    """Long-lived worker processes running module-level functions under a hard budget.

    `call(func, args, timeout_s)` blocks until a worker is free, runs `func(*args)` in
    it and returns the result; a worker still busy after `timeout_s` is killed (SIGKILL)
    and replaced, and `WorkerTimeout` is raised. Workers start lazily ("spawn": safe
    beside threads and event loops). Thread-safe.
    """

    def __init__(self, workers: int = 2, preload: Sequence[str] = ()) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._preload = tuple(preload)
        self._size = max(1, workers)
        self._idle: list[_Worker] = []
        self._started = 0
        self._lock = threading.Condition()
        self._closed = False
        self.timeouts = 0

    def _acquire(self) -> _Worker:
        with self._lock:
            while True:
                if self._closed:
                    raise RuntimeError("pool is closed")
                if self._idle:
                    return self._idle.pop()
                if self._started < self._size:
                    self._started += 1
                    break
                self._lock.wait()
        try:
            return _Worker(self._ctx, self._preload)
        except BaseException:
            with self._lock:
                self._started -= 1
                self._lock.notify()
            raise

    def _release(self, worker: _Worker | None) -> None:
        with self._lock:
            if worker is None or self._closed:
                self._started -= 1
                if worker is not None:
                    worker.stop()
            else:
                self._idle.append(worker)
            self._lock.notify()

    def call(self, func: Callable[..., Any], args: Sequence[Any], timeout_s: float) -> Any:
        worker: _Worker | None = self._acquire()
        assert worker is not None
        try:
            worker.conn.send((func, tuple(args)))
            if not worker.conn.poll(timeout_s):
                self.timeouts += 1
                worker.kill()
                self._release(None)
                worker = None
                raise WorkerTimeout(f"over {timeout_s:g} s")
            status, value = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            if worker is not None:
                worker.kill()
                self._release(None)
            raise WorkerCrashed(str(exc) or type(exc).__name__) from exc
        except WorkerTimeout:
            raise
        except BaseException:
            if worker is not None:
                worker.kill()
                self._release(None)
            raise
        self._release(worker)
        if status == "error":
            raise RuntimeError(value)
        return value

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
            self._started -= len(idle)
            self._lock.notify_all()
        for worker in idle:
            worker.stop()


_SHARED: dict[str, HardTimeoutPool] = {}
_SHARED_LOCK = threading.Lock()


def shared_pool(name: str, workers: int = 2, preload: Sequence[str] = ()) -> HardTimeoutPool:
    """A process-wide pool by name (created on first use, closed at interpreter exit)."""
    with _SHARED_LOCK:
        pool = _SHARED.get(name)
        if pool is None:
            pool = _SHARED[name] = HardTimeoutPool(workers, preload)
        return pool


def close_shared_pools() -> None:
    """Stop the workers of every shared pool (tests and graceful shutdown call this)."""
    with _SHARED_LOCK:
        pools = list(_SHARED.values())
        _SHARED.clear()
    for pool in pools:
        pool.close()


class ExtractorPool:
    """Runs `extract_article` in worker processes with a hard per-page timeout (a pathological page
    cannot stall the crawler).

    A page that overruns gets `Extracted(error="extract_timeout")`; its worker is
    killed and replaced, and the other workers keep going.
    """

    def __init__(self, workers: int = 2, timeout_s: float = EXTRACT_TIMEOUT_S) -> None:
        self.timeout_s = timeout_s
        self._pool = HardTimeoutPool(workers, preload=("breakingon.extract.article",))
        self._threads = ThreadPoolExecutor(
            max_workers=max(1, workers), thread_name_prefix="extract"
        )

    def extract_sync(self, html: str | bytes, url: str) -> Extracted:
        """Extract one page in a worker, blocking the calling thread."""
        try:
            result = self._pool.call(extract_article, (html, url), self.timeout_s)
        except WorkerTimeout:
            return Extracted(url=url, error="extract_timeout")
        except Exception:
            return Extracted(url=url, error="extract_error")
        assert isinstance(result, Extracted)
        return result

    async def extract(self, html: str | bytes, url: str) -> Extracted:
        """Extract one page without blocking the event loop."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self.extract_sync, html, url)

    def extract_many(self, pages: Iterable[tuple[str | bytes, str]]) -> list[Extracted]:
        """Extract (html, url) pages on all workers; results in input order."""
        return list(self._threads.map(lambda page: self.extract_sync(*page), pages))

    def close(self) -> None:
        self._threads.shutdown(wait=True)
        self._pool.close()

    def __enter__(self) -> ExtractorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
