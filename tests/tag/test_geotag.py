"""Geotagging on crafted texts whose places are known, and the geotag-file entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from breakingon.tag.places import geotag, geotag_mentions


def test_paris_texas_resolves_to_the_us_city() -> None:
    places = geotag("Tornado hits Paris, Texas", "PARIS, Texas — A tornado struck the town.")
    paris = next(p for p in places if p.name == "Paris")
    assert paris.country == "US" and paris.kind == "city"
    assert paris.geonameid == 4717560
    assert places[0].geonameid == 4717560  # the city is what the story is about


def test_paris_alone_in_a_french_story_is_france() -> None:
    places = geotag(
        "Protests in Paris",
        "Thousands marched in Paris on Saturday against the French government.",
    )
    assert places[0].name == "Paris" and places[0].country == "FR"
    assert {p.kind for p in places} >= {"city", "country"}


def test_country_context_decides_an_ambiguous_name() -> None:
    us = geotag_mentions("", "Voters in Atlanta and across Georgia went to the polls in the US.")
    assert any(m.place.kind == "region" and m.place.name == "Georgia" for m in us)
    abroad = geotag_mentions("", "Georgia and Armenia signed a deal in Tbilisi.")
    assert any(m.place.kind == "country" and m.place.country == "GE" for m in abroad)


def test_about_places_not_every_mention() -> None:
    text = (
        "KYIV (Reuters) - Ukraine said on Monday its forces repelled an attack near Kyiv. "
        "Officials in Kyiv said Ukraine needed more air defence. A spokesman who once "
        "studied in Toronto declined to comment."
    )
    places = geotag("Ukraine repels attack near Kyiv", text)
    names = [p.name for p in places]
    assert names[0] in {"Kyiv", "Ukraine"}
    assert "Kyiv" in names and "Ukraine" in names
    assert "Toronto" not in names
    assert all(0 < p.score <= 1 for p in places)


def test_demonyms_and_common_words() -> None:
    ms = geotag_mentions("", "A Turkish court ruled on Monday. March was cold in the city.")
    assert [(m.surface, m.place.country) for m in ms] == [("Turkish", "TR")]


def test_a_given_name_and_surname_is_a_person_not_a_place() -> None:
    def found(text: str) -> list[tuple[str, str]]:
        return [(m.surface, m.place.country) for m in geotag_mentions("", text)]

    # Gary (Indiana) and Jordan (the country) as first names of people: no place.
    assert found("Police said Gary Gomes, 35, was arrested in Fall River.") == [
        ("Fall River", "US")
    ]
    assert found("A lecture by Jordan Peterson in Toronto.") == [("Toronto", "CA")]
    # The same words as places: alone, possessive, or as a demonym before a title.
    assert found("Officials in Gary said the plant would close.") == [("Gary", "US")]
    assert found("A statement by Jordan's Public Security Directorate.") == [("Jordan", "JO")]
    assert found("A visit by German Chancellor Angela Merkel.") == [("German", "DE")]


def test_a_named_person_is_not_a_place_later_in_the_text() -> None:
    text = "Democrat Wendy Davis spoke in Haltom City, Texas. The crowd cheered as Davis spoke."
    assert [m.surface for m in geotag_mentions("", text)] == ["Haltom City", "Texas"]
    # Without the person, Davis is the Californian city.
    ms = geotag_mentions("", "The university in Davis, California reopened.")
    assert [(m.surface, m.place.country) for m in ms] == [("Davis", "US"), ("California", "US")]


def test_a_name_known_only_as_another_name_of_a_city_needs_context() -> None:
    # "Okay" is an alternate GeoNames name of Les Cayes (Haiti); a sentence start never
    # makes it a place.
    ms = geotag_mentions("", "Okay, you say, but surely there are other buyers.")
    assert ms == ()


def test_a_function_word_is_not_a_place_without_context() -> None:
    # "Most" is a Czech city; opening a sentence it is the English word.
    ms = geotag_mentions("", "The storm hit Ohio. Most residents stayed home.")
    assert [m.surface for m in ms] == ["Ohio"]
    ms = geotag_mentions("", "Coal mines near Most and Prague in the Czech Republic closed.")
    assert ("Most", "CZ") in [(m.surface, m.place.country) for m in ms]


def test_the_head_of_an_x_of_y_name_is_not_a_place() -> None:
    # University is a town in Florida; "University of Chicago" is in Chicago.
    ms = geotag_mentions("", "She teaches at the University of Chicago.")
    assert [(m.surface, m.place.country) for m in ms] == [("Chicago", "US")]
    ms = geotag_mentions("", "He moved to the Isle of Man.")
    assert [m.place.name for m in ms] == ["Isle of Man"]


def test_a_state_named_like_the_capital_is_the_capital_unless_it_qualifies() -> None:
    def found(text: str) -> list[tuple[str, str]]:
        return [(m.surface, m.place.kind) for m in geotag_mentions("", text)]

    assert found("WASHINGTON (AP) - The Senate voted on Friday.") == [("WASHINGTON", "city")]
    assert found("He flew to New York on Monday.") == [("New York", "city")]
    assert found("Police in Spokane, Washington, said on Monday.") == [
        ("Spokane", "city"),
        ("Washington", "region"),
    ]
    assert found("Wildfires spread across Oregon.") == [("Oregon", "region")]


def test_geotag_file_entry_point(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"id": "x", "title": "Floods in Paris, Texas", "text": "Rain fell."}) + "\n"
    )
    out = tmp_path / "out.jsonl"
    code = (
        "import sys; from breakingon.cli import main; "
        "sys.argv=['breakingon','geotag-file',sys.argv[1],'--output',sys.argv[2]]; main()"
    )
    subprocess.run([sys.executable, "-c", code, str(src), str(out)], check=True)
    rec = json.loads(out.read_text())
    assert rec["id"] == "x"
    first = rec["places"][0]
    assert set(first) == {"geonameid", "name", "country", "kind", "lat", "lon"}
    assert (first["name"], first["country"], first["kind"]) == ("Paris", "US", "city")


def test_the_white_house_is_not_casablanca() -> None:
    """ "White House" is an English alternate name of Casablanca in the gazetteer; in the
    news it is the US president's residence, never the Moroccan city."""
    text = (
        "The White House said on Monday that the president would sign the bill. "
        "A White House spokesperson declined to comment further."
    )
    tags = geotag("White House backs the bill", text)
    assert all(p.name != "Casablanca" for p in tags), tags


