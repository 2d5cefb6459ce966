"""Sections: a fixed taxonomy and an offline classifier that puts articles and stories in it.

Taxonomy (`SECTIONS`): world, politics, business, technology, science, health, sports,
entertainment. Definitions, keyword lexicons and feed-section synonyms live in
`data/sections.json`, written by hand for BreakingOn (no third-party text, nothing
trained on a research-only corpus).

A text's section scores combine three signals:
- zero-shot embeddings: mean cosine of the text's all-MiniLM-L6-v2 vector (`embed.py`,
  packaged, offline, one model instance) to each label's hand-written prototype
  sentences, turned into a distribution by a softmax;
- keyword lexicons: share of the text's keyword hits per label (title hits weigh more);
- the feed's own section, mapped through the synonym table ("sport" -> sports).

The lexicons fit long articles, where keywords pile up; a headline and a sentence hold
one or two. So the two are mixed by length: the lexicon's weight is
words / (words + LENGTH_HALF), the embeddings' the rest. Items under `EMBED_WORDS`
words are embedded here when the caller passes no vectors (cheap: a short head); longer
ones are read by the lexicons alone unless the caller passes vectors (the clusterer's).

Languages (`language=` / `languages=`, ISO 639-1, `tag.lang.signal_language`): English
(and an undetected language) as above. German, French, Spanish, Portuguese, Italian and
Dutch are read by their own hand-written lexicons (`lexicons`, `data/section_lexicons.json`)
and never by the English one, nor by the MiniLM prototypes (an English model): lexicon
weight 1, plus the feed's section and the outlet's focus. Any other language: the
language-neutral names (NATO, UEFA, Netflix) and those two priors. A text of another
language with no hit and no prior gets no section (`label` ""), never a guess.

Pure apart from loading the packaged model and lexicon: no store, no network, no clock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import numpy.typing as npt

from breakingon.tag import lexicons
from breakingon.tag.lang import signal_language

SECTIONS: tuple[str, ...] = (
    "world",
    "politics",
    "business",
    "technology",
    "science",
    "health",
    "sports",
    "entertainment",
)

# The feed's section is a strong but not absolute prior (a "top stories" feed carries no
# section, a "world" feed carries sport results too).
W_FEED = 0.6
W_FOCUS = 0.4  # the outlet's focus (a tech site's): weaker than the feed's own section
LENGTH_HALF = 40.0  # words at which lexicon and embeddings weigh the same
EMBED_WORDS = 150  # items shorter than this (title + text) are embedded when no vectors
EMBED_HEAD_WORDS = 60  # words of the text an item is embedded by here
TEMPERATURE = 0.05  # softmax temperature on mean cosines (they differ by ~0.02-0.2)
TITLE_WEIGHT = 3.0
MAX_WORDS = 400
MULTI_RATIO = 0.6  # secondary labels: at least this share of the top score
# The live path files an English article under no section when its best one scores below
# this (lexicons, feed and prototypes combined): a domestic crime report or the weather
# fits none of the eight, and a guess put it under World or Entertainment. On bbc-dev,
# where every item fits one, 1.3% of articles and 7% of headline-plus-lead items fall
# below it, labelled right 73% and 59% of the time (docs/signals.md, "Sections").
LIVE_MIN_SCORE = 0.3

_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")


@dataclass(frozen=True, slots=True)
class SectionResult:
    label: str
    labels: tuple[str, ...]  # the label first, then secondary labels
    scores: tuple[tuple[str, float], ...]  # every section, highest first


@lru_cache(maxsize=1)
def _taxonomy() -> dict[str, Any]:
    text = resources.files("breakingon").joinpath("data/sections.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=1)
def _lexicon() -> tuple[dict[str, dict[str, str]], dict[str, list[tuple[str, str]]]]:
    """Exact words and phrases per label, and prefixes (`word*`) per label."""
    exact: dict[str, dict[str, str]] = {}  # n-gram length -> {ngram: label}; may repeat
    prefixes: dict[str, list[tuple[str, str]]] = {}
    for label, spec in _taxonomy()["labels"].items():
        for kw in spec["keywords"]:
            if kw.endswith("*"):
                prefixes.setdefault(kw[0], []).append((kw[:-1], label))
            else:
                exact.setdefault(kw, {})[label] = label
    return exact, prefixes


@lru_cache(maxsize=1)
def _not_keywords() -> frozenset[tuple[str, str]]:
    """(word, keyword) pairs that are no cue for the keyword's section: "christmas party"
    is not politics, "broken windows" not technology (`not_keywords` in sections.json)."""
    pairs = (p.split() for p in _taxonomy().get("not_keywords", ()))
    return frozenset((w[-2], w[-1]) for w in pairs if len(w) >= 2)


def _tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def lexicon_scores(title: str, text: str, language: str = "en") -> dict[str, float]:
    """Weighted keyword hits per section (title hits count `TITLE_WEIGHT` times), in the
    lexicon of `language` (`signal_language`: "en", a language of `lexicons`, or "*" for
    the language-neutral names alone)."""
    lang = signal_language(language) if language != "*" else "*"
    if lang != "en":
        head = " ".join(text.split()[:MAX_WORDS])
        return lexicons.lexicon_hits(lang, ((title, TITLE_WEIGHT), (head, 1.0)), SECTIONS)
    exact = _lexicon()[0]
    excepted = _not_keywords()
    hits = dict.fromkeys(SECTIONS, 0.0)
    for block, w in ((title, TITLE_WEIGHT), (" ".join(text.split()[:MAX_WORDS]), 1.0)):
        toks = _tokens(block)
        for i, tok in enumerate(toks):
            if i and (toks[i - 1], tok) in excepted:
                continue  # "christmas party": the word is no cue here
            for n in (1, 2, 3):
                gram = " ".join(toks[i : i + n]) if n > 1 else tok
                if n > 1 and i + n > len(toks):
                    break
                for label in exact.get(gram, {}):
                    hits[label] += w
            for label in _prefix_labels(tok):
                hits[label] += w
    return hits


@lru_cache(maxsize=100_000)
def _prefix_labels(tok: str) -> tuple[str, ...]:
    """The label of every prefix keyword (`word*`) that `tok` starts with, once per
    keyword; none for a word that is an exact keyword itself. Cached: words repeat."""
    exact, prefixes = _lexicon()
    if tok in exact:
        return ()
    return tuple(label for pre, label in prefixes.get(tok[:1], ()) if tok.startswith(pre))


def feed_section(feed_sections: Sequence[str]) -> str:
    """The taxonomy label of a feed's own sections, "" when none maps (English names and
    those of the languages in `lexicons`: "Wirtschaft", "Deportes")."""
    table = _feed_table()
    for s in feed_sections:
        key = " ".join(s.lower().replace("_", " ").split())
        if key in table:
            return table[key]
        for part in re.split(r"[/|>,:]", key):
            if part.strip() in table:
                return table[part.strip()]
    return ""


@lru_cache(maxsize=1)
def _feed_table() -> dict[str, str]:
    own: dict[str, str] = _taxonomy()["feed_sections"]
    return {**lexicons.feed_synonyms(), **own}


@lru_cache(maxsize=1)
def _label_vectors() -> tuple[npt.NDArray[np.float32], tuple[int, ...]]:
    from breakingon.cluster.embed import embed_texts

    texts: list[str] = []
    owner: list[int] = []
    for idx, label in enumerate(SECTIONS):
        for d in _taxonomy()["labels"][label]["prototypes"]:
            texts.append(d)
            owner.append(idx)
    return embed_texts(texts), tuple(owner)


def embedding_scores(vectors: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    """Softmax over sections of the mean cosine to each section's prototype sentences."""
    lab, owner = _label_vectors()
    sims = vectors @ lab.T  # (n, prototypes)
    who = np.asarray(owner)
    mean = np.stack([sims[:, who == idx].mean(axis=1) for idx in range(len(SECTIONS))], 1)
    z = mean / TEMPERATURE
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float64)


