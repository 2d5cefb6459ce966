"""Shared state and primitives of `SQLStore` (`breakingon.store.sql`).

`_SQLBase` declares the engines, the dialect and the tables (`breakingon.store.schema`)
that `SQLStore` sets up, and holds the transaction primitives (`_write`, `_read`), work claiming
(`_claimable_ids`, `_skip_locked`) and the outlet and article helpers that several of
the concern mixins (`sql_feeds`, `sql_articles`, `sql_stories`, `sql_search`, `sql_ops`) call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from breakingon.records import UNTITLED, Article, Extraction, Outlet, StoryImage
from breakingon.store.base import ArticleState
from breakingon.store.codec import (
    clean_text,
    dumps,
    loads_tuple,
    place_to_dict,
    places_from_json,
    to_utc,
)
from breakingon.store.owners import dead_owners, host_prefix

TEXT_CAP = 200_000
TITLE_CAP = 1_000


def listed_story(st: sa.Table) -> sa.ColumnElement[bool]:
    """The stories the lists show and every count counts (/status, stats, /metrics, the
    API's totals): not merged away, with articles, at least one outlet's news report (a
    story of consent walls or players has no coverage and is kept out of the lists) and
    a headline (`UNTITLED`: no member title or lead sentence could head it)."""
    return sa.and_(
        st.c.merged_into.is_(None),
        st.c.article_count > 0,
        st.c.outlet_count >= 1,
        st.c.headline != UNTITLED,
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(dt: datetime | None) -> datetime:
    out = to_utc(dt)
    assert out is not None
    return out


def extraction_text(e: Extraction | None) -> str:
    """The stored form of an extraction: "" (not extracted yet), "ok", "ok:<note>" or
    "feed_fallback:<reason>" (the text rows have always held)."""
    if e is None:
        return ""
    return f"{e.status}:{e.reason}" if e.reason else e.status


def extraction_from_text(text: str) -> Extraction | None:
    """The inverse of `extraction_text`; text of no known status reads as a fallback
    with that text as its reason."""
    if not text:
        return None
    status, _, reason = text.partition(":")
    if status == "ok":
        return Extraction("ok", reason)
    if status == "feed_fallback":
        return Extraction("feed_fallback", reason)
    return Extraction("feed_fallback", text)


def story_image(r: Any) -> StoryImage | None:
    """The lead image of a `stories` row, or None."""
    if not r.image_sha256 or not r.image_thumb:
        return None
    return StoryImage(
        sha256=r.image_sha256,
        thumb_sha256=r.image_thumb,
        width=int(r.image_width),
        height=int(r.image_height),
        credit=r.image_credit,
        source_url=r.image_source,
    )


def _signed64(v: int) -> int:
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >= 1 << 63 else v


class _SQLBase:
    """What every part of `SQLStore` shares: set up by `SQLStore.__init__`."""

    url: str
    dialect: str
    t: Mapping[str, sa.Table]  # by name, from breakingon.store.schema
    _w: Engine
    _r: Engine
    _wlock: threading.RLock

    def prune_images(self) -> int:  # defined by the images mixin (sql_images)
        raise NotImplementedError

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._wlock, self._w.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._r.connect() as conn:
            yield conn

    def _claimable_ids(
        self,
        conn: Connection,
        table: sa.Table,
        conditions: Sequence[Any],
        order_by: Sequence[Any],
        limit: int,
        now: datetime,
    ) -> list[int]:
        """Ids of rows matching `conditions` that no live lease holds, locked against
        other claimers (SKIP LOCKED on PostgreSQL; the write lock on SQLite). The caller
        leases them in the same transaction. A lease whose owner is a process of this
        machine that is gone (`owners.dead_owners`: killed, crashed) is free at once."""
        free = [table.c.lease_until.is_(None), table.c.lease_until < now]
        dead = self._dead_holders(conn, table, conditions, now)
        if dead:
            free.append(table.c.lease_owner.in_(dead))
        stmt = (
            sa.select(table.c.id).where(*conditions, sa.or_(*free)).order_by(*order_by).limit(limit)
        )
        return [int(r.id) for r in conn.execute(self._skip_locked(stmt))]

    def _dead_holders(
        self, conn: Connection, table: sa.Table, conditions: Sequence[Any], now: datetime
    ) -> list[str]:
        """The owners of live leases on rows matching `conditions` whose process is gone
        (only this machine's owners are looked at; see `breakingon.store.owners`)."""
        held = conn.execute(
            sa.select(table.c.lease_owner)
            .where(
                *conditions,
                table.c.lease_until >= now,
                table.c.lease_owner.startswith(host_prefix(), autoescape=True),
            )
            .distinct()
            .limit(1_000)
        )
        return dead_owners(r.lease_owner for r in held)

    def _skip_locked(self, stmt: sa.Select[Any]) -> sa.Select[Any]:
        if self.dialect == "postgresql":
            return stmt.with_for_update(skip_locked=True)
        return stmt

    # -- helpers shared by the concerns ------------------------------------------------
    def _upsert_outlet(self, conn: Connection, o: Outlet) -> int:
        s = self.t["sources"]
        row = conn.execute(sa.select(s.c.id).where(s.c.name == o.name)).first()
        values = {
            "homepage": o.homepage,
            "country": o.country,
            "language": o.language,
            "place": o.place,
            "owner": o.owner,
            "ownership": o.ownership,
            "weight": o.weight,
        }
        if row is not None:
            # Only fill in what we learned; never blank out operator data.
            upd = {k: v for k, v in values.items() if v not in ("", None) and k != "weight"}
            if upd:
                conn.execute(s.update().where(s.c.id == row.id).values(**upd))
            return int(row.id)
        res = conn.execute(s.insert().values(name=o.name, created_at=_now(), **values))
        pk = res.inserted_primary_key
        assert pk is not None
        return int(pk[0])

    def _article_values(self, a: Article) -> dict[str, Any]:
        return {
            "url": clean_text(a.url, 4_000),
            "title": clean_text(a.title, TITLE_CAP),
            "text": clean_text(a.text, TEXT_CAP),
            "summary": clean_text(a.summary, 20_000),
            "authors": dumps([clean_text(x, 200) for x in a.authors[:20]]),
            "language": a.language[:16],
            "image": clean_text(a.image, 4_000),
            "content_hash": a.content_hash,
            "simhash": _signed64(a.simhash),
            "duplicate_of": a.duplicate_of,
            "extraction": extraction_text(a.extraction)[:200],
            "sections": dumps(list(a.sections)),
            "places": dumps([place_to_dict(p) for p in a.places]),
            "page_kind": a.page_kind[:200],
        }

    def _insert_new(
        self,
        conn: Connection,
        feed_id: int | None,
        source_id: int,
        articles: Sequence[Article],
        state: ArticleState,
        now: datetime,
    ) -> list[int]:
        """Insert the articles not stored yet for this feed (or, with no feed, for this
        source) by item key; return the new ids. Runs inside the caller's transaction."""
        a = self.t["articles"]
        same_feed = a.c.feed_id.is_(None) if feed_id is None else a.c.feed_id == feed_id
        new_ids: list[int] = []
        keys = [clean_text(art.item_key, 1_000) for art in articles]
        stored: set[str] = set()
        distinct = sorted(set(keys))
        for i in range(0, len(distinct), 500):
            where = [same_feed, a.c.item_key.in_(distinct[i : i + 500])]
            if feed_id is None:
                where.append(a.c.source_id == source_id)
            stored.update(r.item_key for r in conn.execute(sa.select(a.c.item_key).where(*where)))
        rows: list[dict[str, Any]] = []
        for art, key in zip(articles, keys, strict=True):
            if key in stored:
                continue
            stored.add(key)  # a repeated key later in this batch is the same item
            rows.append(
                {
                    "feed_id": feed_id,
                    "source_id": source_id,
                    "item_key": key,
                    "alias_key": clean_text(art.alias_key, 1_000),
                    "published": _utc(art.published),
                    "first_seen": _utc(art.first_seen or now),
                    "state": state,
                    "updated_at": now,
                    **self._article_values(art),
                }
            )
        if rows:
            # One statement for the batch; ids come back in the order of the rows.
            stmt = a.insert().returning(a.c.id, sort_by_parameter_order=True)
            new_ids.extend(int(r.id) for r in conn.execute(stmt, rows))
        return new_ids

    def _article(self, r: Any) -> Article:
        return Article(
            id=r.id,
            feed_id=r.feed_id,
            source_id=r.source_id,
            outlet=getattr(r, "outlet", "") or "",
            country=getattr(r, "country", "") or "",
            place=getattr(r, "place", "") or "",
            url=r.url,
            title=r.title,
            text=r.text,
            summary=r.summary,
            authors=loads_tuple(r.authors),
            published=_utc(r.published),
            first_seen=to_utc(r.first_seen),
            language=r.language,
            image=r.image,
            item_key=r.item_key,
            alias_key=r.alias_key,
            content_hash=r.content_hash,
            simhash=r.simhash & 0xFFFFFFFFFFFFFFFF,
            duplicate_of=r.duplicate_of,
            extraction=extraction_from_text(r.extraction),
            sections=loads_tuple(r.sections),
            places=places_from_json(r.places),
            page_kind=r.page_kind,
            story_id=r.story_id,
        )

    def _article_select(self) -> sa.Select[Any]:
        a, s, f = self.t["articles"], self.t["sources"], self.t["feeds"]
        place = sa.func.coalesce(sa.func.nullif(f.c.place, ""), s.c.place, "")
        return (
            sa.select(
                a, s.c.name.label("outlet"), s.c.country.label("country"), place.label("place")
            )
            .outerjoin(s, s.c.id == a.c.source_id)
            .outerjoin(f, f.c.id == a.c.feed_id)
        )
