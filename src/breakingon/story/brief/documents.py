"""The brief of a story as the story stage writes it: which articles it reads, in which
language, and the extractive brief with the optional abstractive rewrite.

`brief_documents(articles)` chooses the reports a brief draws on; `write_story_brief`
writes the brief from them (None for a story of fewer than two outlets), and
`brief_basis` digests what it reads, so the story stage can keep a brief. A story
reported in one language (or none known) gets its brief from all its reports, as ever.
A story reported in several gets its brief in one language (`languages.coverage`:
the operator's preferred one when an outlet reported in it, else the dominant one)
from the reports in that language only, and for each other language its outlets and
one or two lead sentences in that language (`Brief.other_languages`, docs/briefs.md,
"Languages"). This is the production path the brief evaluation gate measures. Must
not touch the store or the web layer; the only network use is the optional rewrite
(`llm`).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from breakingon.languages.coverage import LanguageCoverage, language_coverage, writing_order
from breakingon.records import Article, Brief, LanguageReport
from breakingon.story.brief.extractive import (
    BriefSettings,
    BriefSource,
    Embedder,
    brief_inputs,
    write_brief,
)

if TYPE_CHECKING:
    from breakingon.story.brief.llm import LLMSettings, PostJson

log = logging.getLogger("breakingon.process")  # the name operators filter on

MAX_BRIEF_DOCS = 12  # the brief reads the first reports and the latest ones, not all 200
MAX_DOC_CHARS = 20_000  # of each article's text
MAX_OTHER_LANGUAGES = 8  # other languages listed with their lead sentences
OTHER_LANGUAGE_DOCS = 4  # reports (earliest first) a language's lead sentences come from
OTHER_LANGUAGE_WORDS = 60  # the word budget of one language's lead sentences (two at most)


class SentenceCache:
    """Embeddings of sentences already seen, so a developing story's brief re-embeds
    only its new articles' sentences (an LRU bounded by `size` sentences)."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._vectors: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        from breakingon.cluster.embed import DIM, embed_texts

        missing = self._missing(texts)
        fresh = embed_texts(missing) if missing else np.zeros((0, DIM), dtype=np.float32)
        with self._lock:
            for t, v in zip(missing, fresh, strict=True):
                self._vectors[t] = v
            out = np.zeros((len(texts), DIM), dtype=np.float32)
            for i, t in enumerate(texts):
                v = self._vectors.get(t)
                if v is None:  # evicted between the two locks: embed it alone
                    v = embed_texts([t])[0]
                else:
                    self._vectors.move_to_end(t)
                out[i] = v
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        return out

    def warm(self, texts: Sequence[str]) -> int:
        """Embed the texts not yet kept, in one call (one large batch runs the encoder
        faster than many small ones). Returns how many were embedded."""
        missing = self._missing(texts)
        if missing:
            self(missing)
        return len(missing)

    def _missing(self, texts: Sequence[str]) -> list[str]:
        """The distinct texts not kept yet, in their first order."""
        with self._lock:
            return list(dict.fromkeys(t for t in texts if t not in self._vectors))


def brief_documents(articles: Sequence[Article]) -> list[Article]:
    """The articles a brief draws on: independent reports first (one per outlet, the
    earliest and the latest), syndicated copies only when nothing else says it."""
    independent = [a for a in articles if a.duplicate_of is None and (a.text or a.title)]
    by_outlet: dict[str, Article] = {}
    for a in sorted(independent, key=lambda a: (a.published, a.id or 0)):
        by_outlet.setdefault(a.outlet, a)
    firsts = list(by_outlet.values())
    if len(firsts) <= MAX_BRIEF_DOCS:
        return firsts
    half = MAX_BRIEF_DOCS // 2
    return firsts[:half] + firsts[-(MAX_BRIEF_DOCS - half) :]


def _source(a: Article) -> BriefSource:
    return BriefSource(
        id=str(a.id),
        title=a.title,
        text=a.text[:MAX_DOC_CHARS],
        outlet=a.outlet,
        url=a.url,
        published=a.published,
        authors=a.authors,
        duplicate_of=None,
    )


def _reports_in(articles: Sequence[Article], language: str) -> list[BriefSource]:
    return [_source(a) for a in brief_documents([a for a in articles if a.language == language])]


def _other_language(
    articles: Sequence[Article], coverage: LanguageCoverage, cfg: BriefSettings
) -> LanguageReport:
    """The outlets of one other language and one or two lead sentences in it, cited."""
    docs = _reports_in(articles, coverage.code)[:OTHER_LANGUAGE_DOCS]
    lead = write_brief(docs, replace(cfg, max_words=OTHER_LANGUAGE_WORDS), coverage.code)
    sentences = lead.dek or tuple(s for sec in lead.sections for s in sec.sentences)
    return LanguageReport(coverage.code, coverage.outlets, tuple(sentences[:2]))


