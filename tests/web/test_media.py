"""Lead images are served from the site's own origin (/media), named by the sha256 of
the bytes we made, with immutable caching, their content type and nosniff; the API
gives `image` (url, thumb_url, width, height, credit) or null; the story page shows the
image with its outlet credited, lists show thumbnails."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from starlette.testclient import TestClient
from webfill import BASE, Filled, fill_store, make_settings

from breakingon.extract.picture import process_image
from breakingon.records import StoryImage
from breakingon.store import Store, open_store
from breakingon.web import create_app


def encoded(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture(scope="module")
def pictured(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, Store, Filled, StoryImage]]:
    path: Path = tmp_path_factory.mktemp("media") / "m.sqlite"
    store = open_store(f"sqlite:///{path}")
    filled = fill_store(store)
    sid = next(iter(filled.stories.values()))
    story = store.get_story(sid)
    assert story is not None
    done = process_image(encoded((1600, 900)), "image/jpeg")
    url = "https://reuters.example/img/lead.jpg"
    store.save_image(url, "Reuters", done.lead, done.thumb, filled.now)
    image = StoryImage(
        done.lead.sha256, done.thumb.sha256, done.lead.width, done.lead.height, "Reuters",
        source_url=url,
    )  # fmt: skip
    store.set_story_image(sid, image, story.updated_at, filled.now + timedelta(seconds=1))
    app = create_app(make_settings(), store)
    with TestClient(app, base_url="http://testserver") as client:
        yield client, store, filled, image
    store.close()


def test_media_is_served_immutable_with_its_type_and_nosniff(pictured) -> None:  # type: ignore[no-untyped-def]
    client, _, _, image = pictured
    for sha in (image.sha256, image.thumb_sha256):
        r = client.get(f"/media/{sha}.jpg")
        assert r.status_code == 200
        assert hashlib.sha256(r.content).hexdigest() == sha
        assert r.headers["content-type"] == "image/jpeg"
        assert r.headers["x-content-type-options"] == "nosniff"
        assert "immutable" in r.headers["cache-control"]
        assert "max-age=31536000" in r.headers["cache-control"]
        assert "img-src 'self'" in r.headers["content-security-policy"]
        again = client.get(f"/media/{sha}.jpg", headers={"if-none-match": r.headers["etag"]})
        assert again.status_code == 304 and again.content == b""


@pytest.mark.parametrize(
    "name",
    ["0" * 64 + ".jpg", "{sha}.webp", "{sha}.svg", "{sha}", "../{sha}.jpg", "{SHA}.jpg", "x.jpg"],
)
def test_unknown_or_malformed_media_is_404(pictured, name: str) -> None:  # type: ignore[no-untyped-def]
    client, _, _, image = pictured
    path = "/media/" + name.format(sha=image.sha256, SHA=image.sha256.upper())
    r = client.get(path)
    assert r.status_code == 404
    assert not r.headers["content-type"].startswith("image/")


def test_api_story_image_field(pictured) -> None:  # type: ignore[no-untyped-def]
    client, store, filled, image = pictured
    sid = next(iter(filled.stories.values()))
    body = client.get(f"/api/stories/{sid}").json()
    assert body["image"] == {
        "url": f"{BASE}/media/{image.sha256}.jpg",
        "thumb_url": f"{BASE}/media/{image.thumb_sha256}.jpg",
        "width": 1200,
        "height": 675,
        "credit": "Reuters",
    }
    others = [s for s in filled.stories.values() if s != sid and store.get_story(s)]
    other = client.get(f"/api/stories/{others[0]}").json()
    assert other["image"] is None
    listed = client.get("/api/stories").json()["stories"]
    assert any(s["image"] and s["image"]["credit"] == "Reuters" for s in listed)


def test_story_page_credits_the_outlet_and_lists_show_thumbnails(pictured) -> None:  # type: ignore[no-untyped-def]
    client, _, filled, image = pictured
    sid = next(iter(filled.stories.values()))
    page = client.get(f"/story/{sid}").text
    assert f'<img src="/media/{image.sha256}.jpg" width="1200" height="675" alt="' in page
    assert "<figcaption>Image: Reuters</figcaption>" in page
    front = client.get("/").text
    assert f'src="/media/{image.thumb_sha256}.jpg" width="320" height="180"' in front
