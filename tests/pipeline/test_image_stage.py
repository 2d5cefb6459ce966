"""The image stage end to end on loopback: the simulator's article pages carry og:image
and a lead figure, the pipeline fetches each story's lead image through the crawler,
checks it with Pillow, stores re-encoded copies and names them on the story; the
simulator's broken and too-small images are refused with their codes and store nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from newsfixtures import T0, after
from PIL import Image

from breakingon.pipeline.runner import Pipeline
from breakingon.settings import Settings, parse_networks
from breakingon.sim.images import image_kind
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
