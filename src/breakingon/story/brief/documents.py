"""The brief of a story as the story stage writes it: which articles it reads, and the
extractive brief with the optional abstractive rewrite.

`brief_documents(articles)` chooses the reports a brief draws on; `write_story_brief`
writes the brief from them (None for a story of fewer than two outlets). This is the
production path the brief evaluation gate measures. Must not touch the store or the
web layer; the only network use is the optional rewrite (`llm`).
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from breakingon.records import Article, Brief
from breakingon.story.brief.extractive import BriefSettings, BriefSource, Embedder, write_brief

if TYPE_CHECKING:
    from breakingon.story.brief.llm import LLMSettings, PostJson

log = logging.getLogger("breakingon.process")  # the name operators filter on

MAX_BRIEF_DOCS = 12  # the brief reads the first reports and the latest ones, not all 200
MAX_DOC_CHARS = 20_000  # of each article's text


class SentenceCache:
    """Embeddings of sentences already seen, so a developing story's brief re-embeds
    only its new articles' sentences (an LRU bounded by `size` sentences)."""

    def __init__(self, size: int = 50_000) -> None:
        self.size = size
        self._vectors: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        from breakingon.cluster.embed import DIM, embed_texts

        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
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


def write_story_brief(
    articles: Sequence[Article],
    embedder: Embedder | None = None,
    llm: LLMSettings | None = None,
    api_key: str = "",
    post: PostJson | None = None,
) -> Brief | None:
    """The brief of a story with at least two independent outlets (else None).

    The extractive brief is always written; with `llm` and `post` (the client the caller
    injects, e.g. `crawl.api.ApiClient.post_json`), the abstractive rewrite replaces it
    only when every sentence is supported by the sources it cites.
    """
    chosen = brief_documents(articles)
    if len({a.outlet for a in chosen}) < 2:
        return None
    docs = [
        BriefSource(
            id=str(a.id),
            title=a.title,
            text=a.text[:MAX_DOC_CHARS],
            outlet=a.outlet,
            url=a.url,
            published=a.published,
            authors=a.authors,
            duplicate_of=None,
        )
        for a in chosen
    ]
    cfg = BriefSettings(embedder=embedder) if embedder is not None else BriefSettings()
    brief: Brief = write_brief(docs, cfg)
    if llm is not None and llm.enabled and post is not None:
        from breakingon.story.brief.llm import rewrite_brief

        outcome = rewrite_brief(docs, brief, llm, {llm.api_key_env: api_key}, cfg, post=post)
        if not outcome.accepted:
            log.info("abstractive brief refused: %s", outcome.reason)
        brief = outcome.brief
    return brief
