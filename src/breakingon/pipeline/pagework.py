"""The CPU work on one fetched article page, shaped to run in a worker process.

`page_job(body, url, article)` extracts the page (`extract.extract_article`), merges the
result into the feed's `Article` (falling back to the feed's text, saying why), and
puts on it the facts the crawl stage stores with it (`tag.facts.article_facts`:
language, content hash, sections, places, page kind), keeping the MinHash signature for
the crawl stage's near-duplicate index. It also returns the CPU seconds spent in
extraction and in the rest, so benchmarks can split the cost by stage.
`finish_fields(article)` is the second half alone (for articles whose page could not be
fetched). Feed documents are parsed by `feeds.ingest`.

`limit_memory()` caps a worker's address space (RLIMIT_AS, Linux) at the operator's
`extract_memory_mb`, handed to the spawned workers in `MEMORY_ENV`: a page that makes
the extractor balloon fails that one call with MemoryError (the article keeps the
feed's text, "extract_error") instead of taking the machine's memory.

Pure: records in, records out. It never touches the store, the network or the clock,
and imports only stage modules, so a worker process that preloads it stays light.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from breakingon.extract.article import extract_article
from breakingon.extract.leadimage import usable_image_url
from breakingon.extract.pagekind import non_article_kind
from breakingon.records import EXTRACTED, Article, Extracted, Extraction
from breakingon.tag.facts import article_facts, with_facts

MEMORY_ENV = "_BREAKINGON_WORKER_MEMORY_MB"  # set by the crawl stage for its workers
MIN_EXTRACTED_CHARS = 200  # shorter extractions lose to the feed's own content
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PageOutcome:
    """An article with its extraction and derived fields, plus what it cost."""

    article: Article
    signature: bytes  # MinHash signature of the text ("" when too short to index)
    extract_cpu_s: float = 0.0
    finish_cpu_s: float = 0.0


def merge_extraction(art: Article, ex: Extracted) -> Article:
    """The article with the page's text and metadata, or the feed's text and a reason."""
    if ex.error:
        return replace(art, extraction=Extraction.fallback(ex.error))
    if len(ex.text) < max(MIN_EXTRACTED_CHARS, len(art.text) // 2):
        return replace(art, extraction=Extraction.fallback("too_short"))
    if non_article_kind(ex.title, ex.text):
        # A consent wall, bot check or player where the article should be: the feed's
        # own text is the better copy of the report.
        return replace(art, extraction=Extraction.fallback("not_article"))
    return replace(
        art,
        title=art.title or ex.title,
        text=ex.text,
        authors=art.authors or ex.authors,
        # The page's own lead image (og:image, JSON-LD, first figure) before the feed's.
        image=ex.image or usable_image_url(art.image),
        language=ex.language or art.language,
        extraction=EXTRACTED,
    )


def finish_fields(art: Article, *, language_known: bool = False) -> PageOutcome:
    """`art` with its facts (`tag.facts.article_facts`) and its MinHash signature.

    `language_known`: `art.language` was detected on this very text (by extraction), so
    it is not detected again. `duplicate_of` is left for the caller: it needs the index
    of earlier articles.
    """
    t0 = time.thread_time()
    facts = article_facts(art, language_known=language_known)
    done = with_facts(art, facts)
    return PageOutcome(done, facts.signature, finish_cpu_s=time.thread_time() - t0)


def limit_memory(mb: int | None = None) -> int:
    """Cap this process's address space at `mb` MiB (from `MEMORY_ENV` when None; 0 or
    unset: no cap). Linux only (elsewhere RLIMIT_AS is not enforced). Returns the cap
    in bytes, 0 when none was set. Never raises the hard limit, only lowers it."""
    if mb is None:
        raw = os.environ.get(MEMORY_ENV, "").strip()
        mb = int(raw) if raw.isdigit() else 0
    if mb <= 0 or not sys.platform.startswith("linux"):
        return 0
    import resource

    cap = mb * 1024 * 1024
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    return cap


def warm() -> bool:
    """Load every lazy model and table (language, gazetteer, lexicons, extractor) now, so
    a worker's first real page does not pay for it under its time budget."""
    body = (
        "<html><head><title>Warm up</title></head><body><article><h1>Warm up</h1><p>"
        + "The city council of Paris met on Monday to discuss the budget for next year. " * 8
        + "</p></article></body></html>"
    ).encode()
    art = Article(url="http://warm.invalid/a.html", title="Warm up", text="", published=_EPOCH)
    page_job(body, art.url, art)
    return True


def page_job(body: bytes, url: str, art: Article) -> PageOutcome:
    """Extract one fetched page into `art` and compute its derived fields."""
    t0 = time.thread_time()
    extracted = extract_article(body, url)
    merged = merge_extraction(art, extracted)
    extract_cpu = time.thread_time() - t0
    known = merged.extraction == EXTRACTED and merged.language == extracted.language
    out = finish_fields(merged, language_known=known)
    return replace(out, extract_cpu_s=extract_cpu)
