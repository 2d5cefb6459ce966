"""`SQLStore` reader streams: the stories of the streams a user follows, with the user's
read / starred states, unread counts and marking streams read, in SQL (one statement
per page, whatever the number of follows). See `store.base_accounts.ReaderStore`.

A follow becomes a condition on `stories` (`_stream`): top (the `TOP_STREAM` highest
scored listed stories), breaking (flagged within `BREAKING_STREAM`), a section, a place
(its geonameid, or every place of the country when it is a country), an outlet (a
member article from it), a search (every term: FTS5 on SQLite, the `tsv` column on
PostgreSQL, as `sql_search`) and a story (or the story it was merged into). A value
that cannot name anything (a place "abc") matches nothing. Only listed stories
(`sql_base.listed_story`) are items. Every statement is scoped by the user's id.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from breakingon.records import Follow, ItemState
from breakingon.store.base import search_terms
from breakingon.store.base_accounts import (
    BREAKING_STREAM,
    TOP_STREAM,
    ItemQuery,
    ItemSource,
    ReaderItem,
    UnreadCounts,
)
from breakingon.store.codec import brief_from_dict, to_utc
from breakingon.store.sql_base import listed_story
from breakingon.store.sql_search import fts_query
from breakingon.store.sql_stories import _StoriesMixin

SOURCES_PER_ITEM = 50  # member reports loaded for an item's content


def _int(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) < 12 else None


class _ReaderMixin(_StoriesMixin):
    """Reader items, unread counts, mark-as-read."""

    def _stream(self, f: Follow, now: datetime, n: str) -> sa.ColumnElement[bool]:
        """The condition a story of follow `f` meets (`n` makes bind names unique)."""
        st = self.t["stories"]
        kind, value = f.kind, f.value
        if kind == "top":
            top = st.alias(f"top_{n}")
            best = (
                sa.select(top.c.id)
                .where(listed_story(top))  # type: ignore[arg-type]
                .order_by(top.c.score.desc(), top.c.id.desc())
                .limit(TOP_STREAM)
            )
            return st.c.id.in_(best)
        if kind == "breaking":
            return st.c.breaking_until > now - BREAKING_STREAM
        if kind == "section":
            ss = self.t["story_sections"]
            return st.c.id.in_(sa.select(ss.c.story_id).where(ss.c.section == value))
        if kind == "search":
            return self._search_condition(value, n)
        number = _int(value)
        if number is None:
            return sa.false()
        if kind == "place":
            sp, sc = (
                self.t["story_places"].alias(f"sp_{n}"),
                self.t["story_places"].alias(f"sc_{n}"),
            )
            country = (
                sa.select(sc.c.country)
                .where(sc.c.geonameid == number, sc.c.kind == "country", sc.c.country != "")
                .limit(1)
                .scalar_subquery()
            )
            return st.c.id.in_(
                sa.select(sp.c.story_id).where(
                    sa.or_(sp.c.geonameid == number, sp.c.country == country)
                )
            )
        if kind == "outlet":
            a = self.t["articles"]
            return st.c.id.in_(
                sa.select(a.c.story_id).where(a.c.source_id == number, a.c.story_id.is_not(None))
            )
        if kind == "story":
            old = st.alias(f"merged_{n}")
            return sa.or_(
                st.c.id == number,
                st.c.id.in_(sa.select(old.c.merged_into).where(old.c.id == number)),
            )
        return sa.false()

    def _search_condition(self, query: str, n: str) -> sa.ColumnElement[bool]:
        terms = search_terms(query)
        if not terms:
            return sa.false()
        name = f"q_{n}"
        if self.dialect == "sqlite":
            expr = fts_query(terms, "{headline dek}")
            sql = f"stories.id IN (SELECT rowid FROM stories_fts WHERE stories_fts MATCH :{name})"
            return sa.text(sql).bindparams(sa.bindparam(name, expr)).self_group()  # type: ignore[return-value]
        sql = f"stories.tsv @@ to_tsquery('simple', :{name})"
        return sa.text(sql).bindparams(sa.bindparam(name, " & ".join(terms))).self_group()  # type: ignore[return-value]

    def _conditions(
        self, follows: Sequence[Follow], now: datetime, tag: str = "w"
    ) -> list[sa.ColumnElement[bool]]:
        return [self._stream(f, now, f"{tag}{i}") for i, f in enumerate(follows)]

    def _items_select(
        self,
        q: ItemQuery,
        columns: Sequence[Any],
        conds: Sequence[sa.ColumnElement[bool]] | None = None,
    ) -> sa.Select[Any] | None:
        """The page's statement, or None when it can hold nothing (`conds`: the
        follows' conditions when the caller made them already)."""
        st, s = self.t["stories"], self.t["user_item_state"]
        where: list[Any] = [listed_story(st)]
        if q.follows is not None:
            if not q.follows:
                return None
            where.append(sa.or_(*(conds or self._conditions(q.follows, q.now))))
        if q.story_ids is not None:
            if not q.story_ids:
                return None
            where.append(st.c.id.in_(sorted(set(q.story_ids))))
        if q.read is not None:
            where.append(s.c.read_at.is_not(None) if q.read else s.c.read_at.is_(None))
        if q.starred is not None:
            where.append(s.c.starred_at.is_not(None) if q.starred else s.c.starred_at.is_(None))
        if q.newer_than is not None:
            where.append(st.c.first_reported >= q.newer_than)
        if q.older_than is not None:
            where.append(st.c.first_reported < q.older_than)
        fr, sid = st.c.first_reported, st.c.id
        if q.after is not None:
            t, i = q.after
            if q.order in ("newest", "oldest") and t is not None:
                later = q.order == "oldest"
                where.append(
                    sa.or_(fr > t, sa.and_(fr == t, sid > i))
                    if later
                    else sa.or_(fr < t, sa.and_(fr == t, sid < i))
                )
            else:
                where.append(sid > i if q.order in ("oldest", "id_asc") else sid < i)
        order = {
            "newest": (fr.desc(), sid.desc()),
            "oldest": (fr.asc(), sid.asc()),
            "id_asc": (sid.asc(),),
            "id_desc": (sid.desc(),),
        }[q.order]
        joined = st.outerjoin(s, sa.and_(s.c.story_id == st.c.id, s.c.user_id == q.user_id))
        return (
            sa.select(*columns)
            .select_from(joined)
            .where(*where)
            .order_by(*order)
            .limit(max(0, q.limit))
        )

    def reader_items(self, query: ItemQuery, content: bool = False) -> list[ReaderItem]:
        st, s = self.t["stories"], self.t["user_item_state"]
        origins = query.origins if query.origins is not None else query.follows or ()
        conds = self._conditions(origins, query.now, "o")
        cols: list[Any] = [
            *self._story_cols(),
            s.c.read_at.label("u_read"),
            s.c.starred_at.label("u_star"),
        ]
        if origins:
            pairs = [(c, f.id) for c, f in zip(conds, origins, strict=True)]
            cols.append(sa.case(*pairs).label("u_origin"))
        if content:
            cols.append(st.c.brief.label("u_brief"))
        same = query.origins is None or query.origins == query.follows
        stmt = self._items_select(query, cols, conds if same else None)
        if stmt is None:
            return []
        with self._read() as conn:
            rows = list(conn.execute(stmt))
            sources = self._sources(conn, [int(r.id) for r in rows]) if content and rows else {}
        out = []
        for r in rows:
            brief = None
            if content and r.u_brief:
                brief = brief_from_dict(json.loads(r.u_brief))
            out.append(
                ReaderItem(
                    story=self._story(r),
                    state=ItemState(int(r.id), to_utc(r.u_read), to_utc(r.u_star)),
                    origin=int(r.u_origin) if origins and r.u_origin is not None else None,
                    brief=brief,
                    sources=sources.get(int(r.id), ()),
                )
            )
        return out

    def _sources(self, conn: Any, ids: list[int]) -> dict[int, tuple[ItemSource, ...]]:
        """Per story: its original member reports (id, outlet, title, URL), first
        reported first, at most `SOURCES_PER_ITEM`."""
        a, src = self.t["articles"], self.t["sources"]
        stmt = (
            sa.select(a.c.id, a.c.story_id, a.c.title, a.c.url, src.c.name)
            .select_from(a.outerjoin(src, src.c.id == a.c.source_id))
            .where(a.c.story_id.in_(ids), a.c.duplicate_of.is_(None), a.c.url != "")
            .order_by(a.c.story_id, a.c.published, a.c.id)
        )
        found: dict[int, list[ItemSource]] = {}
        for r in conn.execute(stmt):
            have = found.setdefault(int(r.story_id), [])
            if len(have) < SOURCES_PER_ITEM:
                have.append(ItemSource(int(r.id), r.name or "", r.title, r.url))
        return {sid: tuple(v) for sid, v in found.items()}

    def reader_item_ids(self, query: ItemQuery) -> list[tuple[int, datetime]]:
        st = self.t["stories"]
        stmt = self._items_select(query, [st.c.id, st.c.first_reported])
        if stmt is None:
            return []
        with self._read() as conn:
            out = []
            for r in conn.execute(stmt):
                when = to_utc(r.first_reported)
                assert when is not None
                out.append((int(r.id), when))
            return out

    def count_reader_items(self, query: ItemQuery) -> int:
        st = self.t["stories"]
        stmt = self._items_select(replace(query, after=None, limit=10**9), [st.c.id])
        if stmt is None:
            return 0
        with self._read() as conn:
            return int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())
                ).scalar_one()
            )

    def unread_counts(self, user_id: int, follows: Sequence[Follow], now: datetime) -> UnreadCounts:
        if not follows:
            return UnreadCounts()
        st, s = self.t["stories"], self.t["user_item_state"]
        joined = st.outerjoin(s, sa.and_(s.c.story_id == st.c.id, s.c.user_id == user_id))
        parts = [
            sa.select(
                sa.literal(f.id, sa.Integer).label("fid"),
                sa.cast(sa.literal(f.kind), sa.Text).label("kind"),
                st.c.id.label("sid"),
                st.c.first_reported.label("fr"),
            )
            .select_from(joined)
            .where(listed_story(st), s.c.read_at.is_(None), cond)
            for f, cond in zip(follows, self._conditions(follows, now), strict=True)
        ]
        u = sa.union_all(*parts).subquery("unread")
        newest = sa.func.max(u.c.fr)
        with self._read() as conn:
            per_follow = {
                int(r.fid): (int(r.n), to_utc(r.newest))
                for r in conn.execute(
                    sa.select(u.c.fid, sa.func.count().label("n"), newest.label("newest")).group_by(
                        u.c.fid
                    )
                )
            }
            kinds = {
                str(r.kind): (int(r.n), to_utc(r.newest))
                for r in conn.execute(
                    sa.select(
                        u.c.kind,
                        sa.func.count(sa.distinct(u.c.sid)).label("n"),
                        newest.label("newest"),
                    ).group_by(u.c.kind)
                )
            }
            total = conn.execute(
                sa.select(sa.func.count(sa.distinct(u.c.sid)).label("n"), newest.label("newest"))
            ).one()
        return UnreadCounts(per_follow, kinds, (int(total.n), to_utc(total.newest)))

    def mark_read(
        self, user_id: int, follows: Sequence[Follow], before: datetime | None, now: datetime
    ) -> int:
        if not follows:
            return 0
        st, s = self.t["stories"], self.t["user_item_state"]
        where: list[Any] = [listed_story(st), sa.or_(*self._conditions(follows, now))]
        if before is not None:
            where.append(st.c.first_reported < before)
        # The stories of the streams the user has not read yet (no row, or no read_at).
        done = sa.select(s.c.story_id).where(s.c.user_id == user_id, s.c.read_at.is_not(None))
        where.append(st.c.id.not_in(done))
        pick = sa.select(
            sa.literal(user_id, sa.Integer), st.c.id, sa.literal(now, s.c.read_at.type)
        ).where(*where)
        stmt = (
            self._reader_upsert(s)
            .from_select(["user_id", "story_id", "read_at"], pick)
            .on_conflict_do_update(index_elements=["user_id", "story_id"], set_={"read_at": now})
            .returning(s.c.story_id)
        )
        with self._write() as conn:
            return len(conn.execute(stmt).fetchall())

    def _reader_upsert(self, table: sa.Table) -> Any:
        return (postgresql if self.dialect == "postgresql" else sqlite).insert(table)
