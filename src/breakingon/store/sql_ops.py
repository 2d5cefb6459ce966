"""`SQLStore` operations: trends, places, stats and backlog, runs, meta, pruning,
and WebSub subscriptions with their pushed items."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from breakingon.records import Article, Place
from breakingon.store.base import BACKLOG_KINDS, ArticleState, Run, Trend, WebSubSubscription
from breakingon.store.codec import clean_text, dumps, loads_tuple, to_utc
from breakingon.store.sql_base import _now, _SQLBase, _utc, listed_story


class _OpsMixin(_SQLBase):
    """Trends, places, stats, runs, meta, prune and WebSub."""

    def save_trends(self, trends: Sequence[Trend]) -> None:
        t = self.t["trends"]
        with self._write() as conn:
            conn.execute(t.delete())
            for tr in trends:
                conn.execute(
                    t.insert().values(
                        term=clean_text(tr.term, 200),
                        score=tr.score,
                        story_ids=dumps(list(tr.story_ids)),
                        computed_at=tr.computed_at,
                        language=clean_text(tr.language, 8),
                    )
                )

    def get_trends(self, limit: int = 20) -> list[Trend]:
        t = self.t["trends"]
        with self._read() as conn:
            rows = conn.execute(sa.select(t).order_by(t.c.score.desc(), t.c.id).limit(limit))
            return [
                Trend(
                    term=r.term,
                    score=r.score,
                    story_ids=loads_tuple(r.story_ids),
                    computed_at=_utc(r.computed_at),
                    language=r.language,
                )
                for r in rows
            ]

    def story_languages(self, limit: int = 50, recent: int = 2000) -> list[tuple[str, int]]:
        """Languages the `recent` most recently reported listed stories are reported in
        (any member: the codes in `stories.languages`), with story counts, most first
        (ties by code). One query over the JSON lists: SQLite's `json_each`,
        PostgreSQL's `json_array_elements_text`."""
        st = self.t["stories"]
        live = (
            sa.select(st.c.languages)
            .where(listed_story(st))
            .order_by(st.c.last_reported.desc())
            .limit(max(0, recent))
            .subquery()
        )
        each: sa.FromClause
        if self.dialect == "sqlite":
            each = sa.func.json_each(live.c.languages).table_valued("value")
        else:
            codes = sa.cast(live.c.languages, sa.JSON)
            each = sa.func.json_array_elements_text(codes).table_valued("value").lateral()
        n = sa.func.count().label("n")
        stmt = (
            sa.select(each.c.value, n)
            .select_from(live.join(each, sa.true()))
            .group_by(each.c.value)
            .order_by(n.desc(), each.c.value)
            .limit(max(0, limit))
        )
        with self._read() as conn:
            return [(str(code), int(count)) for code, count in conn.execute(stmt) if code]

    def top_places(self, limit: int = 20, recent: int = 2000) -> list[tuple[Place, int]]:
        """Places that the `recent` most recently reported listed stories are
        about, with their story counts, most stories first (ties by name). Read-only;
        `lat`/`lon` are 0 (not stored here). The bound keeps it fast on a large archive."""
        sp, st = self.t["story_places"], self.t["stories"]
        live = (
            sa.select(st.c.id)
            .where(listed_story(st))
            .order_by(st.c.last_reported.desc())
            .limit(max(0, recent))
        )
        n = sa.func.count(sa.distinct(sp.c.story_id)).label("n")
        stmt = (
            sa.select(
                sp.c.geonameid,
                sa.func.max(sp.c.name),
                sa.func.max(sp.c.country),
                sa.func.max(sp.c.kind),
                n,
            )
            .where(sp.c.story_id.in_(live.scalar_subquery()))
            .group_by(sp.c.geonameid)
            .order_by(n.desc(), sa.func.max(sp.c.name), sp.c.geonameid)
            .limit(max(0, limit))
        )
        with self._read() as conn:
            return [
                (Place(int(gid), str(name), str(cc or ""), kind, 0.0, 0.0), int(count))
                for gid, name, cc, kind, count in conn.execute(stmt)
            ]

    def stats(self) -> dict[str, int]:
        t = self.t
        with self._read() as conn:

            def count(stmt: Any) -> int:
                return int(conn.execute(stmt).scalar_one())

            st = t["stories"]
            return {
                "sources": count(sa.select(sa.func.count()).select_from(t["sources"])),
                "feeds": count(sa.select(sa.func.count()).select_from(t["feeds"])),
                "articles": count(sa.select(sa.func.count()).select_from(t["articles"])),
                "stories": count(
                    sa.select(sa.func.count()).select_from(st).where(listed_story(st))
                ),
            }

    def backlog(self) -> dict[str, int]:
        a, st, f = self.t["articles"], self.t["stories"], self.t["feeds"]
        now = _now()
        with self._read() as conn:
            out = dict.fromkeys(BACKLOG_KINDS, 0)  # an emptied state reads 0, not absent
            by_state = sa.select(a.c.state, sa.func.count()).group_by(a.c.state)
            for state, n in conn.execute(by_state):
                out[f"articles_{state}"] = int(n)
            out["stories_dirty"] = int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(st).where(st.c.dirty >= 1)
                ).scalar_one()
            )
            out["feeds_due"] = int(
                conn.execute(
                    sa.select(sa.func.count())
                    .select_from(f)
                    .where(
                        f.c.status == "active",
                        sa.or_(f.c.next_check_at.is_(None), f.c.next_check_at <= now),
                    )
                ).scalar_one()
            )
            out["feeds_failing"] = int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(f).where(f.c.error_count > 0)
                ).scalar_one()
            )
        return out

    def feed_fetch_times(self) -> tuple[int, datetime | None, datetime | None]:
        f = self.t["feeds"]
        stmt = sa.select(
            sa.func.count(), sa.func.max(f.c.last_checked_at), sa.func.max(f.c.last_success_at)
        ).select_from(f)
        with self._read() as conn:
            n, checked, success = conn.execute(stmt).one()
        return int(n), to_utc(checked), to_utc(success)

    def last_change(self) -> datetime | None:
        st = self.t["stories"]
        with self._read() as conn:
            v = conn.execute(sa.select(sa.func.max(st.c.updated_at))).scalar_one()
        return to_utc(v)

    # -- operations --------------------------------------------------------------------
    def start_run(self, kind: str, worker: str, now: datetime) -> int:
        r = self.t["runs"]
        with self._write() as conn:
            pk = conn.execute(
                r.insert().values(kind=kind, worker=worker, started_at=now)
            ).inserted_primary_key
            assert pk is not None
            return int(pk[0])

    def finish_run(
        self, run_id: int, now: datetime, stats: dict[str, Any], error: str | None = None
    ) -> None:
        r = self.t["runs"]
        with self._write() as conn:
            conn.execute(
                r.update()
                .where(r.c.id == run_id)
                .values(finished_at=now, stats=dumps(stats), error=error)
            )

    def update_run(self, run_id: int, stats: dict[str, Any]) -> None:
        r = self.t["runs"]
        with self._write() as conn:
            conn.execute(r.update().where(r.c.id == run_id).values(stats=dumps(stats)))

    def recent_runs(self, limit: int = 20) -> list[Run]:
        r = self.t["runs"]
        with self._read() as conn:
            rows = conn.execute(sa.select(r).order_by(r.c.id.desc()).limit(limit))
            return [
                Run(
                    id=x.id,
                    kind=x.kind,
                    worker=x.worker,
                    started_at=_utc(x.started_at),
                    finished_at=to_utc(x.finished_at),
                    stats=json.loads(x.stats or "{}"),
                    error=x.error,
                )
                for x in rows
            ]

    def get_meta(self, key: str) -> str | None:
        m = self.t["meta"]
        with self._read() as conn:
            r = conn.execute(sa.select(m.c.value).where(m.c.key == key)).first()
        return str(r.value) if r is not None else None

    def set_meta(self, key: str, value: str) -> None:
        m = self.t["meta"]
        with self._write() as conn:
            if conn.execute(sa.select(m.c.key).where(m.c.key == key)).first() is None:
                conn.execute(m.insert().values(key=key, value=value))
            else:
                conn.execute(m.update().where(m.c.key == key).values(value=value))

    def prune(self, cutoff: datetime, batch: int = 500) -> int:
        a, st = self.t["articles"], self.t["stories"]
        live = sa.select(st.c.id).where(st.c.merged_into.is_(None), st.c.last_reported >= cutoff)
        total = 0
        while True:
            with self._write() as conn:  # short transactions: the write lock is held briefly
                ids = [
                    int(r.id)
                    for r in conn.execute(
                        sa.select(a.c.id)
                        .where(
                            a.c.published < cutoff,
                            sa.or_(a.c.story_id.is_(None), a.c.story_id.not_in(live)),
                        )
                        .limit(batch)
                    )
                ]
                if not ids:
                    break
                conn.execute(a.delete().where(a.c.id.in_(ids)))
                total += len(ids)
        with self._write() as conn:
            conn.execute(
                st.delete().where(
                    st.c.last_reported < cutoff,
                    ~sa.exists().where(a.c.story_id == st.c.id),
                )
            )
        self.prune_images()
        return total

    # -- websub ------------------------------------------------------------------------
    # WebSub subscriptions (breakingon.pipeline.websub) and pushed items. Owned by the WebSub
    # subscriber; see `Store` for the contract.
    def _websub(self, r: Any) -> WebSubSubscription:
        return WebSubSubscription(
            id=int(r.id),
            feed_id=int(r.feed_id),
            hub=r.hub,
            topic=r.topic,
            token=r.token,
            secret=r.secret,
            state=r.state,
            created_at=_utc(r.created_at),
            updated_at=_utc(r.updated_at),
            lease_until=to_utc(r.lease_until),
            renew_at=to_utc(r.renew_at),
            last_error=r.last_error,
            version=int(r.version),
        )

    def add_websub_subscription(
        self, feed_id: int, hub: str, topic: str, token: str, secret: str, now: datetime
    ) -> WebSubSubscription:
        w = self.t["websub"]
        with self._write() as conn:
            res = conn.execute(
                w.insert().values(
                    feed_id=feed_id,
                    hub=hub,
                    topic=topic,
                    token=token,
                    secret=secret,
                    state="pending",
                    renew_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
            pk = res.inserted_primary_key
            assert pk is not None
            row = conn.execute(sa.select(w).where(w.c.id == int(pk[0]))).one()
        return self._websub(row)

    def get_websub_subscription(self, token: str) -> WebSubSubscription | None:
        w = self.t["websub"]
        with self._read() as conn:
            row = conn.execute(sa.select(w).where(w.c.token == token)).first()
        return self._websub(row) if row is not None else None

    def websub_subscriptions_for_feed(self, feed_id: int) -> list[WebSubSubscription]:
        w = self.t["websub"]
        with self._read() as conn:
            rows = conn.execute(sa.select(w).where(w.c.feed_id == feed_id).order_by(w.c.id))
            return [self._websub(r) for r in rows]

    def save_websub_subscription(self, sub: WebSubSubscription) -> WebSubSubscription | None:
        w = self.t["websub"]
        with self._write() as conn:
            res = conn.execute(
                w.update()
                .where(w.c.id == sub.id, w.c.version == sub.version)
                .values(
                    state=sub.state,
                    lease_until=sub.lease_until,
                    renew_at=sub.renew_at,
                    last_error=clean_text(sub.last_error, 500) if sub.last_error else None,
                    updated_at=sub.updated_at,
                    version=w.c.version + 1,
                )
            )
            if res.rowcount != 1:
                return None
            row = conn.execute(sa.select(w).where(w.c.id == sub.id)).one()
        return self._websub(row)

    def remove_websub_subscription(self, sub_id: int) -> None:
        w = self.t["websub"]
        with self._write() as conn:
            conn.execute(w.delete().where(w.c.id == sub_id))

    def websub_subscriptions_due(self, now: datetime, limit: int) -> list[WebSubSubscription]:
        w = self.t["websub"]
        q = (
            sa.select(w)
            .where(w.c.renew_at.is_not(None), w.c.renew_at <= now)
            .order_by(w.c.renew_at, w.c.id)
            .limit(limit)
        )
        with self._read() as conn:
            return [self._websub(r) for r in conn.execute(q)]

    def save_pushed_articles(
        self, feed_id: int, articles: Sequence[Article], state: ArticleState
    ) -> list[int]:
        f = self.t["feeds"]
        new_ids: list[int] = []
        now = _now()
        with self._write() as conn:
            feed = conn.execute(sa.select(f.c.source_id).where(f.c.id == feed_id)).first()
            if feed is None:
                return []
            new_ids.extend(self._insert_new(conn, feed_id, feed.source_id, articles, state, now))
        return new_ids

    # -- end websub --------------------------------------------------------------------
