"""The newsroom simulator against a real client on loopback: per-outlet addresses, OPML,
time compression, conditional GET, robots.txt and the misbehaviour switches."""

from __future__ import annotations

import gc
import gzip
import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from breakingon.extract.article import extract_article
from breakingon.feeds.parse import parse_feed
from breakingon.sim.server import Newsroom
from breakingon.sim.stream import StreamArticle, load_stream, paragraphs_of, parse_misbehave

T0 = datetime(2025, 2, 10, 0, 0, tzinfo=UTC)
STREAM = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "stream"


def _articles() -> list[StreamArticle]:
    rows = []
    for n in range(6):
        domain = f"outlet{n % 3}.example"
        rows.append(
            StreamArticle(
                id=f"a{n}",
                outlet=f"Outlet {n % 3}",
                domain=domain,
                published=T0 + timedelta(hours=n),
                title=f"Story number {n} about the harbour fire",
                text=f"Firefighters fought a blaze at the harbour for the {n}th hour. " * 12,
                country="United Kingdom",
                section="top",
            )
        )
    return rows


@pytest.fixture()
def room() -> Iterator[Newsroom]:
    with Newsroom(_articles(), speed=0) as newsroom:
        yield newsroom


def test_each_outlet_has_its_own_loopback_address_and_opml(room: Newsroom) -> None:
    hosts = {f.host for f in room.feeds}
    assert len(hosts) == 3 and all(h.startswith("127.0.") and h != "127.0.0.1" for h in hosts)
    opml = httpx.get(room.opml_url)
    assert opml.status_code == 200
    outlines = ET.fromstring(opml.content).findall(".//outline")
    assert {o.get("xmlUrl") for o in outlines} == {f.rss_url for f in room.feeds}
    first = outlines[0]
    assert first.get("text") == first.get("title") == "Outlet 0"
    assert first.get("country") == "GB" and first.get("category") == "top"
    assert first.get("htmlUrl", "").endswith(f":{room.port}/")


def test_time_compression_publishes_in_order(room: Newsroom) -> None:
    feed = room.feeds[0]
    first = parse_feed(httpx.get(feed.rss_url).content, {}, feed.rss_url, T0)
    assert [i.title for i in first.items] == ["Story number 0 about the harbour fire"]
    hidden = room.article_url("a3")
    assert httpx.get(hidden).status_code == 404  # not yet published
    room.clock.advance(timedelta(hours=3, minutes=1))
    now = room.clock.now()
    again = parse_feed(httpx.get(feed.rss_url).content, {}, feed.rss_url, now)
    assert again.items[0].title == "Story number 3 about the harbour fire"
    assert httpx.get(hidden).status_code == 200
    atom = parse_feed(httpx.get(feed.atom_url).content, {}, feed.atom_url, now)
    assert [i.url for i in atom.items] == [i.url for i in again.items]


def test_speed_runs_the_clock() -> None:
    with Newsroom(_articles(), speed=3600.0) as fast:
        start = fast.clock.now()
        import time

        time.sleep(0.3)
        assert fast.clock.now() - start >= timedelta(minutes=15)


