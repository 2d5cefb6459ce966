"""The image stage: each story's lead image, fetched, checked, re-encoded and stored.

Images are fetched for story leads only, not for every article: a story shows one
image, a crawl of thousands of feeds would otherwise fetch an image per article (most
never shown, many of them copies of one agency photograph), and the pages already
fetched carry the URLs (`Article.image`, from og:image, JSON-LD or the first figure).

`ImageStage.step()` takes the stories updated since their image was last chosen
(`ImageStore.stories_needing_image`), ranks their members' image URLs
(`story.image_choice.image_shortlist`: the lead report's first) and walks the shortlist
until one URL gives an image: a URL fetched before is not fetched again (its stored
copies are reused; a refusal is remembered for `RETRY_FAILED_S`), a new one is fetched
through the crawler's `Fetcher` (`crawl.images.fetch_image`: SSRF policy, allow-list,
timeouts, redirects, robots, a 5 MB cap, raster types only) and checked and
re-encoded by `extract.picture.process_image` in a thread. The chosen image (or none)
is stored on the story. A bad image is one log line and the next candidate: nothing is
stored for it but its refusal code, the story and its articles are untouched, and the
worker goes on.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from breakingon.crawl.http import Fetcher
from breakingon.crawl.images import fetch_image
from breakingon.extract.picture import ImageRejected, process_image
from breakingon.ops.metrics import METRICS
from breakingon.records import ImageCandidate, Outlet, Story, StoryImage
from breakingon.store.base import ImageStore
from breakingon.story.image_choice import image_shortlist

__all__ = ["RETRY_FAILED_S", "ImageStage"]

log = logging.getLogger("breakingon.images")

RETRY_FAILED_S = 24 * 3600.0  # a refused image URL is tried again after a day


class _Store(ImageStore, Protocol):
    def list_outlets(self) -> list[Outlet]: ...


def _now() -> datetime:
    return datetime.now(UTC)


class ImageStage:
    """Lead images for the stories that need one (see the module doc)."""

    def __init__(
        self, store: _Store, fetcher: Fetcher, clock: Callable[[], datetime] = _now
    ) -> None:
        self.store = store
        self.fetcher = fetcher
        self.clock = clock
        self.fetched = 0
        self.refused = 0

    async def step(self, limit: int = 8) -> int:
        """Choose the lead image of up to `limit` due stories; return how many."""
        stories = await asyncio.to_thread(self.store.stories_needing_image, limit)
        if not stories:
            return 0
        weights = {o.name: o.weight for o in await asyncio.to_thread(self.store.list_outlets)}
        for story in stories:
            try:
                await self.update(story, weights)
            except Exception:
                log.exception("lead image of story %d failed", story.id)
                METRICS.errors.labels(stage="image").inc()
                # Marked checked as it is, so one broken story does not come back each step.
                await asyncio.to_thread(
                    self.store.set_story_image,
                    story.id,
                    story.image,
                    story.updated_at,
                    self.clock(),
                )
        return len(stories)

    async def update(self, story: Story, weights: dict[str, float] | None = None) -> None:
        """Choose and store the lead image of `story` (None when no candidate passes)."""
        candidates = await asyncio.to_thread(self.store.story_image_candidates, story.id)
        shortlist = image_shortlist(candidates, story.representative_article_id, weights)
        chosen: StoryImage | None = None
        for candidate in shortlist:
            if story.image is not None and story.image.source_url == candidate.url:
                chosen = story.image
                break
            chosen = await self.image_for(candidate)
            if chosen is not None:
                break
        await asyncio.to_thread(
            self.store.set_story_image, story.id, chosen, story.updated_at, self.clock()
        )

    async def image_for(self, candidate: ImageCandidate) -> StoryImage | None:
        """The stored image of `candidate.url`, fetching and checking it if new."""
        url, now = candidate.url, self.clock()
        known = await asyncio.to_thread(self.store.known_image, url)
        if known is not None:
            if known.image_sha256 and known.thumb_sha256:
                return StoryImage(
                    known.image_sha256,
                    known.thumb_sha256,
                    known.width,
                    known.height,
                    candidate.outlet,
                    source_url=url,
                )
            if (now - known.checked_at).total_seconds() < RETRY_FAILED_S:
                return None
        res = await fetch_image(self.fetcher, url)
        if res.error is not None:
            await self._refused(url, res.error, res.detail)
            return None
        try:
            done = await asyncio.to_thread(process_image, res.body, res.header("content-type"))
        except ImageRejected as exc:
            await self._refused(url, exc.code, exc.detail)
            return None
        await asyncio.to_thread(
            self.store.save_image, url, candidate.outlet, done.lead, done.thumb, now
        )
        self.fetched += 1
        return StoryImage(
            done.lead.sha256,
            done.thumb.sha256,
            done.lead.width,
            done.lead.height,
            candidate.outlet,
            source_url=url,
        )

    async def _refused(self, url: str, code: str, detail: str) -> None:
        self.refused += 1
        log.info("image refused: %s: %s %s", url[:200], code, detail[:200])
        await asyncio.to_thread(self.store.save_image_failure, url, code, self.clock())
