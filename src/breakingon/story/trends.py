"""Trends: names and key phrases whose mention rate bursts against their own baseline.

Burst model: a **smoothed Poisson z-score** over fixed time buckets. For each term,
the baseline rate per bucket is lambda = (mentions in the baseline window + alpha) /
baseline buckets (additive smoothing, so a never-seen term has a small, non-zero
rate); the recent window of R buckets expects lambda*R mentions and the score is
z = (recent - lambda*R) / sqrt(lambda*R + 1). A term trends when z >= `min_z` and it
has at least `min_mentions` recent mentions. A steady term scores about 0.

`extract_terms(title, text)` finds the terms without any downloaded model:
capitalized multiword names ("Harvey Weinstein", "Bank of England"), capitalized
single words that are not sentence starters or stopwords, and lower-case two-word key
phrases repeated in the text ("interest rates").

Languages: `extract_terms(..., language=)` drops the stop words of the article's language
(English: the list below; de fr es pt it nl and the other languages of the `stop-words`
package: theirs, with `data/stopwords_extra.json`); in German, where every noun is
capitalised, a single capitalised word is a name only when it is an acronym ("SPD"), a
known given name or surname, or a place's name. Terms are compared within one language:
a mention carries its article's language, a trend is one term in one language ("Merkel"
in German and "Merkel" in English are two), and the trend says which (`Trend.language`;
"" and unknown languages count as English).

Pure: `now` is passed in; no store, no network, no clock.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from breakingon.stopwords import stop_words
from breakingon.tag.lang import signal_language

_STOP = frozenset(
    """a about above after again against all also am an and any are as at be because been
    before being below between both but by can could did do does doing down during each few
    for from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my no nor not now of off on once only or other our
    ours out over own same she should so some such than that the their theirs them then there
    these they this those through to too under until up very was we were what when where which
    while who whom why will with would you your yours said says say told according new one two
    three four five six seven eight nine ten first last year years time people like get got
    mr mrs ms dr monday tuesday wednesday thursday friday saturday sunday january february march
    april may june july august september october november december today yesterday tomorrow
    week month day days however meanwhile still even many much well back since while per via
    but yet just though although among amid despite within without around across""".split()
)
# Lower-case words that may join a capitalized name: "Bank of England", "Charles de Gaulle".
_CONNECT = frozenset({"of", "de", "del", "la", "le", "von", "van", "der", "da", "al", "bin"})
_TOKEN = re.compile(r"[A-Za-zÀ-ÖØ-öø-ÿ][\w'’\-]*|[.!?;:]|\n")
# Any language: words of any script ("Меркель", "Zürich").
_TOKEN_ANY = re.compile(r"[^\W\d_][\w'’\-]*|[.!?;:。！？]|\n")
_CONNECT_ANY = _CONNECT | {"di", "du", "des", "dos", "do", "y", "e"}
MAX_TERMS = 25


def trend_language(code: str) -> str:
    """The language a mention is compared in: its ISO 639-1 code, "en" for none."""
    return code.strip().lower()[:2] or "en"


@lru_cache(maxsize=64)
def _stop_for(language: str) -> frozenset[str]:
    return _STOP if signal_language(language) == "en" else stop_words(trend_language(language))


@lru_cache(maxsize=1)
def _known_names() -> frozenset[str]:
    """Given names and surnames (the census lists) and place names of every language's
    table: what a single capitalised German word must be to count as a name."""
    from breakingon.tag.placenames import language_names
    from breakingon.tag.places import person_names

    given, surnames = person_names()
    places: set[str] = set()
    for lang in ("de", "fr", "es", "pt", "it", "nl"):
        table = language_names(lang)
        if table is not None:
            places |= {w.casefold() for ws in table.countries.values() for w in ws}
    return given | surnames | frozenset(places)


def _name_like(word: str, seen: frozenset[str] | set[str] = frozenset()) -> bool:
    """Whether one capitalised German word is a name, not a common noun: an acronym
    ("SPD", "EU"), a word with an inner capital ("McAllister"), a known name, or one the
    article names after a given name (`seen`: "Emmanuel Macron" makes "Macron" one)."""
    bare = re.sub(r"['’]s$|s$", "", word)
    if (word.isupper() and len(word) >= 2) or any(c.isupper() for c in word[1:]):
        return True
    known = _known_names()
    return any(w.casefold() in known or w.casefold() in seen for w in (word, bare))


def _surnames_named(tokens: Sequence[str]) -> set[str]:
    """Words an article writes after a known given name ("Emmanuel Macron": "macron")."""
    given = _known_names()
    return {
        b.casefold()
        for a, b in itertools.pairwise(tokens)
        if a[:1].isupper() and b[:1].isupper() and a.casefold() in given and len(b) > 2
    }


def _norm(term: str) -> str:
    return re.sub(r"['’]s$", "", term).casefold()


def extract_terms(title: str, text: str, language: str = "") -> tuple[str, ...]:
    """Names and key phrases of an article, most salient first (title terms lead);
    `language`: the article's (ISO 639-1; "": English)."""
    english = signal_language(language) == "en"
    stop = _stop_for(language)
    token = _TOKEN if english else _TOKEN_ANY
    connect = _CONNECT if english else _CONNECT_ANY
    german = trend_language(language) == "de"
    seen = _surnames_named(token.findall(f"{title}\n{text[:6000]}")) if german else set()
    found: Counter[str] = Counter()
    display: dict[str, str] = {}
    first_pos: dict[str, int] = {}
    pairs: Counter[str] = Counter()
    pos = 0
    for block, boost in ((title, 3), (text[:6000], 1)):
        tokens = token.findall(block)
        sentence_start = True
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            if tok in ".!?;:\n。！？":
                sentence_start = True
                i += 1
                continue
            if tok[0].isupper():
                j = i + 1
                parts = [tok]
                while j < len(tokens):
                    nxt = tokens[j]
                    if nxt[0].isupper() and nxt not in ".!?;:\n":
                        parts.append(nxt)
                        j += 1
                    elif (
                        nxt in connect
                        and j + 1 < len(tokens)
                        and tokens[j + 1][0].isupper()
                        and tokens[j + 1] not in ".!?;:\n"
                    ):
                        parts.extend([nxt, tokens[j + 1]])
                        j += 2
                    else:
                        break
                # A sentence-initial capital is only a name when more follows or it is no
                # common word ("The", "However" are dropped).
                while parts and parts[0].casefold() in stop:
                    parts = parts[1:]
                while parts and parts[-1] in connect:
                    parts = parts[:-1]
                while german and len(parts) > 1 and not _name_like(parts[0], seen):
                    parts = parts[1:]  # "Bundeskanzlerin Angela Merkel": the name
                if parts and len(parts) <= 5:
                    name = re.sub(r"['’]s$", "", " ".join(parts))
                    single = len(parts) == 1
                    noun = german and single and not _name_like(name, seen)
                    if not (single and (sentence_start or len(name) < 3)) and not noun:
                        key = _norm(name)
                        found[key] += boost
                        display.setdefault(key, name)
                        first_pos.setdefault(key, pos + i)
                sentence_start = False
                i = j
                continue
            sentence_start = False
            i += 1
        # Key phrases: two lower-case content words in a row (counted over title + text).
        words = [t for t in tokens if t not in ".!?;:\n"]
        for a, b in itertools.pairwise(words):
            if a.islower() and b.islower() and len(a) > 2 and len(b) > 2:
                if a not in stop and b not in stop:
                    pairs[f"{a} {b}"] += 1
        pos += len(tokens)
    for phrase, n in pairs.items():
        if n >= 2:  # a phrase said once is not a key phrase
            found[phrase] += n
            display.setdefault(phrase, phrase)
            first_pos.setdefault(phrase, 10**9)
    ranked = sorted(
        (k for k, v in found.items() if v > 0), key=lambda k: (-found[k], first_pos[k], k)
    )
    return tuple(display[k] for k in ranked[:MAX_TERMS])


