"""Names that read like places but are something else, for the geotagger (`places`).

Institutions named after a place: the seat of a government stands for it ("White
House", "Kremlin", "Downing Street": the capital they are in), a newspaper or a team
named after a city is not that city ("Washington Post"). People named like a place:
after an honorific ("Mr. Jordan"), in an apposition that is not a place's ("Nola, a
northern white rhino"; "Paris, a city of two million" stays Paris), or as the speaker
of "said" ("Austin said") when the place is not a capital (capitals speak for their
governments: "Moscow said").

Pure: tables and regular expressions only.
"""

from __future__ import annotations

import re

# Seats of government and other landmarks: the GeoNames id of the city they are in.
WASHINGTON_DC, MOSCOW, LONDON, NEW_YORK_CITY = 4140963, 524901, 2643743, 5128581
LANDMARKS: dict[str, int] = {
    "white house": WASHINGTON_DC,
    "pentagon": WASHINGTON_DC,
    "capitol hill": WASHINGTON_DC,
    "oval office": WASHINGTON_DC,
    "kremlin": MOSCOW,
    "downing street": LONDON,
    "whitehall": LONDON,
    "wall street": NEW_YORK_CITY,
}

# Names that start with a place name but are an organisation: not a place at all.
ORGANISATIONS = frozenset(
    """washington post|washington times|washington examiner|washington commanders|
    washington nationals|washington wizards|washington capitals|new york times|
    new york post|new york yankees|new york mets|new york knicks|new york giants|
    new york jets|new york rangers|los angeles times|los angeles lakers|chicago tribune|
    chicago sun-times|chicago bulls|chicago cubs|boston globe|boston herald|
    boston celtics|boston red sox|houston chronicle|dallas morning news|miami herald|
    philadelphia inquirer|detroit free press|seattle times|denver post|atlanta journal|
    financial times|jerusalem post|times of india|hindustan times|toronto star|
    sydney morning herald|manchester united|manchester city|real madrid|paris saint""".replace(
        "\n", ""
    ).split("|")
)
ORGANISATIONS = frozenset(" ".join(x.split()) for x in ORGANISATIONS)

_HONORIFIC = re.compile(
    r"\b(?:Mr|Mrs|Ms|Mx|Miss|Dr|Prof|Sen|Rep|Gov|Lt|Sgt|Capt|Col|Rev|Det|Judge|Sheriff|"
    r"Officer|Coach|Justice|Deputy|Trooper)\.?\s+$"
)
HONORIFIC_WORDS = frozenset({"mr", "mrs", "ms", "mx", "miss", "dr", "prof"})
_PLACE_APPOSITION = re.compile(
    r"\b(?:city|cities|town|village|suburb|community|county|port|capital|municipality|"
    r"hamlet|borough|district|area|region|resort|island|neighbou?rhood|state|province|"
    r"country|nation|kingdom|republic|enclave|territory|settlement|metropolis|"
    r"stronghold|hub|seaport|township|parish|commune|locality|place|spot|site|"
    r"population|people|residents|inhabitants|home|center|centre|outskirts|border|"
    r"north|south|east|west|miles?|kilometers?|kilometres?|km)\b",
    re.IGNORECASE,
)
_APPOSITION = re.compile(r",\s+(?:a|an)\s+([^,.;:()\n]{1,60})")
_AGE = re.compile(r",\s+(?:\d{1,3}\s*,|(?:aged|age)\s+\d{1,3}\b)")
_SPEECH = re.compile(r"\s+(?:said|says|told|added|asked|wrote|testified|tweeted)\b")
_PLACE_PREPOSITION = re.compile(
    r"\b(?:in|at|from|near|of|to|for|across|around|outside|inside|into|toward|towards)\s+$",
    re.IGNORECASE,
)


def after_honorific(text: str, start: int) -> bool:
    """Whether the name at `start` follows an honorific or title ("Mr. Jordan")."""
    return bool(_HONORIFIC.search(text[max(0, start - 12) : start]))


def after_place_preposition(text: str, start: int) -> bool:
    """Whether the name at `start` follows "in", "at", "from"...: "officials in Gary"."""
    return bool(_PLACE_PREPOSITION.search(text[max(0, start - 12) : start]))


def reads_as_person(text: str, start: int, end: int, capital: bool) -> bool:
    """Whether a one-word city name at `start:end` is a person or an animal, by what
    follows it: an age (", 35,"), an apposition that is not a place's (", a northern
    white rhino"), or "said" when the city does not speak for a government and is not
    after a preposition ("police in Gary said")."""
    after = text[end : end + 80]
    if _AGE.match(after):
        return True
    m = _APPOSITION.match(after)
    if m and not _PLACE_APPOSITION.search(m.group(1)):
        return True
    if capital or not _SPEECH.match(after):
        return False
    return not after_place_preposition(text, start)