def brief_by_language(
    articles: Sequence[Article], cfg: BriefSettings, preferred: str = ""
) -> tuple[Brief, list[BriefSource]]:
    """The extractive brief of a story and the reports it was written from.

    One language (or none known): every chosen report, as ever. Several: the reports in
    the language `languages.coverage.writing_order` puts first (the preferred one when
    an independent outlet reported in it, else the dominant one; the next one when it
    gives no sentence at all), then each other language's `LanguageReport`, most
    covered first. An article of unknown language is read only in a one-language story.
    """
    coverage = language_coverage(articles)
    order = writing_order(coverage, preferred)
    if len(order) <= 1:
        docs = [_source(a) for a in brief_documents(articles)]
        return write_brief(docs, cfg, order[0] if order else ""), docs
    written: list[tuple[Brief, list[BriefSource]]] = []
    for language in order:
        docs = _reports_in(articles, language)
        written.append((write_brief(docs, cfg, language), docs))
        if written[-1][0].dek or written[-1][0].sections:
            break
    brief, docs = next(((b, d) for b, d in written if b.dek or b.sections), written[0])
    others = [c for c in coverage if c.code != brief.language][:MAX_OTHER_LANGUAGES]
    reports = tuple(_other_language(articles, c, cfg) for c in others)
    return replace(brief, other_languages=reports), docs


def brief_texts(
    articles: Sequence[Article], preferred: str = "", cfg: BriefSettings | None = None
) -> list[str]:
    """The texts `write_story_brief` embeds for these articles, as far as they can be
    known before writing: the sentences and titles of the reports of the first language
    in writing order, and of the first reports of every other language. The story stage
    embeds those of several stories in one batch before it writes their briefs; a text
    this misses is embedded when the brief needs it, so the brief is the same either way.
    """
    cfg = cfg or BriefSettings()
    if len({a.outlet for a in brief_documents(articles)}) < 2:
        return []  # no brief is written
    coverage = language_coverage(articles)
    order = writing_order(coverage, preferred)
    if len(order) <= 1:
        groups = [([_source(a) for a in brief_documents(articles)], order[0] if order else "")]
    else:
        groups = [(_reports_in(articles, order[0]), order[0])]
        others = [c.code for c in coverage if c.code != order[0]][:MAX_OTHER_LANGUAGES]
        groups += [(_reports_in(articles, c)[:OTHER_LANGUAGE_DOCS], c) for c in others]
    return [t for docs, language in groups for t in brief_inputs(docs, cfg, language)[2]]


def brief_basis(articles: Sequence[Article], language: str = "") -> str:
    """A digest of everything `write_story_brief` reads from these articles: the reports
    of each language in writing order (id, title, text, outlet, url, time, authors),
    the other languages' outlets, and whether two outlets reported. Two article lists
    with the same basis get the same extractive brief, so the story stage keeps the brief
    it has while the basis stays (a new article from an outlet already in the brief, a
    syndicated copy, a non-article page) and writes it again only when it changes."""
    coverage = language_coverage(articles)
    order = writing_order(coverage, language)
    chosen = brief_documents(articles)
    parts: list[object] = [len({a.outlet for a in chosen}) >= 2, tuple(order)]
    if len(order) <= 1:
        parts.append(tuple(_source(a) for a in chosen))
    else:
        parts.extend(tuple(_reports_in(articles, code)) for code in order)
        parts.append(tuple((c.code, c.outlets) for c in coverage))
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def write_story_brief(
    articles: Sequence[Article],
    embedder: Embedder | None = None,
    llm: LLMSettings | None = None,
    api_key: str = "",
    post: PostJson | None = None,
    language: str = "",
) -> Brief | None:
    """The brief of a story with at least two independent outlets (else None).

    The extractive brief is always written (`brief_by_language`; `language` is the
    operator's preferred one, BREAKINGON_BRIEF_LANGUAGE, "" none); with `llm` and
    `post` (the client the caller injects, e.g. `crawl.api.ApiClient.post_json`), the
    abstractive rewrite of its text, in its language, replaces it only when every
    sentence is supported by the sources it cites.
    """
    chosen = brief_documents(articles)
    if len({a.outlet for a in chosen}) < 2:
        return None
    cfg = BriefSettings(embedder=embedder) if embedder is not None else BriefSettings()
    brief, docs = brief_by_language(articles, cfg, language)
    if llm is not None and llm.enabled and post is not None:
        from breakingon.story.brief.llm import rewrite_brief

        outcome = rewrite_brief(docs, brief, llm, {llm.api_key_env: api_key}, cfg, post=post)
        if not outcome.accepted:
            log.info("abstractive brief refused: %s", outcome.reason)
        brief = outcome.brief
    return brief
