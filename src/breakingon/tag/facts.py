"""The facts of one article, computed once at ingest from its final title and text.

`article_facts(article)` is the one place they are computed, for every way an article
enters (a polled feed and its page, a pushed feed document whose pages are then fetched
like any other, a page from a web archive): its language, its content hash and MinHash
signature (`dedup.near`, for syndicated-copy detection), its sections, the places it is
about and its page kind ("" for a news report, else what kind of non-article page it is,
`extract.pagekind`). `with_facts` puts them on the article; the pipeline stores them
with it, and later stages read them instead of computing them again.

Pure: records in, records out; no store, no network, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from breakingon.dedup.near import fingerprints
from breakingon.extract.pagekind import non_article_kind
from breakingon.records import Article, Place
from breakingon.tag.lang import detect_language
from breakingon.tag.local import geotag_local
from breakingon.tag.sections import classify
from breakingon.text import whole_title

__all__ = ["ArticleFacts", "article_facts", "final_text", "with_facts"]

# Language is told from the title and the head of the text; places from a longer head.
LANGUAGE_CHARS = 2000
PLACES_CHARS = 5000


@dataclass(frozen=True, slots=True)
class ArticleFacts:
    """What ingest stores about an article's text (the signature stays in memory)."""

    language: str
    content_hash: str
    signature: bytes  # MinHash hash values of the text (little-endian uint64)
    sections: tuple[str, ...]
    places: tuple[Place, ...]
    page_kind: str


def final_text(art: Article) -> str:
    """The text an article is stored and judged by: its own, else its feed summary."""
    return art.text or art.summary


def article_facts(art: Article, *, language_known: bool = False) -> ArticleFacts:
    """The facts of `art` from its final title and text (`final_text`).

    `language_known`: `art.language` was detected on this very text (by extraction), so
    it is not detected again; otherwise it is detected from the title and the head of the
    text, and `art.language` (the feed's declared language) stands when that is unsure.
    `art.sections` are the feed's sections (hints for the classifier), `art.country`
    the outlet's country (a hint for place names) and `art.place` the outlet's recorded
    place (a local outlet's: `tag.local`). Sections and places are read in the
    article's language (docs/signals.md, "Languages").
    """
    text = final_text(art)
    if language_known and art.language:
        language = art.language
    else:
        language = detect_language(f"{art.title}. {text[:LANGUAGE_CHARS]}") or art.language
    prints = fingerprints(text)
    return ArticleFacts(
        language=language,
        content_hash=prints.content_hash,
        signature=prints.signature,
        sections=classify(art.title, text, art.sections, language=language).labels,
        places=geotag_local(art.title, text[:PLACES_CHARS], art.country, art.place, language),
        page_kind=non_article_kind(art.title, text),
    )


def with_facts(art: Article, facts: ArticleFacts) -> Article:
    """`art` with its final title and text and its facts (`duplicate_of` is the caller's:
    it needs the index of earlier articles)."""
    text = final_text(art)
    return replace(
        art,
        # a feed title cut with "…" is stored whole when its own text begins with it,
        # so every page, the API and the feeds show the same title
        title=whole_title(art.title, text[:2000]),
        text=text,
        language=facts.language,
        content_hash=facts.content_hash,
        sections=facts.sections,
        places=facts.places,
        page_kind=facts.page_kind,
    )