def _found(text: str, hint: str = "") -> list[tuple[str, str, str]]:
    return [(m.surface, m.place.country, m.place.kind) for m in geotag_mentions("", text, hint)]


def test_seats_of_government_stand_for_their_capital_not_a_namesake() -> None:
    # "White House" once resolved to Casablanca ("Casa Blanca").
    ms = geotag_mentions("", "The White House and the Pentagon said; the Kremlin denied it.")
    assert [(m.surface, m.place.geonameid) for m in ms] == [
        ("White House", 4140963),  # Washington, D.C.
        ("Pentagon", 4140963),
        ("Kremlin", 524901),  # Moscow
    ]
    ms = geotag_mentions("", "Downing Street said stocks fell on Wall Street.")
    assert [(m.surface, m.place.country) for m in ms] == [
        ("Downing Street", "GB"),
        ("Wall Street", "US"),
    ]


def test_an_outlet_named_after_a_city_is_not_what_the_story_is_about() -> None:
    text = "DAYTON, Ohio — A fire broke out downtown, the Washington Post reported."
    ms = geotag_mentions("", text)
    post = next(m for m in ms if m.surface == "Washington")
    assert post.organisation and post.place.geonameid == 4140963  # the toponym in the name
    places = geotag("Fire in Dayton", text)
    assert {p.country for p in places} == {"US"}
    assert "Washington" not in {p.name for p in places}


def test_washington_is_the_capital_unless_the_state_is_meant() -> None:
    assert _found("Officials in Washington said the bill would pass.") == [
        ("Washington", "US", "city")
    ]
    state = ("Washington", "US", "region")
    assert state in _found("Farmers in Washington state face a drought.")
    assert state in _found("Seattle police said crime fell across Washington last year.")
    assert _found("Spokane, Washington")[1] == state


def test_georgia_the_country_or_the_us_state_by_context() -> None:
    assert ("Georgia", "GE", "country") in _found("Protesters in Tbilisi, Georgia, faced Russia.")
    assert ("Georgia", "US", "region") in _found("Atlanta police said. Georgia voters went out.")
    assert _found("Georgia voters went to the polls.", "US") == [("Georgia", "US", "region")]
    assert _found("Georgia voters went to the polls.", "GE") == [("Georgia", "GE", "country")]


def test_canadian_provinces_and_australian_states_are_places() -> None:
    ontario = ("Ontario", "CA", "region")
    assert _found("Wildfires forced thousands to flee in northern Ontario.")[0] == ontario
    assert _found("Ontario, California, police arrested a man.")[0] == ("Ontario", "US", "city")
    # a city inside a province: London, Ontario, not London, England
    assert _found("Police in London, Ontario, arrested a man.")[:2] == [
        ("London", "CA", "city"),
        ontario,
    ]
    assert _found("Quebec will hold an election in October.")[0] == ("Quebec", "CA", "region")
    got = _found("Floods hit Queensland and New South Wales as the rain went on.")
    assert got[:2] == [("Queensland", "AU", "region"), ("New South Wales", "AU", "region")]
    assert ("Victoria", "AU", "region") in _found("The premier of Victoria locked down Melbourne.")
    assert _found("Victoria Beckham launched a new line.") == []  # a person, as before
    quebec = next(
        p for p in geotag("Quebec votes", "Quebec votes on Monday.") if p.kind == "region"
    )
    assert quebec.geonameid == 6115047  # GeoNames' province, not Quebec City


