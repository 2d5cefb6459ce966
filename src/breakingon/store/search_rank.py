"""How a search orders its candidates (pure; `sql_search` fetches them).

A search's results come in windows of `SEARCH_WINDOW` matches, newest first (by id: the
order articles were first seen and stories first reported); each window is ordered by
relevance times recency, so a page never waits on ranking every match and a strongly
matching older item still leads a weakly matching newer one of similar age.

Relevance, from the short fields the candidate query returns (no per-query statistics,
whose cost grows with the number of matches): 1, plus 2 times the share of the query's
terms in the title (a story's headline), plus 1 when the terms stand there in the
query's order side by side, plus, for a story, half the share of terms in its dek;
a story's weight grows with its outlets (1 + ln(outlets) / 10). Every candidate holds
every term somewhere (title or text), so the body needs no score of its own.

Recency: 1 / (1 + age / 48 h), the age counted back from the newest candidate of the
window (an article's `published`, a story's `last_reported`), so an item two days older
needs twice the relevance. Ties go to the newer id.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

RECENCY_HOURS = 48.0
_WORD = re.compile(r"\w+")


@dataclass(frozen=True, slots=True)
class Candidate:
    id: int
    title: str  # an article's title, a story's headline
    dek: str  # a story's dek; "" for an article
    when: float  # seconds since the epoch: published / last_reported
    outlets: int = 0  # a story's outlet count; 0 for an article


# Combining marks (accents) left apart by NFKD, as FTS5's remove_diacritics drops them.
_MARKS = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


def fold(text: str) -> str:
    """Lower case without diacritics, as the full-text indexes compare words."""
    low = text.lower()
    if low.isascii():
        return low
    return _MARKS.sub("", unicodedata.normalize("NFKD", low))


def _tokens(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def _in_order(terms: Sequence[str], tokens: Sequence[str]) -> bool:
    n = len(terms)
    return any(list(tokens[i : i + n]) == list(terms) for i in range(len(tokens) - n + 1))


def relevance(terms: Sequence[str], c: Candidate) -> float:
    """How well `c` matches `terms` (`search_terms`, folded), from 1 up."""
    folded = list(terms)
    wanted = set(folded)
    if not wanted:
        return 1.0
    title = _tokens(c.title)
    found = len(wanted.intersection(title))
    score = 1.0 + 2.0 * found / len(wanted)
    if len(folded) > 1 and found == len(wanted) and _in_order(folded, title):
        score += 1.0
    if c.dek:
        score += 0.5 * len(wanted.intersection(_tokens(c.dek))) / len(wanted)
    if c.outlets > 1:
        score *= 1.0 + math.log(c.outlets) / 10.0
    return score


def rank_window(terms: Sequence[str], window: Sequence[Candidate]) -> list[int]:
    """The ids of one window, best first."""
    if not window:
        return []
    terms = [fold(t) for t in terms]
    newest = max(c.when for c in window)

    def key(c: Candidate) -> tuple[float, int]:
        age_h = max(0.0, newest - c.when) / 3600.0
        return (-relevance(terms, c) / (1.0 + age_h / RECENCY_HOURS), -c.id)

    return [c.id for c in sorted(window, key=key)]


def rank(terms: Sequence[str], newest_first: Sequence[Candidate], window: int) -> list[int]:
    """The ids of `newest_first` (the newest matches, newest first) in result order:
    window by window of `window` candidates, each ranked by `rank_window`."""
    out: list[int] = []
    for lo in range(0, len(newest_first), window):
        out += rank_window(terms, newest_first[lo : lo + window])
    return out
