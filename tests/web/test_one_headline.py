"""One story, one headline: the HTML page, the JSON API and the Atom feed show the
headline and dek the story stage stored, computed from real articles through the
clustering and story stages."""

from __future__ import annotations

import html as htmllib
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.testclient import TestClient
from webfill import FakeResolver, make_settings

from breakingon.pipeline.cluster_stage import ClusterStage
from breakingon.pipeline.story_stage import StoryStage
from breakingon.records import Article, Feed
from breakingon.settings import Settings
from breakingon.sources.catalogue import feed_url_key
from breakingon.store import Store, open_store
from breakingon.store.base import FeedUpdate
from breakingon.tag.places import geotag
from breakingon.web import create_app

ATOM = "{http://www.w3.org/2005/Atom}"
T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
CUT = "Police said they were called to Tallgrass Distributors Ltd., at 40 East Fifth…"
TEXT = (
    "Police said they were called to Tallgrass Distributors Ltd., at 40 East Fifth "
    "Avenue, where a man had confronted the crowd. Two people were hurt, one of them "
    "seriously, and the man was arrested at the scene by officers on patrol nearby. "
    "The warehouse stayed closed on Wednesday while investigators examined the site."
)


def _add(store: Store, outlet: str, title: str, text: str, at: datetime) -> int:
    url = f"https://{outlet.lower().replace(' ', '')}.example/feed"
    feed, _ = store.add_feed(Feed(url=url, outlet=outlet, country="US"), feed_url_key(url))
    assert feed.id is not None
    art = Article(
        url=f"https://{outlet.lower().replace(' ', '')}.example/{abs(hash(title))}",
        title=title,
        text=text,
        published=at,
        item_key=title,
        language="en",
        sections=("us",),
    )
    update = FeedUpdate(at, at + timedelta(minutes=15), 900, 0, success=True)
    [aid] = store.save_feed_check(feed.id, update, [art], "extracted")
    store.save_extracted([replace(art, id=aid, places=geotag(title, text[:5000]))])
    return aid


def _drain(stage: ClusterStage | StoryStage) -> None:
    while stage.step() > 0:
        pass


def test_html_api_and_atom_show_the_same_headline_and_dek(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'one.sqlite'}")
    try:
        aid = _add(store, "Daily Planet", CUT, TEXT, T0)
        settings = Settings(lease_s=60)
        clock = lambda: T0 + timedelta(minutes=5)  # noqa: E731
        _drain(ClusterStage(settings, store, "w1", clock=clock))
        _drain(StoryStage(settings, store, "w1", clock=clock))
        article = store.get_article(aid)
        assert article is not None and article.story_id is not None
        sid = article.story_id
        app = create_app(make_settings(), store, resolver=FakeResolver({}))
        with TestClient(app, base_url="http://testserver") as client:
            page = client.get(f"/story/{sid}").text
            api = client.get(f"/api/stories/{sid}").json()
            atom = ET.fromstring(client.get("/feed.atom").content)
    finally:
        store.close()
    h1 = htmllib.unescape(page.split('id="headline">', 1)[1].split("</h1>", 1)[0])
    story = api["story"] if "story" in api else api
    [entry] = [
        e for e in atom.iter(f"{ATOM}entry") if e.findtext(f"{ATOM}id", "").endswith(f"/{sid}")
    ]
    # Made whole from the article's own text (21 words: too long), so its first whole
    # clause, once, by the story stage; never cut with "…".
    assert h1 == (
        "Police said they were called to Tallgrass Distributors Ltd., at 40 East Fifth Avenue"
    )
    assert story["headline"] == h1 == entry.findtext(f"{ATOM}title")
    dek = story["dek"]
    assert not dek.startswith("Police said")  # the dek does not repeat the headline
    shown = [htmllib.unescape(d) for d in page.split('<p class="dek">')[1:]]
    assert [d.split("</p>", 1)[0] for d in shown] == ([dek] if dek else [])
    assert entry.findtext(f"{ATOM}summary") == (dek or story["score_explanation"])
