"""CLI commands: `sources add|remove|list|import-opml|export-opml|set-weight|catalogue|
add-catalogue`, `stats`.

The packaged catalogue is loaded only when the operator asks (`sources add-catalogue`);
nothing loads it behind their back."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Annotated

import typer

from breakingon.cli.app import app, fail, load, open_configured_store
from breakingon.crawl.netpolicy import NetPolicy
from breakingon.records import Feed, Outlet
from breakingon.settings import Settings
from breakingon.sources.catalogue import (
    CatalogueEntry,
    SourceError,
    catalogue_summary,
    export_opml,
    feed_to_json,
    feed_url_key,
    load_catalogue,
    parse_opml,
    select_catalogue,
    validate_feed_url,
)
from breakingon.store import SourceStore
from breakingon.story.rank import RankSettings

sources_app = typer.Typer(help="Manage outlets and their feeds.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")


HOW_TO_ADD = (
    "no sources yet. Add some:\n"
    "  breakingon demo                       the offline demo (newsroom simulator)\n"
    "  breakingon sources add-catalogue      the packaged news catalogue "
    "(--country CC, --section S; `sources catalogue` lists it)\n"
    "  breakingon sources add URL            one feed\n"
    "  breakingon sources import-opml FILE   an OPML file or URL"
)


def add_catalogue(store: SourceStore, entries: list[CatalogueEntry]) -> int:
    """Add catalogue entries (with their outlets); return the number of feeds created."""
    rows = [
        (
            e.feed,
            feed_url_key(e.feed.url),
            Outlet(
                name=e.feed.outlet,
                homepage=e.homepage,
                country=e.feed.country,
                language=e.feed.language,
                place=e.feed.place,
                owner=e.owner,
                ownership=e.ownership,
            ),
        )
        for e in entries
    ]
    return store.add_feeds(rows)


def _policy(settings: Settings) -> NetPolicy:
    return NetPolicy(allow_networks=tuple(settings.fetch_allow_networks))


def add_feeds(store: SourceStore, feeds: list[Feed]) -> tuple[int, int]:
    created = store.add_feeds([(f, feed_url_key(f.url), None) for f in feeds])
    return created, len(feeds) - created


@sources_app.command("add")
def sources_add(
    url: str,
    outlet: Annotated[str, typer.Option(help="Outlet name (default: the host name).")] = "",
    country: Annotated[str, typer.Option(help="ISO 3166 alpha-2 country code.")] = "",
    language: Annotated[str, typer.Option(help="ISO 639-1 language code.")] = "",
    section: Annotated[list[str] | None, typer.Option(help="Topic section (repeatable).")] = None,
    place: Annotated[str, typer.Option(help="Region or city of a local outlet.")] = "",
) -> None:
    """Add one feed. A duplicate (same normalized URL) reports the existing feed."""
    try:
        clean = validate_feed_url(url)
    except SourceError as exc:
        fail(f"{url!r}: {exc}")
        return
    if country and (len(country) != 2 or not country.isalpha()):
        fail(f"--country: expected an ISO 3166 alpha-2 code, got {country!r}")
    settings = load()
    why = _policy(settings).literal_host_refusal(clean)
    if why is not None:  # the fetcher's SSRF policy, so the feed would never be fetched
        fail(f"{url!r}: address not allowed ({why}); see BREAKINGON_FETCH_ALLOW_NETWORKS")
    store = open_configured_store(settings)
    from urllib.parse import urlsplit

    feed = Feed(
        url=clean,
        outlet=outlet or (urlsplit(clean).hostname or clean),
        country=country.upper(),
        language=language.lower(),
        sections=tuple(s.lower() for s in (section or [])),
        place=place,
    )
    stored, created = store.add_feed(feed, feed_url_key(clean))
    typer.echo(("added" if created else "already present") + f": #{stored.id} {stored.url}")


@sources_app.command("remove")
def sources_remove(url: str) -> None:
    """Remove a feed by URL (its stored articles stay)."""
    try:
        key = feed_url_key(url)
    except SourceError as exc:
        fail(f"{url!r}: {exc}")
        return
    store = open_configured_store(load())
    if not store.remove_feed(key):
        fail(f"no feed with URL {url!r}", code=1)
    typer.echo(f"removed: {url}")


@sources_app.command("list")
def sources_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array of feeds.")] = False,
) -> None:
    """List the feeds in the database."""
    store = open_configured_store(load())
    feeds = store.list_feeds()
    if as_json:
        typer.echo(json.dumps([feed_to_json(f) for f in feeds], ensure_ascii=False, indent=1))
        return
    for f in feeds:
        secs = ",".join(f.sections)
        country = f.country or "--"
        typer.echo(
            f"{f.id:>6}  {country:2}  {f.status:7} {f.outlet[:32]:32}  {secs[:20]:20}  {f.url}"
        )
    typer.echo(f"{len(feeds)} feeds")


OPML_CONNECT_RETRY_S = 20.0  # how long `import-opml URL` retries a refused connection


def fetch_opml(settings: Settings, url: str, retry_s: float = OPML_CONNECT_RETRY_S) -> bytes:
    """The OPML at `url`, fetched with the crawler's policy. A refused connection (a
    server still starting, such as the newsroom simulator) is retried for `retry_s`
    seconds; any other error, or the end of that time, raises SourceError saying why."""
    from breakingon.pipeline import fetch_bytes

    deadline = time.monotonic() + retry_s
    while True:
        data, error = fetch_bytes(settings, url)
        if not error:
            return data
        if not error.startswith("connect") or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    if error.startswith("connect"):
        raise SourceError(
            f"{url}: nothing answered within {retry_s:g} s ({error}); is the server running?"
        )
    raise SourceError(f"{url}: {error}")


@sources_app.command("import-opml")
def sources_import_opml(path_or_url: str) -> None:
    """Import feeds from an OPML file or URL (fetched with the crawler's policy; a
    refused connection is retried for a few seconds)."""
    settings = load()
    if path_or_url.startswith(("http://", "https://")):
        try:
            data = fetch_opml(settings, path_or_url)
        except SourceError as exc:
            fail(str(exc))
            return
    else:
        p = Path(path_or_url)
        try:
            if p.stat().st_size > 5 * 1024 * 1024:
                fail(f"{p}: OPML larger than 5 MiB")
            data = p.read_bytes()
        except OSError as exc:
            fail(f"{p}: {exc.strerror or exc}")
            return
    try:
        feeds = parse_opml(data)
    except SourceError as exc:
        fail(f"{path_or_url}: {exc}")
        return
    policy = _policy(settings)
    refused = [(f.url, why) for f in feeds if (why := policy.literal_host_refusal(f.url))]
    for feed_url, why in refused[:20]:
        typer.echo(f"refused {feed_url}: address not allowed ({why})", err=True)
    feeds = [f for f in feeds if policy.literal_host_refusal(f.url) is None]
    store = open_configured_store(settings)
    created, existing = add_feeds(store, feeds)
    note = f"; {len(refused)} refused (address not allowed)" if refused else ""
    typer.echo(f"imported {created} new feeds ({existing} already present){note}")


@sources_app.command("export-opml")
def sources_export_opml(
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
) -> None:
    """Write all feeds as OPML 2.0 (to stdout, or --output FILE)."""
    store = open_configured_store(load())
    text = export_opml(store.list_feeds())
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text, "utf-8")


@sources_app.command("catalogue")
def sources_catalogue(
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON.")] = False,
) -> None:
    """List the packaged catalogue by region and topic, with counts (nothing is added)."""
    summary = catalogue_summary(load_catalogue())
    if as_json:
        typer.echo(json.dumps(summary, indent=1))
        return
    typer.echo(f"{summary['news']} news feeds in the catalogue, by region:")
    for region, row in summary["regions"].items():
        countries = ", ".join(f"{c} {n}" for c, n in row["countries"].items() if c != "--")
        typer.echo(f"  {row['feeds']:>5}  {region}" + (f": {countries}" if countries else ""))
    typer.echo("by topic (--section):")
    for topic, n in summary["topics"].items():
        typer.echo(f"  {n:>5}  {topic}")
    left = ", ".join(f"{n} {kind}" for kind, n in summary["non_news"].items())
    typer.echo(f"not news, left out unless --include-non-news: {left}")
    typer.echo("add them with: breakingon sources add-catalogue [--country CC] [--section S]")


@sources_app.command("add-catalogue")
def sources_add_catalogue(
    country: Annotated[
        list[str] | None, typer.Option(help="ISO 3166 alpha-2 code (repeatable; default: all).")
    ] = None,
    section: Annotated[
        list[str] | None, typer.Option(help="Topic, as `sources catalogue` lists (repeatable).")
    ] = None,
    include_non_news: Annotated[
        bool, typer.Option(help="Also podcasts, videos, forums and lifestyle feeds.")
    ] = False,
) -> None:
    """Add feeds of the packaged catalogue (news only unless --include-non-news)."""
    for code in country or []:
        if len(code) != 2 or not code.isalpha():
            fail(f"--country: expected an ISO 3166 alpha-2 code, got {code!r}")
    entries = load_catalogue()
    known = {s for e in entries for s in e.feed.sections}
    for name in section or []:
        if name.lower() not in known:
            fail(f"--section: no catalogue topic {name!r}; one of {', '.join(sorted(known))}")
    chosen = select_catalogue(entries, country or [], section or [], include_non_news)
    if not chosen:
        fail("no catalogue feed matches; `breakingon sources catalogue` lists them", code=1)
    store = open_configured_store(load())
    created = add_catalogue(store, chosen)
    typer.echo(f"added {created} catalogue feeds ({len(chosen) - created} already present)")


MAX_WEIGHT = 10.0  # the largest operator weight `sources set-weight` accepts


@sources_app.command("set-weight")
def sources_set_weight(
    name: Annotated[str, typer.Argument(help="The outlet's name, as `sources list` shows it.")],
    weight: Annotated[
        float, typer.Argument(help=f"Ranking weight, above 0 and at most {MAX_WEIGHT:g}.")
    ],
) -> None:
    """Set an outlet's ranking weight: 1 is neutral, 2 counts the outlet as two outlets
    in a story's coverage (it also changes the order of stories it reports)."""
    if not math.isfinite(weight) or not 0 < weight <= MAX_WEIGHT:
        fail(f"weight: expected a number above 0 and at most {MAX_WEIGHT:g}, got {weight:g}")
    store = open_configured_store(load())
    outlets = store.list_outlets()
    match = next((o for o in outlets if o.name == name), None)
    if match is None or match.id is None:
        near = sorted(o.name for o in outlets if o.name.casefold() == name.casefold())
        hint = f" (did you mean {', '.join(map(repr, near))}?)" if near else ""
        fail(f"no outlet named {name!r}{hint}; `sources list` shows the outlets")
        return
    if not store.set_outlet_weight(match.id, weight):
        fail(f"no outlet named {name!r} (removed meanwhile)")
    typer.echo(f"weight of {match.name}: {match.weight:g} -> {weight:g}")
    cap = RankSettings().max_weight
    if weight > cap:
        typer.echo(f"note: ranking counts weights above {cap:g} as {cap:g}", err=True)


@app.command("stats")
def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Counts of sources, feeds, articles and stories."""
    store = open_configured_store(load())
    counts = store.stats()
    if as_json:
        typer.echo(json.dumps(counts))
    else:
        for k, v in counts.items():
            typer.echo(f"{k:10} {v}")