def test_conditional_get_and_robots(room: Newsroom) -> None:
    feed = room.feeds[0]
    first = httpx.get(feed.rss_url)
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    assert httpx.get(feed.rss_url, headers={"if-none-match": etag}).status_code == 304
    assert httpx.get(feed.rss_url, headers={"if-modified-since": last_modified}).status_code == 304
    room.clock.advance(timedelta(hours=10))
    changed = httpx.get(feed.rss_url, headers={"if-none-match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    robots = httpx.get(feed.home_url + "robots.txt")
    assert "Disallow: /private/" in robots.text


def test_article_page_extracts_cleanly(room: Newsroom) -> None:
    url = room.article_url("a0")
    page = httpx.get(url)
    assert page.status_code == 200
    assert '<meta property="article:published_time" content="2025-02-10T00:00:00Z">' in page.text
    result = extract_article(page.content, url)
    assert result.title == "Story number 0 about the harbour fire"
    assert result.text.startswith("Firefighters fought a blaze")
    assert "Comments" not in result.text and "newsletter" not in result.text
    assert result.published == T0


def test_cli_extract_fetches_a_url_under_the_configured_network_policy(room: Newsroom) -> None:
    """`breakingon extract URL` fetches through the crawler; loopback is refused unless
    BREAKINGON_FETCH_ALLOW_NETWORKS (read through settings) allows it."""
    from typer.testing import CliRunner

    from breakingon.cli import extract  # noqa: F401 - registers the command
    from breakingon.cli.app import app

    url = room.article_url("a0")
    refused = CliRunner().invoke(app, ["extract", url], env={})
    assert refused.exit_code == 1 and not refused.stdout  # loopback is a blocked range
    assert f"error: {url}" in refused.stderr
    allowed = CliRunner().invoke(
        app, ["extract", url], env={"BREAKINGON_FETCH_ALLOW_NETWORKS": "127.0.0.0/8"}
    )
    assert allowed.exit_code == 0, allowed.stderr
    line = json.loads(allowed.stdout)
    assert line["title"] == "Story number 0 about the harbour fire"
    assert line["source"] == url and line["url"] == url
    bad = CliRunner().invoke(
        app, ["extract", url], env={"BREAKINGON_FETCH_ALLOW_NETWORKS": "127.0.0.0/33"}
    )
    assert bad.exit_code == 2 and "BREAKINGON_FETCH_ALLOW_NETWORKS" in bad.stderr


def test_cli_registers_extract_and_newsroom_with_their_options() -> None:
    from typer.testing import CliRunner

    from breakingon.cli import _COMMAND_MODULES
    from breakingon.cli.app import app

    assert {"extract", "sim"} <= set(_COMMAND_MODULES) and "crawl" not in _COMMAND_MODULES
    from breakingon.cli import extract, sim  # noqa: F401 - registers the commands

    runner = CliRunner()
    got = runner.invoke(app, ["newsroom", "--help"], env={"COLUMNS": "200"})
    assert got.exit_code == 0
    for option in ("--port", "--speed", "--misbehave", "--single-address", "--now"):
        assert option in got.stdout
    got = runner.invoke(app, ["extract", "--help"], env={"COLUMNS": "200"})
    assert got.exit_code == 0 and "--url" in got.stdout


def test_misbehaviour_switches(room: Newsroom) -> None:
    feeds = {f.domain: f for f in room.feeds}
    client = httpx.Client()
    room.set_misbehave("outlet0.example", "429")
    got = client.get(feeds["outlet0.example"].rss_url)
    assert got.status_code == 429 and got.headers["retry-after"] == "120"
    room.set_misbehave("outlet0.example", "5xx")
    assert client.get(feeds["outlet0.example"].rss_url).status_code == 503
    room.set_misbehave("outlet0.example", "redirect_loop")
    with pytest.raises(httpx.TooManyRedirects):
        with httpx.Client(follow_redirects=True, max_redirects=5) as redirecting:
            redirecting.get(feeds["outlet0.example"].rss_url)
    room.set_misbehave("outlet0.example", "broken_xml")
    broken = parse_feed(client.get(feeds["outlet0.example"].rss_url).content, {}, "", T0)
    assert broken.bozo or broken.error
    # control endpoint: turn it off again, advance the clock
    off = client.get(f"{room.base_url}/_control/misbehave?outlet=outlet0.example&mode=none")
    assert off.status_code == 200
    assert client.get(feeds["outlet0.example"].rss_url).status_code == 200
    status = client.get(f"{room.base_url}/_control/status").json()
    assert status["outlets"] == 3 and status["misbehaving"] == {}
    assert client.get(f"{room.base_url}/_control/clock?advance=7200").status_code == 200
    assert room.published_count() == 3


def test_gzip_bomb_and_slow_drip() -> None:
    with Newsroom(
        _articles(),
        speed=0,
        misbehave={"outlet1.example": "gzip_bomb", "outlet2.example": "slow"},
        bomb_bytes=64 * 1024 * 1024,
        slow_drip_s=0.2,
    ) as room:
        feeds = {f.domain: f for f in room.feeds}
        with httpx.stream("GET", feeds["outlet1.example"].rss_url) as resp:
            assert resp.headers["content-encoding"] == "gzip"
            raw = b"".join(resp.iter_raw())
        assert len(raw) < 1024 * 1024  # small on the wire ...
        with gzip.open(__import__("io").BytesIO(raw)) as bomb:
            assert len(bomb.read(10 * 1024 * 1024)) == 10 * 1024 * 1024  # ... huge decoded
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(feeds["outlet2.example"].rss_url, timeout=httpx.Timeout(5, read=0.1))


def test_fraction_and_cli_specs() -> None:
    per_outlet, fractions = parse_misbehave(["429@a.example,slow=0.5", "5xx=1"])
    assert per_outlet == {"a.example": "429"} and fractions == {"slow": 0.5, "5xx": 1.0}
    with pytest.raises(ValueError):
        parse_misbehave(["explode=0.1"])
    room = Newsroom(_articles(), misbehave_fraction={"5xx": 1.0})
    assert all(o.mode == "5xx" for o in room._outlets.values())


def test_untitled_lines_get_their_first_real_sentence_as_title(tmp_path: Path) -> None:
    text = (
        "WASHINGTON (AP) — The Trump administration is cutting off U.S. funding to the "
        "agency, officials said on Feb. 3 in a statement.\n"
        "Mr. Smith disagreed. He spoke later."
    )
    line = {"id": "a1", "outlet": "Wire", "domain": "wire.example", "published":
            "2025-02-11T02:51:16Z", "title": "", "text": text}  # fmt: skip
    stream = tmp_path / "s.jsonl"
    stream.write_text(json.dumps(line) + "\n", encoding="utf-8")
    (article,) = load_stream(stream)
    # No dateline, and not cut at "U.S." or "Feb.".
    assert article.title == (
        "The Trump administration is cutting off U.S. funding to the agency, officials said on…"
    )
    assert paragraphs_of(text) == [
        "WASHINGTON (AP) — The Trump administration is cutting off U.S. funding to the "
        "agency, officials said on Feb. 3 in a statement.",
        "Mr. Smith disagreed. He spoke later.",
    ]


@pytest.mark.skipif(not (STREAM / "newsroom-dev.jsonl").exists(), reason="stream missing")
def test_replays_the_shared_stream() -> None:
    articles = load_stream(STREAM / "newsroom-dev.jsonl")
    assert len(articles) == 1188 and all(a.title for a in articles)
    with Newsroom(articles, speed=0) as room:
        assert len(room.feeds) >= 400
        assert len({f.host for f in room.feeds}) == len(room.feeds)
        room.clock.advance(timedelta(days=4))
        assert room.published_count() == 1188
        feed = room.feeds[0]
        parsed = parse_feed(httpx.get(feed.rss_url).content, {}, feed.rss_url, room.clock.now())
        assert parsed.error is None and parsed.items
        status = json.loads(httpx.get(f"{room.base_url}/_control/status").text)
        assert status["articles"] == 1188


def test_heavy_pages_prerendered_or_not_serve_the_same_bytes() -> None:
    with (
        Newsroom(_articles(), speed=0, start=T0 + timedelta(hours=3, minutes=1)) as live,
        Newsroom(
            _articles(), speed=0, start=T0 + timedelta(hours=3, minutes=1), prerender=True
        ) as pre,
    ):
        for article_id in ("a0", "a3"):
            a, b = httpx.get(live.article_url(article_id)), httpx.get(pre.article_url(article_id))
            assert a.status_code == b.status_code == 200
            # the paths differ only by the port: compare the pages with it taken out
            ports = f":{live.port}/".encode(), f":{pre.port}/".encode()
            assert a.content.replace(ports[0], b":PORT/") == b.content.replace(ports[1], b":PORT/")
            assert b.headers["content-encoding"] == "gzip"  # the cached gzip body
        # Prerendered or not, a page is served only once its time has come.
        assert httpx.get(pre.article_url("a5")).status_code == 404
        page = httpx.get(pre.article_url("a3"))
        # As heavy as a real news page: scripts, menus, cards, comments around the body.
        assert len(page.content) > 40_000 and page.text.count("<a ") > 100
        # Related cards link only articles published before this one, newest first.
        cards = [
            t for t in ("number 2 about", "number 1 about", "number 0 about") if t in page.text
        ]
        assert cards == ["number 2 about", "number 1 about", "number 0 about"]
        assert "number 4 about" not in page.text and "number 5 about" not in page.text
        assert page.text.index("number 2 about") < page.text.index("number 0 about")
        result = extract_article(page.content, pre.article_url("a3"))
        assert result.text.startswith("Firefighters fought a blaze at the harbour for the 3th")
        assert "number 2 about" not in result.text and "Comments" not in result.text


def test_stop_ends_open_connections_without_orphaned_tasks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A crawler keeps idle keep-alive connections to every outlet; stopping the newsroom
    # must end their handler tasks, not leave them pending for the garbage collector
    # ("Task was destroyed but it is pending!", once per connection).
    caplog.set_level(logging.ERROR, logger="asyncio")
    room = Newsroom(_articles(), speed=0).start()
    clients = [httpx.Client() for _ in range(4)]
    try:
        for client in clients:
            assert client.get(f"{room.base_url}/robots.txt").status_code == 200
        room.stop()
        del room
        gc.collect()
    finally:
        for client in clients:
            client.close()
    destroyed = [r for r in caplog.records if "destroyed but it is pending" in r.getMessage()]
    assert destroyed == []
