"""`SQLStore` images: the stories whose lead image is due, their members' image URLs,
the re-encoded copies (content-addressed), what each image URL gave, the story's lead
image, and pruning the images no story uses. See `ImageStore` for the contract."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from breakingon.records import ImageCandidate, ImageFile, Story, StoryImage
from breakingon.store.base import KnownImage
from breakingon.store.codec import clean_text
from breakingon.store.sql_base import _utc
from breakingon.store.sql_stories import _StoriesMixin


def url_hash(url: str) -> str:
    """The key of an image URL in `image_sources` (URLs can be too long for an index)."""
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


class _ImagesMixin(_StoriesMixin):
    """Lead images: due stories, candidates, stored copies, story images, pruning."""

    def _insert(self, table: sa.Table) -> Any:
        return (postgresql if self.dialect == "postgresql" else sqlite).insert(table)

    def stories_needing_image(self, limit: int) -> list[Story]:
        st = self.t["stories"]
        stmt = (
            sa.select(*self._story_cols())
            .where(
                st.c.merged_into.is_(None),
                sa.or_(st.c.image_checked_at.is_(None), st.c.image_checked_at < st.c.updated_at),
            )
            .order_by(st.c.score.desc(), st.c.id.desc())
            .limit(limit)
        )
        with self._read() as conn:
            return [self._story(r) for r in conn.execute(stmt)]

    def story_image_candidates(self, story_id: int) -> list[ImageCandidate]:
        a, s = self.t["articles"], self.t["sources"]
        stmt = (
            sa.select(a.c.id, a.c.image, a.c.published, a.c.duplicate_of, s.c.name)
            .select_from(a.outerjoin(s, s.c.id == a.c.source_id))
            .where(a.c.story_id == story_id, a.c.image != "")
            .order_by(a.c.published, a.c.id)
            .limit(200)
        )
        with self._read() as conn:
            return [
                ImageCandidate(
                    article_id=int(r.id),
                    url=r.image,
                    outlet=r.name or "",
                    published=_utc(r.published),
                    duplicate=r.duplicate_of is not None,
                )
                for r in conn.execute(stmt)
            ]

    def known_image(self, url: str) -> KnownImage | None:
        src, im = self.t["image_sources"], self.t["images"]
        stmt = (
            sa.select(src, im.c.width, im.c.height)
            .select_from(src.outerjoin(im, im.c.sha256 == src.c.image_sha256))
            .where(src.c.url_hash == url_hash(url))
        )
        with self._read() as conn:
            r = conn.execute(stmt).first()
        if r is None or (r.image_sha256 is not None and r.width is None):
            return None  # never fetched, or its copies were pruned since: fetch again
        return KnownImage(
            url=r.url,
            checked_at=_utc(r.checked_at),
            image_sha256=r.image_sha256,
            thumb_sha256=r.thumb_sha256,
            width=int(r.width or 0),
            height=int(r.height or 0),
            error=r.error,
        )

    def _remember(self, conn: Connection, url: str, now: datetime, **values: Any) -> None:
        src = self.t["image_sources"]
        row = {"url_hash": url_hash(url), "url": clean_text(url, 4_000), "checked_at": now}
        row.update(values)
        stmt = self._insert(src).values(**row)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["url_hash"],
                set_={k: v for k, v in row.items() if k != "url_hash"},
            )
        )

    def save_image(
        self, url: str, outlet: str, lead: ImageFile, thumb: ImageFile, now: datetime
    ) -> None:
        im = self.t["images"]
        with self._write() as conn:
            for f in (lead, thumb):
                conn.execute(
                    self._insert(im)
                    .values(
                        sha256=f.sha256,
                        data=f.data,
                        mime=f.mime,
                        width=f.width,
                        height=f.height,
                        source_url=clean_text(url, 4_000),
                        outlet=clean_text(outlet, 500),
                        fetched_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["sha256"])
                )
            self._remember(
                conn, url, now, image_sha256=lead.sha256, thumb_sha256=thumb.sha256, error=None
            )

    def save_image_failure(self, url: str, error: str, now: datetime) -> None:
        with self._write() as conn:
            self._remember(conn, url, now, image_sha256=None, thumb_sha256=None, error=error[:200])

    def set_story_image(
        self, story_id: int, image: StoryImage | None, checked_for: datetime | None, now: datetime
    ) -> None:
        st = self.t["stories"]
        values: dict[str, Any] = {
            "image_sha256": image.sha256 if image else None,
            "image_thumb": image.thumb_sha256 if image else None,
            "image_width": image.width if image else 0,
            "image_height": image.height if image else 0,
            "image_credit": clean_text(image.credit, 500) if image else "",
            "image_source": clean_text(image.source_url, 4_000) if image else "",
        }
        with self._write() as conn:
            cur = conn.execute(
                sa.select(st.c.image_sha256, st.c.updated_at).where(st.c.id == story_id)
            ).first()
            if cur is None:
                return
            changed = cur.image_sha256 != values["image_sha256"]
            unchanged_since = checked_for is None or _utc(cur.updated_at) <= checked_for
            if unchanged_since:
                values["image_checked_at"] = now
                if changed:
                    values["updated_at"] = now  # caches and ETags see the new image
            conn.execute(st.update().where(st.c.id == story_id).values(**values))

    def get_image(self, sha256: str) -> ImageFile | None:
        im = self.t["images"]
        with self._read() as conn:
            r = conn.execute(
                sa.select(im.c.sha256, im.c.data, im.c.mime, im.c.width, im.c.height).where(
                    im.c.sha256 == sha256
                )
            ).first()
        if r is None:
            return None
        return ImageFile(r.sha256, bytes(r.data), r.mime, int(r.width), int(r.height))

    def prune_images(self) -> int:
        """Delete the images no story names, and what their URLs gave; return how many."""
        im, src, st = self.t["images"], self.t["image_sources"], self.t["stories"]
        used = sa.union(
            sa.select(st.c.image_sha256.label("sha")).where(st.c.image_sha256.is_not(None)),
            sa.select(st.c.image_thumb.label("sha")).where(st.c.image_thumb.is_not(None)),
        ).subquery()
        with self._write() as conn:
            n = conn.execute(im.delete().where(im.c.sha256.not_in(sa.select(used.c.sha))))
            conn.execute(
                src.delete().where(
                    src.c.image_sha256.is_not(None),
                    src.c.image_sha256.not_in(sa.select(im.c.sha256)),
                )
            )
            return int(n.rowcount or 0)