def test_a_person_or_animal_named_like_a_town_is_not_a_place() -> None:
    assert _found("Nola, a northern white rhino, died at the zoo on Sunday.") == []
    assert _found("Paris Hilton and Georgia Smith arrived.") == []
    assert _found("Mr. Jordan said he would appeal. Dr. Austin agreed.") == []
    assert _found("The suspect, Gary, 35, was arrested.") == []
    # ... while a place's own apposition and a city's police still are places.
    assert _found("Nola, a town in the Central African Republic, flooded.")[0][0] == "Nola"
    assert _found("Police in Gary said the road was closed.") == [("Gary", "US", "city")]


def _geotag_file(tmp_path: Path, rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    code = (
        "import sys; from breakingon.cli import main; "
        "sys.argv=['breakingon','geotag-file',sys.argv[1],'--output',sys.argv[2]]; main()"
    )
    subprocess.run([sys.executable, "-c", code, str(src), str(out)], check=True)
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_a_local_outlets_unnamed_city_council_story_is_its_city(tmp_path: Path) -> None:
    council = {
        "title": "Council approves budget",
        "text": "The city council voted 5-2 on Tuesday to approve the budget, the mayor said.",
        "country": "US",
    }
    springfield = {"title": "", "text": "Police in Springfield said a man was arrested."}
    recs = _geotag_file(
        tmp_path,
        [
            {"id": "local", **council, "place": "Dayton, Ohio"},
            {"id": "no-place", **council},
            {"id": "il", **springfield, "country": "US", "place": "US | Illinois"},
            {"id": "mo", **springfield, "country": "US"},
        ],
    )
    by_id = {r["id"]: r["places"] for r in recs}
    assert by_id["local"][0]["geonameid"] == 4509884  # Dayton, Ohio
    assert by_id["no-place"] == []  # no outlet place: nothing is invented
    assert by_id["il"][0]["geonameid"] == 4250542  # Springfield, Illinois: the outlet's state
    assert by_id["mo"][0]["geonameid"] == 4409896  # the most populous Springfield otherwise
    # A local story that names its own place keeps it.
    named = {
        "id": "n",
        **council,
        "text": "The Toledo city council voted.",
        "place": "Dayton, Ohio",
    }
    assert _geotag_file(tmp_path, [named])[0]["places"][0]["name"] == "Toledo"


def test_a_small_town_named_like_a_person_needs_its_country_named() -> None:
    cuba = _found("Castro ruled Cuba for decades; Castro died in Havana.")
    assert [m[0] for m in cuba] == ["Cuba", "Havana"]  # not Castro, Brazil
    # Named with its country, the town is a place again.
    assert ("Castro", "BR", "city") in _found("Floods hit Castro and Curitiba in Brazil.")


def test_a_surname_named_in_full_is_no_town_later() -> None:
    """ "Arte Moreno" (a given name the census lists lack) names a person: the later
    "Moreno" is the team owner, not Moreno, Argentina; "Real Madrid" still leaves Madrid
    a place, and a sentence-opening word does not make a name."""
    text = (
        "The Angels offered at least $160 million. Owner Arte Moreno flew from his Arizona "
        "home to Las Vegas on Tuesday. A spokesman said he believed Moreno presented the "
        "offer to the agent at that time."
    )
    assert {m.place.country for m in geotag_mentions("Angels make offer", text)} == {"US"}
    madrid = geotag_mentions("Cup final", "Fans of Real Madrid gathered. Madrid was quiet.")
    assert "ES" in {m.place.country for m in madrid}


def test_the_catalogues_place_form_names_the_country_first() -> None:
    from breakingon.tag.local import outlet_place

    def home(country: str, place: str) -> tuple[str, str, str] | None:
        c = outlet_place(country, place)
        return None if c is None else (c.place.name, c.place.kind, c.admin1)

    assert home("US", "USA | Colorado") == ("Colorado", "region", "CO")
    assert home("US", "USA | Austin, TX") == ("Austin", "city", "TX")
    assert home("", "USA | Chicago") == ("Chicago", "city", "IL")
    assert home("GB", "UK | London") == ("London", "city", "")
    assert home("US", "US | New York") == ("New York", "region", "NY")
    assert home("US", "USA") == ("United States", "country", "")


def test_geotag_file_finds_a_listed_outlets_home_by_its_domain(tmp_path: Path) -> None:
    from breakingon.sources.catalogue import load_catalogue, outlet_home

    entry = next(e for e in load_catalogue() if e.feed.outlet == "cleveland.com")
    host = entry.homepage or entry.feed.url
    assert outlet_home(host) == ("US", "USA | Ohio")
    wapo = next(e for e in load_catalogue() if e.feed.outlet == "The Washington Post")
    assert outlet_home(wapo.feed.url) == ("US", "")  # one local feed: no local paper
    assert outlet_home("example.invalid") == ("", "")
    story = {
        "title": "Springfield man arrested",
        "text": "Police in Springfield said a man was arrested after a chase.",
    }
    recs = _geotag_file(
        tmp_path,
        [
            {"id": "oh", **story, "url": host.rstrip("/") + "/news/1"},
            {"id": "plain", **story},
        ],
    )
    by_id = {r["id"]: r["places"] for r in recs}
    assert by_id["oh"][0]["geonameid"] == 4525353  # Springfield, Ohio: the outlet's state
    assert by_id["plain"][0]["geonameid"] == 4409896  # the most populous Springfield
