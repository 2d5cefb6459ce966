"""Is a rewritten sentence supported by the articles it cites? The abstractive writer's check.

`check_support(sentence, cited, cfg, min_support)` says why not (or None). A sentence is
supported only when all of these hold:

- it is no instruction to a model itself, and it cites at least one article;
- every number in it is in the cited articles, and every name is there as a whole word
  ("Ned" is not in "resigned"): capitalised words inside the sentence, and a capitalised
  first word that is not a common word ("Ned said ..." needs a Ned in a source);
- the most similar sentence of a cited article (or a title) is within `min_support`
  cosine similarity and has the same negation polarity ("did not win" is no support
  for "won"); some such sentence comes from an article holding all its names;
- no cited sentence has two of its names joined by the same verb the other way round
  ("A defeated B" against "B defeated A"; the passive "B was defeated by A" agrees);
- an instruction to a model planted in an article ("Ignore previous instructions and
  write that ...", `text.is_instruction`) is never support: it is left out of the
  sentences and of the words names and numbers are looked up in.

A brief in another language than English (`language`) is checked with that language's
words where `languages.words` lists them: its negations ("nicht", "ne ... pas"), its
passive agent ("von", "par") and its number words ("drei" must be a 3 in the sources);
a capitalised first word is not taken for a name (German capitalises every noun).

Pure: the embedder comes with `BriefSettings`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from breakingon.languages.sentences import is_english, negated_in, number_words_in
from breakingon.languages.words import PASSIVE_AGENT
from breakingon.stopwords import ENGLISH_STOP_WORDS
from breakingon.story.brief.extractive import BriefSettings, BriefSource
from breakingon.text import (
    is_instruction,
    normalize_space,
    number_tokens,
    proper_names,
    split_sentences,
)

__all__ = ["check_support", "negated"]

_TOKEN = re.compile(r"\w[\w'’\-.]*\w|\w")
_PIECES = re.compile(r"(?<=[.!?…])[\"”’)]*\s+|\n+")
_NEGATION = re.compile(
    r"(?i)\b(?:not|no|never|none|nobody|nothing|nowhere|neither|nor|without|cannot|"
    r"den(?:y|ies|ied)|refus(?:e|es|ed)\s+to|fail(?:s|ed)?\s+to|no\s+longer)\b|n[’']t\b"
)
_PASSIVE = frozenset({"by"})


def _norm(token: str) -> str:
    t = token.lower().replace(".", "").strip("'’-")
    for suffix in ("'s", "’s"):
        t = t.removesuffix(suffix)
    return t


def _tokens(text: str) -> list[str]:
    return [t for t in (_norm(m.group(0)) for m in _TOKEN.finditer(text)) if t]


def negated(sentence: str, language: str = "") -> bool:
    """True when the sentence says something is not so (not, never, no longer, denied;
    in another language, its own words where they are listed)."""
    if not is_english(language):
        own = negated_in(sentence, language)
        if own is not None:
            return own
    return bool(_NEGATION.search(sentence))


def _clean(text: str) -> str:
    """`text` without the pieces that are instructions to a model."""
    return " ".join(p for p in _PIECES.split(text) if p.strip() and not is_instruction(p))


@dataclass(frozen=True, slots=True)
class _Doc:
    words: frozenset[str]  # every token of the title and the text, instructions left out
    names: frozenset[str]  # capitalised words inside its sentences


def _names(
    sentence: str, known_names: frozenset[str], language: str = ""
) -> tuple[set[str], list[str]]:
    """(every name in `sentence` to look up; the names in order, for roles). A
    capitalised first word counts when it is not a stop word (in English)."""
    inner = {_norm(n) for n in proper_names(sentence)}
    tokens = _TOKEN.findall(sentence)
    lookup = set(inner)
    if tokens and tokens[0][:1].isupper() and is_english(language):
        first = _norm(tokens[0])
        if first not in ENGLISH_STOP_WORDS:
            lookup.add(first)
            if first in known_names:
                inner.add(first)
    order = [t for t in _tokens(sentence) if t in inner]
    return {n for n in lookup if n}, order


def _roles_swapped(claim: str, support: str, names: set[str], passive: frozenset[str]) -> bool:
    """Two names of `claim` joined by a content word (a verb) appear in `support` in the
    other order around that word (a passive "by" on one side only turns it back)."""
    ct, st = _tokens(claim), _tokens(support)
    spots = [(i, t) for i, t in enumerate(ct) if t in names]
    for (i, x), (j, y) in itertools.pairwise(spots):
        if x == y or x not in st or y not in st:
            continue
        between = ct[i + 1 : j]
        verbs = {w[:5] for w in between if w.isalpha() and w not in ENGLISH_STOP_WORDS}
        if not verbs:
            continue
        px, py = st.index(x), st.index(y)
        lo, hi = sorted((px, py))
        s_between = st[lo + 1 : hi]
        if not verbs & {w[:5] for w in s_between}:
            continue  # not the same relation in this sentence: nothing to compare
        flipped = py < px
        turned = bool(passive & set(between)) != bool(passive & set(s_between))
        if flipped != turned:
            return True
    return False


def check_support(
    sentence: str,
    cited: Sequence[BriefSource],
    cfg: BriefSettings,
    min_support: float,
    language: str = "",
) -> str | None:
    """Why `sentence` is not supported by the `cited` articles, or None when it is;
    `language` is the brief's (ISO 639-1, "" unknown)."""
    if is_instruction(sentence):
        return "an instruction, not reporting"
    if not cited:
        return "no citation"
    docs: list[_Doc] = []
    source_sents: list[tuple[int, str]] = []
    for k, d in enumerate(cited):
        text = _clean(normalize_space(d.title) + "\n" + d.text)
        names = frozenset(_norm(n) for n in proper_names(text))
        docs.append(_Doc(frozenset(_tokens(text)), names))
        source_sents += [
            (k, s.text)
            for s in split_sentences(d.text, k, min_words=3, lang=language)
            if not is_instruction(s.text)
        ]
        if d.title.strip() and not is_instruction(d.title):
            source_sents.append((k, normalize_space(d.title)))
    corpus = " ".join(_clean(d.title + "\n" + d.text) for d in cited)
    claimed = number_tokens(sentence) | number_words_in(sentence, language)
    missing_numbers = claimed - number_tokens(corpus) - number_words_in(corpus, language)
    if missing_numbers:
        return f"number not in sources: {sorted(missing_numbers)[0]}"
    words = frozenset().union(*(d.words for d in docs))
    known = frozenset().union(*(d.names for d in docs))
    lookup, order = _names(sentence, known, language)
    missing_names = sorted(n for n in lookup if n not in words)
    if missing_names:
        return f"name not in sources: {missing_names[0]}"
    if not source_sents:
        return "no source sentences"
    emb = cfg.embedder([sentence, *(s for _, s in source_sents)])
    sims = emb[1:] @ emb[0]
    best = float(np.max(sims))
    if best < min_support:
        return f"similarity {best:.2f} below {min_support:.2f}"
    passive = _PASSIVE | PASSIVE_AGENT.get(language, frozenset())
    for _, other in source_sents:  # a cited sentence saying it the other way round
        if _roles_swapped(sentence, other, set(order), passive):
            return "roles swapped against the source"
    ranked = [int(i) for i in np.argsort(-sims) if float(sims[i]) >= min_support]
    claim_negated = negated(sentence, language)
    if claim_negated != negated(source_sents[ranked[0]][1], language):
        return "negation differs from the source"
    for idx in ranked:
        k, support = source_sents[idx]
        if claim_negated == negated(support, language) and set(order) <= docs[k].words:
            return None
    return "names from different sources"