def _words(title: str, text: str) -> int:
    return len(title.split()) + len(text.split())


def _combine(
    lex: dict[str, float],
    emb: Sequence[float] | None,
    feed: str,
    words: int,
    focus: str = "",
    guess: bool = True,
    min_score: float = 0.0,
) -> SectionResult:
    total = sum(lex.values())
    if not guess and total == 0 and emb is None and not feed and not focus:
        # nothing tells (another language's text without a keyword or a prior)
        return SectionResult("", (), tuple((label, 0.0) for label in SECTIONS))
    w_lex = 1.0 if emb is None else words / (words + LENGTH_HALF)
    scores: dict[str, float] = {}
    for i, label in enumerate(SECTIONS):
        # Laplace-smoothed share of keyword hits, so one stray hit is not certainty.
        lex_p = (lex[label] + 0.5) / (total + 0.5 * len(SECTIONS))
        s = w_lex * lex_p
        if emb is not None:
            s += (1.0 - w_lex) * emb[i]
        if feed == label:
            s += W_FEED
        if focus == label:
            s += W_FOCUS
        scores[label] = round(s, 6)
    ranked = sorted(scores.items(), key=lambda p: (-p[1], SECTIONS.index(p[0])))
    top = ranked[0]
    if top[1] < min_score:  # no section fits well enough (a crime report, the weather)
        return SectionResult("", (), tuple(ranked))
    labels = tuple(
        lbl for lbl, sc in ranked if lbl == top[0] or (sc >= MULTI_RATIO * top[1] and sc > 0.2)
    )
    return SectionResult(top[0], labels, tuple(ranked))


