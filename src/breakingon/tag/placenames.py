"""Place names in the languages besides English, for the gazetteer and the geotagger.

`data/place_names.json`, written by hand for BreakingOn, holds per language (de fr es
pt it nl): country names and capitalised demonyms ("Deutschland", "Allemagne",
"Alemania", "Alemanha", "Germania", "Duitsland"; "Franzosen"), adjectives of countries
written in lower case ("le gouvernement français", "die deutsche Regierung"), seats of
government ("Weißes Haus", "Casa Blanca": the city they are in), organisations named
after a place ("Deutsche Bank", "Real Madrid": no place), words that may open a name
run before a place ("Bundeskanzlerin", "Stadt") and capitalised common words that are
also place names ("Essen", "Hof", "Para"). `stop_words` (the language's function
words) are never places. `prepare_text` undoes what keeps a name from being seen as
one: French and Italian elision ("d'Allemagne", "dell'Italia") and a German or Dutch
compound on a place ("US-Präsident").

Pure: tables and regular expressions only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from breakingon.stopwords import stop_words

__all__ = ["LanguageNames", "language_names", "place_stop_words", "prepare_text"]


@dataclass(frozen=True, slots=True)
class LanguageNames:
    countries: dict[str, tuple[str, ...]]  # ISO alpha-2 -> names and demonyms
    adjectives: dict[str, tuple[str, ...]]  # ISO alpha-2 -> lower-case adjectives
    landmarks: dict[str, int]  # name -> GeoNames id of the city it stands in
    organisations: tuple[str, ...]
    skippable: frozenset[str]  # casefolded
    not_places: tuple[str, ...]
    ambiguous: tuple[str, ...]
    home_countries: frozenset[str] = frozenset()  # whose cities it names as its own


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    text = resources.files("breakingon").joinpath("data/place_names.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=8)
def language_names(language: str) -> LanguageNames | None:
    """The hand-written names of `language`, None when it has none."""
    spec = _table()["languages"].get(language)
    if spec is None:
        return None
    return LanguageNames(
        countries={k: tuple(v) for k, v in spec["countries"].items()},
        adjectives={k: tuple(v) for k, v in spec["adjectives"].items()},
        landmarks={k: int(v) for k, v in spec["landmarks"].items()},
        organisations=tuple(spec["organisations"]),
        skippable=frozenset(w.casefold() for w in spec["skippable"]) | place_stop_words(language),
        not_places=tuple(spec["not_places"]),
        ambiguous=tuple(spec["ambiguous"]),
        home_countries=frozenset(spec["home_countries"]),
    )


@lru_cache(maxsize=64)
def place_stop_words(language: str) -> frozenset[str]:
    """Words of `language` that are never a place ("mais", "para", "come"): its stop
    words (none for English, whose function words need context instead)."""
    return frozenset() if language in ("", "en") else stop_words(language)


# "d'Allemagne", "l'Italie", "dell'Italia", "all'Onu": the elided article or preposition.
_ELISION = re.compile(
    r"\b(?:[dlDLjJnNsScCmMtT]|[qQ]u|[dD]ell|[aA]ll|[nN]ell|[sS]ull|[dD]all|[cC]oll)['’]"
    r"(?=[^\W\d_])"
)
# "US-Präsident", "EU-Kommission", "Berlin-Besuch": a place before a hyphenated noun.
_COMPOUND = re.compile(r"\b([^\W\d_][\w.]*)-(?=[^\W\d_])")


def prepare_text(text: str, language: str, known: frozenset[str] | dict[str, Any]) -> str:
    """`text` with elisions (fr, it) and the hyphen after a place that heads a compound
    (de, nl: when the part before it is a `known` name and the whole word is not) turned
    into spaces of the same length, so that offsets stay those of `text`."""
    if language in ("fr", "it"):
        text = _ELISION.sub(lambda m: " " * len(m.group()), text)
    if language in ("de", "nl"):

        def split(m: re.Match[str]) -> str:
            head = m.group(1)
            word = re.match(r"[\w.\-]+", text[m.start() :])
            whole = word.group().casefold() if word else ""
            if head[:1].isupper() and head.casefold() in known and whole not in known:
                return head + " "
            return m.group()

        text = _COMPOUND.sub(split, text)
    return text
