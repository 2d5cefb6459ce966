"""A local outlet's own place as a prior for the places of its stories.

An outlet's place is what the sources catalogue records ("US | New York", "Dayton,
Ohio", "Ohio"). Its state breaks ties between namesakes ("Springfield" in an Illinois
paper is Springfield, Illinois), and a story about local government that names no
place below its country ("The city council voted on Tuesday...") is about the outlet's
own city.

Pure: no store, no network, no clock.
"""

from __future__ import annotations

import math
import re
from dataclasses import replace

from breakingon.records import Place
from breakingon.tag.gazetteer import Candidate, gazetteer
from breakingon.tag.places import ABOUT_MAX, KIND_PRIOR, geotag

_LOCAL_CUES = re.compile(
    r"\b(?:city|town|village|borough|county)\s+(?:council|commission|commissioners|hall|"
    r"manager|officials|board|supervisors|clerk|attorney)\b|\bschool\s+board\b|"
    r"\bboard\s+of\s+(?:supervisors|education|aldermen|selectmen)\b|\b(?:the|our)\s+mayor\b|"
    r"\bcouncil\s+members?\b|\bcouncilm[ae]n\b|\bcouncilwom[ae]n\b|\bselect\s+board\b",
    re.IGNORECASE,
)


def _country_named(name: str, iso: str) -> str:
    """The ISO code of the country `name` names ("US", "USA", "UK", "Germany"), when it
    is `iso` or `iso` is unknown; else ""."""
    if name.upper() == iso:
        return iso
    for c in gazetteer().names.get(name.casefold(), ()):
        if c.place.kind == "country" and (not iso or c.place.country == iso):
            return c.place.country
    return ""


def outlet_place(country: str, place: str) -> Candidate | None:
    """The gazetteer entry of an outlet's recorded place, within its country: the most
    populous of that name, preferring one inside a named state ("Dayton, Ohio"). A
    leading country ("USA | Colorado", the catalogue's form) is read as the country."""
    gaz = gazetteer()
    iso = country.strip().upper()
    parts = [p.strip() for p in re.split(r"[|,]", place) if p.strip()]
    while len(parts) > 1 and (named := _country_named(parts[0], iso)):
        iso, parts = named, parts[1:]  # "USA | Colorado", "US | New York", "UK | London"
    if not parts:
        return None
    cands = [c for c in gaz.names.get(parts[0].casefold(), ()) if not iso or c.place.country == iso]
    states = {
        c.admin1
        for q in parts[1:]
        for c in gaz.names.get(q.casefold(), ())
        if c.place.kind == "region" and c.admin1
    }
    if states:
        cands = [c for c in cands if c.admin1 in states] or cands
    if not cands:
        return None
    return max(
        cands,
        key=lambda c: (
            math.log10(c.population + 10) + KIND_PRIOR[c.place.kind],
            -c.place.geonameid,
        ),
    )


def geotag_local(
    title: str, text: str, country: str, place: str, language: str = ""
) -> tuple[Place, ...]:
    """`geotag` with the outlet's country and recorded place as priors (`language`: the
    text's, ISO 639-1; "": English)."""
    home = outlet_place(country, place) if place else None
    places = geotag(title, text, country, home.admin1 if home else "", language)
    if (
        home is not None
        and home.place.kind == "city"
        and all(p.kind == "country" for p in places)
        and _LOCAL_CUES.search(f"{title}\n{text}")
    ):
        own = replace(home.place, score=1.0)
        rest = tuple(p for p in places if p.geonameid != own.geonameid)
        return (own, *rest)[:ABOUT_MAX]
    return places
