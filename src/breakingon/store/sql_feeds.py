"""`SQLStore` outlets and feeds: adding and listing them, claiming due feeds, and
saving a feed check with the items it found."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from breakingon.records import Article, Feed, FeedStatus, Outlet
from breakingon.store.base import ArticleState, FeedUpdate
from breakingon.store.codec import dumps, loads_tuple, to_utc
from breakingon.store.sql_base import _now, _SQLBase


class _FeedsMixin(_SQLBase):
    """Outlets, feeds and feed checks."""

    # -- sources and feeds -------------------------------------------------------------
    def upsert_outlet(self, outlet: Outlet) -> int:
        with self._write() as conn:
            return self._upsert_outlet(conn, outlet)

    def _feed(self, r: Any) -> Feed:
        return Feed(
            id=r.id,
            source_id=r.source_id,
            url=r.url,
            outlet=r.outlet,
            country=r.country,
            language=r.language,
            sections=loads_tuple(r.sections),
            place=r.place,
            status=r.status,
            etag=r.etag,
            last_modified=r.last_modified,
            body_hash=r.body_hash,
            next_check_at=to_utc(r.next_check_at),
            last_checked_at=to_utc(r.last_checked_at),
            last_success_at=to_utc(r.last_success_at),
            interval_s=r.interval_s,
            error_count=r.error_count,
            last_error=r.last_error,
        )

    def _feed_select(self) -> sa.Select[Any]:
        f, s = self.t["feeds"], self.t["sources"]
        return sa.select(f, s.c.name.label("outlet")).join(s, s.c.id == f.c.source_id)

    def _add_feed(
        self, conn: Connection, feed: Feed, url_key: str, outlet: Outlet | None
    ) -> tuple[Feed, bool]:
        f = self.t["feeds"]
        existing = conn.execute(self._feed_select().where(f.c.url_key == url_key)).first()
        if existing is not None:
            return self._feed(existing), False
        source_id = self._upsert_outlet(
            conn,
            outlet
            or Outlet(
                name=feed.outlet, country=feed.country, language=feed.language, place=feed.place
            ),
        )
        res = conn.execute(
            f.insert().values(
                source_id=source_id,
                url=feed.url,
                url_key=url_key,
                sections=dumps(list(feed.sections)),
                place=feed.place,
                country=feed.country,
                language=feed.language,
                status=feed.status,
                next_check_at=feed.next_check_at,
                interval_s=feed.interval_s,
                created_at=_now(),
            )
        )
        pk = res.inserted_primary_key
        assert pk is not None
        row = conn.execute(self._feed_select().where(f.c.id == pk[0])).one()
        return self._feed(row), True

    def add_feed(self, feed: Feed, url_key: str) -> tuple[Feed, bool]:
        with self._write() as conn:
            return self._add_feed(conn, feed, url_key, None)

    def add_feeds(self, entries: Sequence[tuple[Feed, str, Outlet | None]]) -> int:
        created = 0
        with self._write() as conn:
            for feed, key, outlet in entries:
                created += self._add_feed(conn, feed, key, outlet)[1]
        return created

    def remove_feed(self, url_key: str) -> bool:
        f = self.t["feeds"]
        with self._write() as conn:
            return bool(conn.execute(f.delete().where(f.c.url_key == url_key)).rowcount)

    def set_feed_status(self, feed_id: int, status: FeedStatus) -> None:
        f = self.t["feeds"]
        values: dict[str, Any] = {"status": status}
        if status == "active":  # a manual resume resets the failure counter
            values.update(error_count=0, next_check_at=_now())
        with self._write() as conn:
            conn.execute(f.update().where(f.c.id == feed_id).values(**values))

    def get_feed(self, feed_id: int) -> Feed | None:
        f = self.t["feeds"]
        with self._read() as conn:
            row = conn.execute(self._feed_select().where(f.c.id == feed_id)).first()
        return self._feed(row) if row is not None else None

    def list_feeds(
        self, status: FeedStatus | None = None, source_id: int | None = None
    ) -> list[Feed]:
        f = self.t["feeds"]
        q = self._feed_select().order_by(f.c.id)
        if status is not None:
            q = q.where(f.c.status == status)
        if source_id is not None:
            q = q.where(f.c.source_id == source_id)
        with self._read() as conn:
            return [self._feed(r) for r in conn.execute(q)]

    @staticmethod
    def _outlet(r: Any) -> Outlet:
        return Outlet(
            id=r.id,
            name=r.name,
            homepage=r.homepage,
            country=r.country,
            language=r.language,
            place=r.place,
            owner=r.owner,
            ownership=r.ownership,
            weight=r.weight,
        )

    def list_outlets(self) -> list[Outlet]:
        s = self.t["sources"]
        with self._read() as conn:
            return [self._outlet(r) for r in conn.execute(sa.select(s).order_by(s.c.name))]

    def get_outlet(self, source_id: int) -> Outlet | None:
        s = self.t["sources"]
        with self._read() as conn:
            r = conn.execute(sa.select(s).where(s.c.id == source_id)).first()
        return self._outlet(r) if r is not None else None

    def set_outlet_weight(self, source_id: int, weight: float) -> bool:
        s = self.t["sources"]
        with self._write() as conn:
            res = conn.execute(s.update().where(s.c.id == source_id).values(weight=weight))
            return bool(res.rowcount)

    # -- crawling ----------------------------------------------------------------------
    def claim_due_feeds(self, worker: str, now: datetime, limit: int, lease_s: int) -> list[Feed]:
        f = self.t["feeds"]
        until = now + timedelta(seconds=lease_s)
        with self._write() as conn:
            ids = self._claimable_ids(
                conn,
                f,
                [
                    f.c.status == "active",
                    sa.or_(f.c.next_check_at.is_(None), f.c.next_check_at <= now),
                ],
                [f.c.next_check_at.is_(None).desc(), f.c.next_check_at],
                limit,
                now,
            )
            if not ids:
                return []
            conn.execute(
                f.update().where(f.c.id.in_(ids)).values(lease_owner=worker, lease_until=until)
            )
            rows = conn.execute(self._feed_select().where(f.c.id.in_(ids)).order_by(f.c.id))
            return [self._feed(r) for r in rows]

    def save_feed_check(
        self, feed_id: int, update: FeedUpdate, articles: Sequence[Article], state: ArticleState
    ) -> list[int]:
        f = self.t["feeds"]
        new_ids: list[int] = []
        now = _now()
        with self._write() as conn:
            feed = conn.execute(sa.select(f.c.source_id).where(f.c.id == feed_id)).first()
            if feed is None:
                return []
            new_ids.extend(self._insert_new(conn, feed_id, feed.source_id, articles, state, now))
            values: dict[str, Any] = {
                "last_checked_at": update.checked_at,
                "next_check_at": update.next_check_at,
                "interval_s": update.interval_s,
                "error_count": update.error_count,
                "status": update.status,
                "last_error": update.last_error,
                "lease_owner": None,
                "lease_until": None,
                "fetch_count": f.c.fetch_count + 1,
            }
            if update.success:
                values["last_success_at"] = update.checked_at
            if update.etag is not None:
                values["etag"] = update.etag
            if update.last_modified is not None:
                values["last_modified"] = update.last_modified
            if update.body_hash is not None:
                values["body_hash"] = update.body_hash
            if update.redirect_to:
                cur = conn.execute(
                    sa.select(f.c.redirect_to, f.c.redirect_seen).where(f.c.id == feed_id)
                ).one()
                seen = cur.redirect_seen + 1 if cur.redirect_to == update.redirect_to else 1
                values.update(redirect_to=update.redirect_to, redirect_seen=seen)
            elif update.success:
                values.update(redirect_to=None, redirect_seen=0)
            conn.execute(f.update().where(f.c.id == feed_id).values(**values))
        return new_ids
