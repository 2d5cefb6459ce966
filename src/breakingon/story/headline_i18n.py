"""Headline rules of the languages besides English, and the language-neutral ones.

`headline.headline_problem(title, language)` reads an English title (or one whose
language is unknown) with its English rules; a German, French, Spanish, Portuguese,
Italian or Dutch one with `problem` here: that language's captions and credits ("Foto:",
"Crédit photo"), page chrome ("Lesen Sie auch", "Lire aussi", "Leer más", "Leia também",
"Leggi anche", "Lees ook"), labels ("Eilmeldung:", "En direct :"), datelines and bylines,
first-person words and opening pronouns (`data/headline_rules.json`, written by hand),
plus the neutral rules. A title in any other language gets the neutral rules only: an
instruction to a language model, a URL, a credit with ©, a clock time in UTC/GMT/CET or
a date-time stamp, a quotation standing as the headline, a cut ("…", "..."), fewer than
three words or more than 20 (in a script that spaces words), a question or an
exclamation, shouting. The English-only rules (clickbait, loaded words, finite verbs)
are never applied to another language.

Pure: strings in, strings out.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from breakingon.text import CUT_MARKS, is_instruction, normalize_space

__all__ = ["LanguageRules", "language_rules", "problem"]

MAX_WORDS = 20

_URL = re.compile(r"(?i)\bhttps?://|\bwww\.\w")
_COPYRIGHT = re.compile(r"©|\(c\)\s|\bcopyright\b", re.IGNORECASE)
_STAMP = re.compile(
    r"\b\d{1,2}:\d\d\s*(?:UTC|GMT|CET|CEST)\b|\b\d{1,4}[./-]\d{1,2}[./-]\d{1,4},?\s+\d{1,2}:\d\d\b"
)
_QUOTE_HEAD = re.compile(r"^(?:[\w .'’-]{1,40}:\s*)?[\"“‘'„«‹»]")
_QUOTED = re.compile(r"[\"“„«‹»][^\"“”„«»‹›]*[\"”“»«›‹]")
_INITIAL_END = re.compile(r"(?:^|\s)[A-Z]\.$")
_OPEN_AGE = re.compile(r"[A-Z][\w.'’-]+,\s+\d{1,3}$")
_WORD = re.compile(r"[^\W_][\w'’-]*")


@dataclass(frozen=True, slots=True)
class LanguageRules:
    caption: re.Pattern[str]
    credit: re.Pattern[str]
    chrome: re.Pattern[str]
    label: re.Pattern[str]
    dateline: re.Pattern[str]
    first_person: re.Pattern[str]
    pronoun: re.Pattern[str]
    open_end: frozenset[str]


def _phrases(words: list[str]) -> str:
    """An alternation of phrases, each bounded by non-word characters where it starts or
    ends with a word character."""
    out = []
    for w in sorted(words, key=len, reverse=True):
        p = re.escape(w).replace(r"\ ", r"\s+")
        if w[:1].isalnum() or w[:1] == "_":
            p = r"(?<!\w)" + p
        if w[-1:].isalnum():
            p += r"(?!\w)"
        out.append(p)
    return "|".join(out) or r"(?!x)x"


@lru_cache(maxsize=1)
def _table() -> dict[str, Any]:
    text = resources.files("breakingon").joinpath("data/headline_rules.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=8)
def language_rules(language: str) -> LanguageRules | None:
    """The compiled rules of `language`, None for a language without its own."""
    spec = _table().get(language)
    if not isinstance(spec, dict):
        return None
    times = "|".join(re.escape(t) for t in spec["times"])
    dateline = "|".join(f"(?:{d})" for d in spec["dateline"])
    return LanguageRules(
        caption=re.compile(_phrases(spec["caption"]), re.IGNORECASE),
        credit=re.compile(rf"^(?:{_phrases(spec['credit'])})", re.IGNORECASE),
        chrome=re.compile(_phrases(spec["chrome"]), re.IGNORECASE),
        label=re.compile(rf"^(?:{_phrases(spec['labels'])})\s*[:\-–—|]", re.IGNORECASE),
        # case-sensitive: bylines are "Par Jean Dupont", not "par ailleurs"
        dateline=re.compile(
            rf"^(?:{dateline})|\b\d{{1,2}}[:.]\d\d\s*(?:{times})\b|\b\d{{1,2}}h\d\d\b"
        ),
        first_person=re.compile(_phrases(spec["first_person"]), re.IGNORECASE),
        pronoun=re.compile(
            rf"^[\"“„«]?(?:{_phrases(spec['pronouns'] + spec['leaning'])})", re.IGNORECASE
        ),
        open_end=frozenset(w.casefold() for w in spec["open_end"]),
    )


def _neutral_style(text: str) -> str | None:
    """The language-neutral parts of a plain headline: 3 to 20 words in a script that
    spaces them, no question or exclamation, no shouting."""
    words = text.split()
    spaced = len(words) > 1 or len(text) < 12
    if spaced and len(words) > MAX_WORDS:
        return "not-neutral"
    if text.rstrip().endswith(("?", "!", "？", "！")) or "!" in text:
        return "not-neutral"
    letters = [c for c in text if c.isalpha()]
    cased = [c for c in letters if c.isupper() or c.islower()]
    if len(cased) > 8 and sum(c.isupper() for c in cased) / len(cased) > 0.6:
        return "not-neutral"
    if any(w.isupper() and len(w) > 4 and w.isalpha() for w in words):
        return "not-neutral"
    return None


def _fragment(text: str, open_end: frozenset[str]) -> bool:
    """Cut with "…", ending on an initial, an open age, a comma or colon, or a word that
    leaves the clause open (`open_end`); fewer than three words in a spaced script."""
    stripped = text.strip().rstrip("\"'”’)»")
    if stripped.endswith(CUT_MARKS) or _INITIAL_END.search(stripped) or _OPEN_AGE.search(stripped):
        return True
    if stripped.endswith((",", ";", ":", "-", "–", "—")):
        return True
    words = _WORD.findall(stripped)
    if len(stripped.split()) > 1 and len(words) < 3:
        return True
    return bool(words) and words[-1].casefold() in open_end


def problem(title: str, language: str) -> str | None:
    """Why `title`, in `language` (ISO 639-1, not English), cannot head a story; None when
    it can. The kinds are `headline.headline_problem`'s."""
    text = normalize_space(title)
    if not text:
        return "empty"
    if is_instruction(text):
        return "instruction"
    rules = language_rules(language)
    if _URL.search(text):
        return "chrome"
    if rules is not None:
        for kind, rule in (("chrome", rules.chrome), ("caption", rules.caption)):
            if rule.search(text):
                return kind
        if rules.credit.search(text):
            return "credit"
    if _COPYRIGHT.search(text):
        return "credit"
    if _STAMP.search(text) or (rules is not None and rules.dateline.search(text)):
        return "dateline"
    if rules is not None and rules.label.search(text):
        return "label"
    if _QUOTE_HEAD.search(text):
        return "quote"
    if rules is not None:
        if rules.first_person.search(_QUOTED.sub(" ", text)):
            return "first-person"
        if rules.pronoun.search(text):
            return "pronoun"
    if _fragment(text, rules.open_end if rules is not None else frozenset()):
        return "fragment"
    return _neutral_style(text)