@dataclass(frozen=True, slots=True)
class Mention:
    """A term seen in one article of one story at one time."""

    term: str
    story_id: str
    at: datetime  # UTC-aware (the article's publication time)
    language: str = ""  # the article's (ISO 639-1; "": English)


@dataclass(frozen=True, slots=True)
class TrendSettings:
    bucket_min: float = 60.0
    recent_buckets: int = 3  # "the last hours"
    # A quiet site (a few local feeds, a night) may have too few recent mentions for any
    # term to trend: the recent window then doubles, up to this many buckets (a day).
    max_recent_buckets: int = 24
    baseline_buckets: int = 48  # the two days before
    alpha: float = 1.0  # additive smoothing, in mentions over the whole baseline
    min_z: float = 3.0
    min_mentions: int = 3
    max_trends: int = 20


@dataclass(frozen=True, slots=True)
class Trend:
    term: str
    score: float  # the smoothed Poisson z-score
    story_ids: tuple[str, ...]  # stories behind the trend, most mentions first
    recent_mentions: int
    baseline_per_bucket: float
    language: str = "en"  # the language its mentions are in


def find_trends(
    mentions: Sequence[Mention], now: datetime, cfg: TrendSettings | None = None
) -> list[Trend]:
    """Terms bursting at `now`, highest score first (ties by term). A term is counted
    within its mentions' language (`trend_language`), never across languages.

    The recent window is `cfg.recent_buckets`; when no term trends in it, it doubles
    (the baseline moving back with it) up to `cfg.max_recent_buckets`, so a quiet site
    shows what burst over the last day rather than nothing."""
    cfg = cfg or TrendSettings()
    window = cfg.recent_buckets
    while True:
        found = _find_trends(mentions, now, cfg, window)
        if found or window >= cfg.max_recent_buckets:
            return found
        window = min(window * 2, cfg.max_recent_buckets)


def _find_trends(
    mentions: Sequence[Mention], now: datetime, cfg: TrendSettings, recent_buckets: int
) -> list[Trend]:
    bucket_s = cfg.bucket_min * 60.0
    recent: Counter[tuple[str, str]] = Counter()
    base: Counter[tuple[str, str]] = Counter()
    stories: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    forms: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    nows = now.timestamp()
    for m in mentions:
        age_buckets = (nows - m.at.timestamp()) / bucket_s
        if age_buckets < 0:
            continue
        key = (trend_language(m.language), _norm(m.term))
        if age_buckets < recent_buckets:
            recent[key] += 1
            stories[key][m.story_id] += 1
            forms[key][m.term] += 1
        elif age_buckets < recent_buckets + cfg.baseline_buckets:
            base[key] += 1
    out: list[Trend] = []
    for key, r in recent.items():
        if r < cfg.min_mentions:
            continue
        lam = (base[key] + cfg.alpha) / cfg.baseline_buckets
        expected = lam * recent_buckets
        z = (r - expected) / math.sqrt(expected + 1.0)
        if z < cfg.min_z:
            continue
        term = sorted(forms[key].items(), key=lambda p: (-p[1], p[0]))[0][0]
        sids = tuple(s for s, _ in sorted(stories[key].items(), key=lambda p: (-p[1], p[0])))
        out.append(Trend(term, round(z, 4), sids, r, round(lam, 6), key[0]))
    out.sort(key=lambda t: (-t.score, t.term, t.language))
    return out[: cfg.max_trends]