def classification_vectors(items: Sequence[tuple[str, str]]) -> npt.NDArray[np.float32]:
    """MiniLM vectors of (title, text) pairs the way the classifier reads them."""
    from breakingon.cluster.embed import embed_texts

    texts = [f"{t}. {' '.join(x.split()[:120])}" for t, x in items]
    return embed_texts(texts, max_seq_length=160)


def _short_vectors(
    items: Sequence[tuple[str, str, Sequence[str]]], english: Sequence[bool]
) -> dict[int, npt.NDArray[np.float32]]:
    """MiniLM vectors of the English items under `EMBED_WORDS` words, by index (a short
    head)."""
    from breakingon.cluster.embed import embed_texts

    short = [i for i, (t, x, _) in enumerate(items) if english[i] and _words(t, x) < EMBED_WORDS]
    if not short:
        return {}
    texts = [f"{items[i][0]}. {' '.join(items[i][1].split()[:EMBED_HEAD_WORDS])}" for i in short]
    vecs = embed_texts(texts, max_seq_length=96)
    return dict(zip(short, vecs, strict=True))


def classify_many(
    items: Sequence[tuple[str, str, Sequence[str]]],
    vectors: npt.NDArray[np.float32] | None = None,
    *,
    embed_short: bool = True,
    focus: Sequence[str] | None = None,
    languages: Sequence[str] | None = None,
    min_score: float = 0.0,
) -> list[SectionResult]:
    """Classify (title, text, feed_sections) triples.

    Lexicons and the feed's section always count. Embeddings count too, weighed against
    the lexicons by the item's length: every item's when `vectors` (one MiniLM vector
    per item, e.g. the clusterer's, or `classification_vectors`) are given; else those
    of items under `EMBED_WORDS` words, embedded here (`embed_short=False`: none, the
    lexicon-only mode). Long articles without vectors are read by the lexicons alone:
    on them the lexicons measured more accurate and ~100x cheaper (docs/signals.md).
    `focus`: per item, the outlet's focus (`sources.catalogue.outlet_focus`, mapped like
    a feed section), a weaker prior than the feed's own section.
    `languages`: per item, its language (ISO 639-1; none or "": English): a text in
    another language is read by its own lexicon, never by the English one or the
    MiniLM prototypes (its vector, if given, is not used).
    `min_score`: an item whose best section scores below it gets none (the live path
    uses `LIVE_MIN_SCORE`; the batch entry point always answers).
    """
    if not items:
        return []
    langs = [signal_language(languages[i] if languages else "") for i in range(len(items))]
    english = [lang == "en" for lang in langs]
    rows: dict[int, npt.NDArray[np.float64]] = {}
    if vectors is not None:
        rows = {i: r for i, r in enumerate(embedding_scores(vectors)) if english[i]}
    elif embed_short and (short := _short_vectors(items, english)):
        emb = embedding_scores(np.stack(list(short.values())))
        rows = dict(zip(short, emb, strict=True))
    out = []
    for i, (title, text, sections) in enumerate(items):
        got = rows.get(i)
        row = None if got is None else [float(v) for v in got]
        lex = lexicon_scores(title, text, langs[i])
        hint = feed_section([focus[i]]) if focus and focus[i] else ""
        feed = feed_section(sections)
        words = _words(title, text)
        out.append(_combine(lex, row, feed, words, hint, guess=english[i], min_score=min_score))
    return out


def classify(
    title: str,
    text: str,
    feed_sections: Sequence[str] = (),
    vector: npt.NDArray[np.float32] | None = None,
    *,
    embed_short: bool = False,
    language: str = "",
) -> SectionResult:
    """Section of one article: the label, secondary labels and every section's score.

    Lexicons and the feed's section only unless `vector` is given or `embed_short` is
    set: this is the ingest path (`tag.facts`), run in extraction worker processes that
    must stay light and under their memory cap, so they never load the encoder. Batch
    callers use `classify_many`, which embeds short items. `language`: the article's
    (ISO 639-1; "": English)."""
    vecs = None if vector is None else vector.reshape(1, -1)
    one = [(title, text, feed_sections)]
    return classify_many(one, vecs, embed_short=embed_short, languages=[language])[0]
