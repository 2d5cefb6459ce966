"""The image stage end to end on loopback: the simulator's article pages carry og:image
and a lead figure, the pipeline fetches each story's lead image through the crawler,
checks it with Pillow, stores re-encoded copies and names them on the story; the
simulator's broken and too-small images are refused with their codes and store nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http.server
import io
import sqlite3
import struct
import threading
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from newsfixtures import T0, after
from PIL import Image

from breakingon.crawl.http import Fetcher
from breakingon.pipeline.image_stage import ImageStage
from breakingon.pipeline.poll import fetch_settings, net_policy
from breakingon.pipeline.runner import Pipeline
from breakingon.records import ImageCandidate
from breakingon.settings import Settings, parse_networks
from breakingon.sim.photos import image_kind
from breakingon.sim.server import Newsroom
from breakingon.sim.stream import StreamArticle
from breakingon.sources.catalogue import feed_url_key, parse_opml
from breakingon.store import Store, open_store
from breakingon.store.base import StoryQuery

TOPICS = (
    "A magnitude 6.4 earthquake struck near the Turkish city of Izmir on Tuesday, killing "
    "at least 12 people, the disaster agency AFAD said. Rescue teams searched collapsed "
    "buildings in the Bayrakli district through the night.",
    "Jury selection began on Monday in the Boston fraud trial of former Harbor Bank "
    "executive Martin Hale, accused of hiding $40 million in losses from regulators. "
    "Prosecutors expect the trial to last six weeks.",
    "Norway's central bank raised its main interest rate by a quarter point to 4.5 percent "
    "on Thursday, citing persistent inflation and a weak krone. Governor Ida Wolden Bache "
    "said further increases were possible.",
    "Heavy monsoon rains flooded large parts of Dhaka on Sunday, stranding commuters and "
    "cutting power to thousands of homes, officials in Bangladesh said. Schools in the "
    "capital were closed.",
    "The European Space Agency launched its Juice probe towards Jupiter's icy moons from "
    "French Guiana on Friday. The spacecraft will reach the gas giant in 2031 after flybys "
    "of Earth and Venus.",
    "Arsenal beat Manchester City 2-1 at the Emirates Stadium on Saturday to go top of the "
    "Premier League table. Bukayo Saka scored the winning goal in the 85th minute.",
)
WANTED = ("photo", "photo", "small", "broken", "none", "photo")


def _id_of_kind(kind: str, taken: set[str]) -> str:
    """An article id the simulator gives an image of `kind` (by its hash)."""
    return next(
        f"img{n}" for n in range(10_000) if image_kind(f"img{n}") == kind and f"img{n}" not in taken
    )


def _rows() -> list[StreamArticle]:
    rows: list[StreamArticle] = []
    for i, (kind, text) in enumerate(zip(WANTED, TOPICS, strict=True)):
        rows.append(
            StreamArticle(
                id=_id_of_kind(kind, {r.id for r in rows}),
                outlet=f"Outlet {i}",
                domain=f"img{i}.example",
                published=T0 + timedelta(minutes=10 * i),
                title=text.split(",")[0][:80],
                text=" ".join([text] * 3),
                country="United Kingdom",
                section="world",
            )
        )
    return rows


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[Store]:
    s = open_store(f"sqlite:///{tmp_path / 'breakingon.sqlite'}")
    yield s
    s.close()


def test_each_story_gets_its_lead_image_or_a_clear_refusal(tmp_path: Path, store: Store) -> None:
    rows = _rows()
    settings = Settings(
        data_dir=tmp_path,
        fetch_allow_networks=parse_networks("allow", "127.0.0.0/8"),
        per_host_delay_s=0.02,
        fetch_timeout_s=5.0,
        extract_workers=1,
    )
    with Newsroom(rows, speed=0, start=after(rows)) as room:
        feeds = parse_opml(httpx.get(room.opml_url).content)
        store.add_feeds([(f, feed_url_key(f.url), None) for f in feeds])
        asyncio.run(Pipeline(settings, store, "w1").run(asyncio.Event(), once=True))
        served = {r.id: httpx.get(room.image_url(r.id)).content for r in rows}
    by_url = {room.article_url(r.id): r for r in rows}
    stories = store.list_stories(StoryQuery(limit=100))
    assert stories
    with_image = 0
    for story in stories:
        members = [by_url[a.url] for a in store.story_articles(story.id)]
        photos = [m for m in members if image_kind(m.id) == "photo"]
        if not photos:
            assert story.image is None, (story.id, [image_kind(m.id) for m in members])
            continue
        with_image += 1
        image = story.image
        assert image is not None
        assert image.credit in {m.outlet for m in photos}
        lead, thumb = store.get_image(image.sha256), store.get_image(image.thumb_sha256)
        assert lead is not None and thumb is not None
        # Our own bytes: addressed by their sha256, re-encoded, never the outlet's file.
        assert hashlib.sha256(lead.data).hexdigest() == image.sha256
        original = served[next(m for m in photos if m.outlet == image.credit).id]
        assert lead.data != original
        with Image.open(io.BytesIO(lead.data)) as im:
            assert im.format == "JPEG" and im.size == (lead.width, lead.height) == (1200, 675)
            assert not im.getexif() and "icc_profile" not in im.info
        assert (thumb.width, thumb.height) == (320, 180)
    assert with_image >= 2
    # The refusals are remembered with their codes; nothing else is stored for them. A
    # refused URL is fetched only when no better candidate of its story came first.
    codes = {"small": "too_small", "broken": "corrupt"}
    articles = {a.url: a for a in store.list_articles(limit=100)}
    refused = 0
    for r in rows:
        kind = image_kind(r.id)
        art = articles[room.article_url(r.id)]
        if kind == "none":
            assert art.image == ""
            continue
        assert art.image == room.image_url(r.id)  # og:image, resolved on the outlet's host
        known = store.known_image(art.image)
        story = store.get_story(art.story_id or 0)
        assert story is not None
        if kind in codes:
            if story.image is None:  # every candidate of its story was tried
                assert known is not None
            if known is not None:
                assert (known.error, known.image_sha256) == (codes[kind], None)
                refused += 1
    assert refused >= 2  # the small and the broken image, each its own story


class _Images(http.server.BaseHTTPRequestHandler):
    """Serves the hostile images of the test below on loopback (and a good one)."""

    routes: ClassVar[dict[str, tuple[str, bytes]]] = {}

    def do_GET(self) -> None:
        found = self.routes.get(self.path)
        if self.path.startswith("/redirect"):
            self.send_response(302)
            self.send_header("Location", "http://10.0.0.5/secret.jpg")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if found is None:
            self.send_error(404)
            return
        kind, body = found
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(ConnectionError):  # the crawler hangs up on a huge body
            self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 90, 160)).save(out, "JPEG", quality=95)
    return out.getvalue()


def _pixel() -> bytes:
    out = io.BytesIO()
    Image.new("P", (1, 1)).save(out, "GIF")
    return out.getvalue()


def _bomb() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    ihdr = struct.pack(">IIBBBBB", 60_000, 60_000, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4096))
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


def test_hostile_images_give_a_clear_refusal_and_store_nothing(
    tmp_path: Path, store: Store
) -> None:
    good = _jpeg((800, 450))
    _Images.routes = {
        "/bomb.png": ("image/png", _bomb()),
        "/truncated.jpg": ("image/jpeg", good[: len(good) // 2]),
        "/script.svg": ("image/svg+xml", b"<svg onload='alert(1)'><script>x()</script></svg>"),
        "/lying.jpg": ("image/jpeg", b"<svg><script>alert(1)</script></svg>"),
        "/page.jpg": ("text/html", b"<html>not an image</html>"),
        "/huge.jpg": ("image/jpeg", b"\xff\xd8" + b"\0" * (6 * 1024 * 1024)),
        "/tiny.gif": ("image/gif", _pixel()),
        "/good.jpg": ("image/jpeg", good),
    }
    expected = {
        "/bomb.png": "too_many_pixels",
        "/truncated.jpg": "corrupt",
        "/script.svg": "bad_content_type",
        "/lying.jpg": "not_image",
        "/page.jpg": "bad_content_type",
        "/huge.jpg": "too_large",
        "/tiny.gif": "too_small",
        "/redirect.jpg": "address_not_allowed",
    }
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Images)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    attempts: list[str] = []
    settings = Settings(fetch_allow_networks=parse_networks("allow", "127.0.0.0/8"))
    when = datetime(2025, 2, 10, tzinfo=UTC)

    async def go() -> dict[str, bool]:
        fetcher = Fetcher(
            fetch_settings(settings),
            net_policy(settings),
            connect_hook=lambda host, ip, port: attempts.append(ip),
        )
        async with fetcher:
            stage = ImageStage(store, fetcher)
            got = {}
            for path in [*expected, "/good.jpg"]:
                c = ImageCandidate(1, base + path, "Outlet", when)
                got[path] = await stage.image_for(c) is not None
            return got

    try:
        got = asyncio.run(go())
    finally:
        server.shutdown()
    assert got == {**dict.fromkeys(expected, False), "/good.jpg": True}
    for path, code in expected.items():
        known = store.known_image(base + path)
        assert known is not None and (known.error, known.image_sha256) == (code, None), path
    assert set(attempts) == {"127.0.0.1"}  # the redirect to 10.0.0.5 never connected
    with sqlite3.connect(tmp_path / "breakingon.sqlite") as db:
        [(rows,)] = db.execute("SELECT count(*) FROM images").fetchall()
        blobs = [bytes(b) for (b,) in db.execute("SELECT data FROM images")]
    assert rows == 2  # the good image's two re-encoded copies, nothing else
    assert all(b"<svg" not in b and b"script" not in b and b != good for b in blobs)
