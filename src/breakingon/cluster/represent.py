"""Article representations for story clustering: embedding, lexical and entity signals.

One `Representation` per article: a unit sentence-embedding vector (MiniLM, via
`breakingon.cluster.embed`, on the title and the first words of the text), the article's
content-word counts (for TF-IDF with an IDF the clusterer learns online), and its
entity keys (capitalized names, places, numbers, dates) that tell two events of the
same kind apart (two earthquakes, two trials), a fingerprint of its opening words, and
whether it is a non-article page (`pagekind`: crawl notices, consent walls, players).

Pure stage: no store, no network, no web; the embedding model ships in a package.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

from breakingon.extract.pagekind import non_article_kind
from breakingon.records import Article
from breakingon.stopwords import ENGLISH_STOP_WORDS

# Calibration (measured with bench/clustering on the shared sets, see docs/research/clustering.md):
# 128 word pieces of title + lead keep MiniLM at ~65 articles/s on 2 cores (256 halves it)
# and the lead is where news text says what happened.
EMBED_MAX_TOKENS = 128
EMBED_WORDS = 160
# Lexical and entity signals read a longer lead: later paragraphs of web pages are often
# boilerplate (related links, comments), the first few hundred words are the report.
LEXICAL_WORDS = 400
MAX_TERMS = 120
MAX_ENTITIES = 60

_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019\-]*[A-Za-z]|\d+(?:[.,]\d+)*")
_CAP_SEQ = re.compile(
    r"(?<![\w'\u2019])([A-Z][A-Za-z'\u2019\-]*[A-Za-z](?:\s+(?:of\s+|de\s+|la\s+)?[A-Z][A-Za-z'\u2019\-]*[A-Za-z])*)"
)
_NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w])")
_SENTENCE_END = re.compile(r"[.!?\u201d\"]\s*$")
_STOP = frozenset(ENGLISH_STOP_WORDS) | {
    "said",
    "says",
    "say",
    "told",
    "year",
    "years",
    "new",
    "just",
    "like",
    "time",
    "people",
    "according",
    "reported",
    "report",
    "reports",
    "news",
    "week",
    "day",
    "mr",
    "mrs",
    "ms",
    "it's",
    "don't",
    "image",
    "photo",
    "caption",
    "copyright",
    "getty",
    "images",
    "ap",
    "reuters",
    "click",
    "read",
    "share",
    "advertisement",
}
# Capitalized words that are not names (sentence furniture, honorifics, weekdays are kept:
# "Tuesday" does help tell two events apart within a week).
_NOT_ENTITY = _STOP | {
    "the",
    "a",
    "an",
    "in",
    "on",
    "at",
    "but",
    "and",
    "he",
    "she",
    "it",
    "they",
    "we",
    "i",
    "you",
    "this",
    "that",
    "there",
    "his",
    "her",
    "their",
    "when",
    "after",
    "while",
    "as",
    "if",
    "for",
    "more",
    "also",
    "president",
    "police",
    "officials",
    "update",
    "updated",
    "video",
    "sign",
    "subscribe",
}


# Words that never make a name on their own, even inside a capitalized run ("The White House").
_FUNCTION = frozenset({"the", "a", "an", "of", "de", "la", "and", "in", "on", "at", "for", "to"})


@dataclass(frozen=True, slots=True)
class ClusterInput:
    """What the clusterer needs to know about one article (built from `Article` or a line)."""

    key: str  # article id as text (store ids and batch-file ids alike)
    title: str
    text: str
    published: datetime | None = None  # UTC-aware; None when unknown
    outlet: str = ""
    duplicate_of: str | None = None  # key of the first copy of a syndicated text


@dataclass(frozen=True, slots=True, eq=False)
class Representation:
    """The signals of one article. `vector` is a unit float32 vector (read-only)."""

    key: str
    vector: npt.NDArray[np.float32]
    terms: tuple[tuple[str, int], ...]  # content-word counts, most frequent first
    entities: tuple[str, ...]  # distinct entity keys, first mention first
    lead: str = ""  # fingerprint of the first words of the text ("" when too short)
    non_article: str = ""  # the kinds of non-article page it is (`pagekind`), "" if none


def input_from_article(article: Article) -> ClusterInput:
    """Build a `ClusterInput` from a stored `Article` (which must have an id)."""
    if article.id is None:
        raise ValueError("article has no id; store it before clustering")
    dup = None if article.duplicate_of is None else str(article.duplicate_of)
    return ClusterInput(
        key=str(article.id),
        title=article.title,
        text=article.text,
        published=article.published,
        outlet=article.outlet,
        duplicate_of=dup,
    )


def lead_fingerprint(text: str, words: int = 40) -> str:
    """A stable fingerprint of the first words of a text (case and spacing ignored).

    Lets the clusterer notice template text (crawl notices, consent walls, error pages)
    that many unrelated articles share. "" for texts shorter than 20 words.
    """
    head = text.lower().split()[:words]
    if len(head) < 20:
        return ""
    return hashlib.blake2b(" ".join(head).encode("utf-8"), digest_size=8).hexdigest()


def _lead(text: str, words: int) -> str:
    return " ".join(text.split()[:words])


def embedding_text(item: ClusterInput) -> str:
    """The text the embedding model reads: title, then the first words of the body."""
    lead = _lead(item.text, EMBED_WORDS)
    title = item.title.strip()
    return f"{title}. {lead}" if title else lead


def _norm_term(word: str) -> str:
    w = word.lower().replace("\u2019", "'")
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    return w


def extract_terms(title: str, text: str) -> tuple[tuple[str, int], ...]:
    """Content-word counts of the title (counted twice) and lead, most frequent first."""
    counts: Counter[str] = Counter()
    for weight, part in ((2, title), (1, _lead(text, LEXICAL_WORDS))):
        for m in _WORD.finditer(part):
            raw = m.group(0)
            if raw[0].isdigit():
                continue  # numbers are entity signals, not topic words
            term = _norm_term(raw)
            if len(term) < 3 or term in _STOP:
                continue
            counts[term] += weight
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(ranked[:MAX_TERMS])


def _entity_number(raw: str) -> str | None:
    digits = raw.replace(",", "")
    try:
        value = float(digits)
    except ValueError:
        return None
    if value < 2:
        return None  # 0 and 1 are everywhere
    return "#" + (digits.rstrip("0").rstrip(".") if "." in digits else digits)


def extract_entities(title: str, text: str) -> tuple[str, ...]:
    """Entity keys of an article: names/places (`e:word`) and numbers/years (`#n`).

    A hand-written extractor: capitalized word sequences, minus sentence-initial function
    words and furniture; each word of a name is a key, so "Manuel Gomes" and "Gomes"
    share one. Numbers keep decimals ("6.1" magnitude, "$3 million" -> #3).
    """
    seen: dict[str, None] = {}
    body = _lead(text, LEXICAL_WORDS)
    for part in (title, body):
        for m in _CAP_SEQ.finditer(part):
            words = m.group(1).split()
            start = m.start(1)
            sentence_initial = start == 0 or bool(
                _SENTENCE_END.search(part[max(0, start - 3) : start])
            )
            for i, word in enumerate(words):
                lw = word.lower().replace("\u2019", "'").removesuffix("'s")
                if len(lw) < 2 or lw in _FUNCTION:
                    continue
                if word.isupper() and len(word) > 5:
                    continue  # shouting, not a name (acronyms are short)
                if len(words) == 1 and lw in _NOT_ENTITY:
                    continue
                if i == 0 and sentence_initial and lw in _STOP:
                    continue
                seen.setdefault("e:" + lw, None)
        for m in _NUMBER.finditer(part):
            key = _entity_number(m.group(1))
            if key is not None:
                seen.setdefault(key, None)
        if len(seen) >= MAX_ENTITIES:
            break
    return tuple(list(seen)[:MAX_ENTITIES])


def represent(items: Sequence[ClusterInput], batch_size: int = 32) -> list[Representation]:
    """Represent articles, embedding them in batches (the costly part)."""
    from breakingon.cluster.embed import embed_texts

    vecs = embed_texts(
        [embedding_text(it) for it in items],
        batch_size=batch_size,
        max_seq_length=EMBED_MAX_TOKENS,
    )
    out: list[Representation] = []
    for item, vec in zip(items, vecs, strict=True):
        v = np.ascontiguousarray(vec, dtype=np.float32)
        v.setflags(write=False)
        out.append(
            Representation(
                key=item.key,
                vector=v,
                terms=extract_terms(item.title, item.text),
                entities=extract_entities(item.title, item.text),
                lead=lead_fingerprint(item.text),
                non_article=non_article_kind(item.title, item.text),
            )
        )
    return out
