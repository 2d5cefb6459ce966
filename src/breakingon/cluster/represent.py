"""Article representations for story clustering: embedding, lexical and entity signals.

One `Representation` per article: two unit sentence-embedding vectors of the title and
the first words of the text (MiniLM, via `breakingon.cluster.embed`, for English
articles; multilingual-e5-small, via `breakingon.cluster.multilingual`, for every
article, centred so that its cosines spread like MiniLM's), the article's language, the article's
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
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from breakingon.extract.pagekind import non_article_kind
from breakingon.records import Article
from breakingon.stopwords import ENGLISH_STOP_WORDS, stop_words

# Calibration (measured with bench/clustering on the shared sets, see docs/research/clustering.md):
# 128 word pieces of title + lead keep MiniLM at ~65 articles/s on 2 cores (256 halves it)
# and the lead is where news text says what happened.
EMBED_MAX_TOKENS = 128
MULTILINGUAL_MAX_TOKENS = 128  # 64 measured: 1.3x the speed, semeval Pearson 0.779 (docs/research)
EMBED_WORDS = 160
# Lexical and entity signals read a longer lead: later paragraphs of web pages are often
# boilerplate (related links, comments), the first few hundred words are the report.
LEXICAL_WORDS = 400
MAX_TERMS = 120
MAX_ENTITIES = 60

# Letters of any script: German, Czech, Turkish, Russian or Greek words are words too.
_LETTER = r"[^\W\d_]"
_UPPER = "[" + "".join(re.escape(chr(c)) for c in range(0x2000) if chr(c).isupper()) + "]"
_WORD = re.compile(rf"{_LETTER}(?:{_LETTER}|['\u2019\-])*{_LETTER}|\d+(?:[.,]\d+)*")
_NAME_WORD = rf"{_UPPER}(?:{_LETTER}|['\u2019\-])*{_LETTER}"
_CAP_SEQ = re.compile(rf"(?<![\w'\u2019])({_NAME_WORD}(?:\s+(?:of\s+|de\s+|la\s+)?{_NAME_WORD})*)")
# Thousands grouped by commas, stops, thin or plain spaces ("1,000", "1.000", "1 000");
# decimals with a point or a comma ("6.1", "6,1").
_NUMBER = re.compile(
    r"(?<![\w.,])(\d{1,3}(?:([,.\u00a0\u202f ])\d{3})(?:\2\d{3})*(?![.,]?\d)"
    r"|\d+(?:[.,]\d+)?)(?![\w])"
)
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
    language: str = ""  # ISO 639-1; "" when unknown (then detected from the text)


@dataclass(frozen=True, slots=True, eq=False)
class Representation:
    """The signals of one article. `vector` (MiniLM; zeros for an article that is not in
    English) and `xvector` (multilingual, centred; zeros when absent) are unit float32
    vectors (read-only)."""

    key: str
    vector: npt.NDArray[np.float32]
    terms: tuple[tuple[str, int], ...]  # content-word counts, most frequent first
    entities: tuple[str, ...]  # distinct entity keys, first mention first
    lead: str = ""  # fingerprint of the first words of the text ("" when too short)
    non_article: str = ""  # the kinds of non-article page it is (`pagekind`), "" if none
    xvector: npt.NDArray[np.float32] | None = None  # multilingual space; None: not computed
    language: str = "en"  # the language the lexical signals are in ("en" for legacy records)

    @property
    def english(self) -> bool:
        """Whether the MiniLM vector applies (an English article)."""
        return self.language == "en"


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
        language=article.language,
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
    if not w.isascii():
        w = fold(w)
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 4 and w.endswith("ies"):
        w = w[:-3] + "y"
    elif len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        w = w[:-1]
    return w


@lru_cache(maxsize=64)
def _stop_words(language: str) -> frozenset[str]:
    """The words that say nothing about an event in `language`: English, the list the
    clusterer was tuned with; others, `breakingon.stopwords.stop_words` (the stop-words
    package's 33 languages), with folded spellings; none for a language it lacks."""
    if language in ("en", ""):
        return _STOP
    words = stop_words(language)
    return frozenset(words | {fold(w) for w in words})


def extract_terms(title: str, text: str, language: str = "en") -> tuple[tuple[str, int], ...]:
    """Content-word counts of the title (counted twice) and lead, most frequent first."""
    stop = _stop_words(language)
    counts: Counter[str] = Counter()
    for weight, part in ((2, title), (1, _lead(text, LEXICAL_WORDS))):
        for m in _WORD.finditer(part):
            raw = m.group(0)
            if raw[0].isdigit():
                continue  # numbers are entity signals, not topic words
            term = _norm_term(raw)
            if len(term) < 3 or term in stop or raw.lower() in stop:
                continue
            counts[term] += weight
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(ranked[:MAX_TERMS])


def fold(word: str) -> str:
    """A word in Latin letters without diacritics ("Gábor" -> "gabor", "Обама" ->
    "obama"), so that one name written in two languages or scripts is one key."""
    from anyascii import anyascii

    return anyascii(word).lower()


def _entity_number(raw: str) -> str | None:
    if re.fullmatch(r"\d{1,3}(?:[,.\u00a0\u202f ]\d{3})+", raw):
        digits = re.sub(r"\D", "", raw)  # grouped thousands
    else:
        digits = raw.replace(",", ".")  # a decimal comma is a decimal point
    try:
        value = float(digits)
    except ValueError:
        return None
    if value < 2:
        return None  # 0 and 1 are everywhere
    return "#" + (digits.rstrip("0").rstrip(".") if "." in digits else digits)


def extract_entities(title: str, text: str, language: str = "en") -> tuple[str, ...]:
    """Entity keys of an article: names/places (`e:word`) and numbers/years (`#n`).

    A hand-written extractor: capitalized word sequences, minus sentence-initial function
    words and furniture; each word of a name is a key, so "Manuel Gomes" and "Gomes"
    share one. Numbers keep decimals ("6.1" magnitude, "$3 million" -> #3).
    """
    seen: dict[str, None] = {}
    stop = _stop_words(language)
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
                if not lw.isascii():
                    lw = fold(lw)
                if len(lw) < 2 or lw in _FUNCTION:
                    continue
                if word.isupper() and len(word) > 5:
                    continue  # shouting, not a name (acronyms are short)
                if len(words) == 1 and lw in _NOT_ENTITY:
                    continue
                if i == 0 and sentence_initial and lw in _STOP:
                    continue
                if language != "en" and lw in stop:
                    continue  # "Der", "Les", "Para": function words, capitalised
                seen.setdefault("e:" + lw, None)
        for m in _NUMBER.finditer(part):
            key = _entity_number(m.group(1))
            if key is not None:
                seen.setdefault(key, None)
        if len(seen) >= MAX_ENTITIES:
            break
    return tuple(list(seen)[:MAX_ENTITIES])


def article_language(item: ClusterInput) -> str:
    """The article's language: the one it carries, else detected from its text ("" when
    the detector is unsure: such an article is compared in the multilingual space)."""
    if item.language:
        return item.language.lower()
    from breakingon.tag.lang import detect_language

    return detect_language(f"{item.title}\n{_lead(item.text, LEXICAL_WORDS)}")


def represent(items: Sequence[ClusterInput], batch_size: int = 32) -> list[Representation]:
    """Represent articles, embedding them in batches (the costly part).

    Every article gets the multilingual vector; English ones the MiniLM vector too
    (English against English is compared with MiniLM: docs/clustering.md).
    """
    from breakingon.cluster.embed import DIM, embed_texts
    from breakingon.cluster.multilingual import embed_centred

    languages = [article_language(it) for it in items]
    texts = [embedding_text(it) for it in items]
    english = [i for i, lang in enumerate(languages) if lang == "en"]
    vecs = np.zeros((len(items), DIM), dtype=np.float32)
    if english:
        vecs[english] = embed_texts(
            [texts[i] for i in english], batch_size=batch_size, max_seq_length=EMBED_MAX_TOKENS
        )
    xvecs = embed_centred(texts, max_tokens=MULTILINGUAL_MAX_TOKENS)
    out: list[Representation] = []
    for item, vec, xvec, lang in zip(items, vecs, xvecs, languages, strict=True):
        v = np.ascontiguousarray(vec, dtype=np.float32)
        v.setflags(write=False)
        x = np.ascontiguousarray(xvec, dtype=np.float32)
        x.setflags(write=False)
        out.append(
            Representation(
                key=item.key,
                vector=v,
                terms=extract_terms(item.title, item.text, lang or "en"),
                entities=extract_entities(item.title, item.text, lang or "en"),
                lead=lead_fingerprint(item.text),
                non_article=non_article_kind(item.title, item.text),
                xvector=x,
                language=lang,
            )
        )
    return out
