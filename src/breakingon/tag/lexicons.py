"""Section keyword lexicons of the languages besides English, and their matcher.

`data/section_lexicons.json` holds, per language (de fr es pt it nl), the words that
most tell each section apart in that language's news, written by hand for BreakingOn;
`neutral` holds names every language writes alike (NATO, UEFA, Netflix, Covid), the
only lexicon a text in a language without its own (Polish, Czech, ...) is read with;
`feed_sections` maps a feed's own section names in those languages ("Wirtschaft",
"Deportes") to the taxonomy. English has its own lexicon and tokenizer in `sections`.

Keywords: `word` matches the word, `word*` any word it begins, `*word` any word it ends
(German and Dutch compounds: `*wahl` is "Bundestagswahl"), `*word*` any word holding
it; phrases match whole words in a row. Words are Unicode letters and digits (hyphens
inside a word kept, apostrophes split: "l'économie" is "l" and "économie").

Pure apart from reading the packaged table: no store, no network, no clock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["LANGUAGES", "feed_synonyms", "lexicon_hits", "tokens"]

_WORD = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
MAX_GRAM = 3


@dataclass(frozen=True, slots=True)
class _Lexicon:
    exact: dict[str, tuple[str, ...]]  # word or phrase -> labels
    prefixes: tuple[tuple[str, str], ...]  # (prefix, label)
    suffixes: tuple[tuple[str, str], ...]
    infixes: tuple[tuple[str, str], ...]


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    path = resources.files("breakingon").joinpath("data/section_lexicons.json")
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


LANGUAGES: tuple[str, ...] = ("de", "fr", "es", "pt", "it", "nl")


def tokens(text: str) -> list[str]:
    """The lower-cased words of `text` (Unicode letters and digits)."""
    return _WORD.findall(text.casefold())


def feed_synonyms() -> dict[str, str]:
    """Feed-section names of every language here -> taxonomy label."""
    out: dict[str, str] = {}
    for table in _table()["feed_sections"].values():
        out.update(table)
    return out


def _build(groups: Iterable[dict[str, list[str]]]) -> _Lexicon:
    exact: dict[str, list[str]] = {}
    pre: list[tuple[str, str]] = []
    suf: list[tuple[str, str]] = []
    inf: list[tuple[str, str]] = []
    for group in groups:
        for label, words in group.items():
            for kw in words:
                star_l, star_r = kw.startswith("*"), kw.endswith("*")
                core = " ".join(tokens(kw.strip("*")))
                if not core:
                    continue
                if star_l and star_r:
                    inf.append((core, label))
                elif star_r:
                    pre.append((core, label))
                elif star_l:
                    suf.append((core, label))
                elif label not in exact.setdefault(core, []):
                    exact[core].append(label)
    return _Lexicon(
        {k: tuple(v) for k, v in exact.items()},
        tuple(dict.fromkeys(pre)),
        tuple(dict.fromkeys(suf)),
        tuple(dict.fromkeys(inf)),
    )


@lru_cache(maxsize=16)
def _lexicon(language: str) -> _Lexicon:
    """The language's own lexicon with the neutral names; the neutral names alone for a
    language without one."""
    data = _table()
    own = data["languages"].get(language)
    return _build([data["neutral"]] + ([own] if own else []))


@lru_cache(maxsize=200_000)
def _affix_labels(language: str, tok: str) -> tuple[str, ...]:
    """Labels of the prefix, suffix and infix keywords `tok` carries, once per keyword;
    none for a word that is an exact keyword itself."""
    lex = _lexicon(language)
    if tok in lex.exact:
        return ()
    out = [label for pre, label in lex.prefixes if tok.startswith(pre)]
    out += [label for suf, label in lex.suffixes if tok.endswith(suf) and tok != suf]
    out += [label for mid, label in lex.infixes if mid in tok]
    return tuple(out)


def lexicon_hits(
    language: str, blocks: Sequence[tuple[str, float]], labels: Sequence[str]
) -> dict[str, float]:
    """Weighted keyword hits per label over (text, weight) blocks, in `language`'s
    lexicon (the neutral names alone when it has none)."""
    lex = _lexicon(language)
    hits = dict.fromkeys(labels, 0.0)
    for block, w in blocks:
        toks = tokens(block)
        for i, tok in enumerate(toks):
            for n in range(1, MAX_GRAM + 1):
                if i + n > len(toks):
                    break
                gram = " ".join(toks[i : i + n]) if n > 1 else tok
                for label in lex.exact.get(gram, ()):
                    hits[label] += w
            for label in _affix_labels(language, tok):
                hits[label] += w
    return hits
