"""`SQLStore` stories: story ids, saving clustering, leases, cluster states, dirty
stories and `save_story`; reading and filtering stories (full-text search is in
`sql_search`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from breakingon.records import Article, Brief, Place, Story
from breakingon.store.base import (
    BriefVersion,
    LeaseLost,
    Membership,
    StoryQuery,
    StoryStateRow,
    StoryUpdate,
)
from breakingon.store.codec import (
    brief_from_dict,
    brief_to_dict,
    clean_text,
    dumps,
    loads_tuple,
    place_to_dict,
    places_from_json,
    to_utc,
)
from breakingon.store.owners import dead_owners
from breakingon.store.sql_base import TITLE_CAP, _SQLBase, _utc, listed_story, story_image


class _StoriesMixin(_SQLBase):
    """Stories: clustering saves, leases, story updates, reads and search."""

    # -- stories -----------------------------------------------------------------------
    def new_story_id(self, now: datetime) -> int:
        # Ids come from a counter, not from inserting a row: a worker that dies between
        # allocating an id and committing its clustering leaves no empty story behind.
        m = self.t["meta"]
        with self._write() as conn:
            if self.dialect == "postgresql":
                conn.execute(
                    sa.text(
                        "INSERT INTO meta (key, value) VALUES ('story_seq', '0') "
                        "ON CONFLICT (key) DO NOTHING"
                    )
                )
                row: Any = conn.execute(
                    sa.select(m.c.value).where(m.c.key == "story_seq").with_for_update()
                ).one()
            else:
                row = conn.execute(sa.select(m.c.value).where(m.c.key == "story_seq")).first()
                if row is None:
                    conn.execute(m.insert().values(key="story_seq", value="0"))
            current = int(row.value) if row is not None else 0
            st = self.t["stories"]
            top = conn.execute(sa.select(sa.func.max(st.c.id))).scalar_one() or 0
            nxt = max(current, int(top)) + 1
            conn.execute(m.update().where(m.c.key == "story_seq").values(value=str(nxt)))
            return nxt

    def save_clustering(
        self,
        memberships: Sequence[Membership],
        states: Sequence[StoryStateRow],
        merges: Sequence[tuple[int, int]],
        now: datetime,
        members: Sequence[tuple[int, bytes]] = (),
        lease: tuple[str, str] | None = None,
        meta: Sequence[tuple[str, str | None]] = (),
    ) -> None:
        a, st, m = self.t["articles"], self.t["stories"], self.t["story_members"]
        touched: set[int] = set()
        with self._write() as conn:
            if lease is not None:
                # Fencing: only the current holder of the named lease may commit, so a
                # leader that stalled past its lease cannot overwrite its successor's work.
                lt = self.t["leases"]
                q = sa.select(lt.c.owner, lt.c.until).where(lt.c.name == lease[0])
                if self.dialect == "postgresql":
                    q = q.with_for_update()
                held = conn.execute(q).first()
                if held is None or held.owner != lease[1] or _utc(held.until) < now:
                    raise LeaseLost(f"lease {lease[0]!r} is no longer held by {lease[1]}")
            for row in states:
                exists = conn.execute(sa.select(st.c.id).where(st.c.id == row.story_id)).first()
                first = row.first or now
                last = row.last or first
                if exists is None:
                    conn.execute(
                        st.insert().values(
                            id=row.story_id,
                            first_reported=first,
                            last_reported=last,
                            updated_at=now,
                            dirty=1,
                            cluster_state=row.state,
                        )
                    )
                else:
                    conn.execute(
                        st.update()
                        .where(st.c.id == row.story_id)
                        .values(
                            cluster_state=row.state,
                            last_reported=sa.func.max(st.c.last_reported, last)
                            if self.dialect == "sqlite"
                            else sa.func.greatest(st.c.last_reported, last),
                        )
                    )
            for mem in memberships:
                if conn.execute(sa.select(st.c.id).where(st.c.id == mem.story_id)).first() is None:
                    conn.execute(
                        st.insert().values(
                            id=mem.story_id,
                            first_reported=now,
                            last_reported=now,
                            updated_at=now,
                            dirty=1,
                        )
                    )
                # The story the article leaves (a repair split) must be recomputed too.
                left = conn.execute(
                    sa.select(m.c.story_id).where(m.c.article_id == mem.article_id)
                ).scalar_one_or_none()
                if left is not None and left != mem.story_id:
                    touched.add(int(left))
                conn.execute(m.delete().where(m.c.article_id == mem.article_id))
                conn.execute(
                    m.insert().values(
                        article_id=mem.article_id,
                        story_id=mem.story_id,
                        joined_at=now,
                        score=mem.score,
                        reason=mem.reason[:500],
                    )
                )
                resections = {} if mem.sections is None else {"sections": dumps(list(mem.sections))}
                conn.execute(
                    a.update()
                    .where(a.c.id == mem.article_id)
                    .values(
                        story_id=mem.story_id,
                        state="clustered",
                        lease_owner=None,
                        lease_until=None,
                        updated_at=now,
                        **resections,
                    )
                )
                touched.add(mem.story_id)
            for article_id, blob in members:
                conn.execute(a.update().where(a.c.id == article_id).values(cluster_member=blob))
            for src, dst in merges:
                if src == dst:
                    continue
                conn.execute(m.update().where(m.c.story_id == src).values(story_id=dst))
                conn.execute(a.update().where(a.c.story_id == src).values(story_id=dst))
                conn.execute(
                    st.update()
                    .where(st.c.id == src)
                    .values(merged_into=dst, dirty=0, cluster_state=None, updated_at=now)
                )
                # readers holding an older id that pointed at `src` follow on to `dst`
                conn.execute(st.update().where(st.c.merged_into == src).values(merged_into=dst))
                self._clear_story_index(conn, src)
                touched.add(dst)
            if touched:
                conn.execute(
                    st.update()
                    .where(st.c.id.in_(sorted(touched)), st.c.merged_into.is_(None))
                    .values(dirty=1, updated_at=now)
                )
            mt = self.t["meta"]
            for key, value in meta:
                if value is None:
                    conn.execute(mt.delete().where(mt.c.key == key))
                elif conn.execute(sa.select(mt.c.key).where(mt.c.key == key)).first() is None:
                    conn.execute(mt.insert().values(key=key, value=value))
                else:
                    conn.execute(mt.update().where(mt.c.key == key).values(value=value))

    def load_cluster_members(self, article_ids: Sequence[int]) -> list[tuple[int, bytes]]:
        a = self.t["articles"]
        out: list[tuple[int, bytes]] = []
        with self._read() as conn:
            for i in range(0, len(article_ids), 500):
                chunk = list(article_ids[i : i + 500])
                rows = conn.execute(
                    sa.select(a.c.id, a.c.cluster_member).where(
                        a.c.id.in_(chunk), a.c.cluster_member.is_not(None)
                    )
                )
                out.extend((int(r.id), bytes(r.cluster_member)) for r in rows)
        return out

    def try_lease(self, name: str, worker: str, now: datetime, lease_s: int) -> tuple[bool, bool]:
        lt = self.t["leases"]
        until = now + timedelta(seconds=lease_s)
        with self._write() as conn:
            q = sa.select(lt.c.owner, lt.c.until).where(lt.c.name == name)
            if self.dialect == "postgresql":
                conn.execute(
                    sa.text(
                        "INSERT INTO leases (name, owner, until) VALUES (:n, '', :t) "
                        "ON CONFLICT (name) DO NOTHING"
                    ),
                    {"n": name, "t": now - timedelta(seconds=1)},
                )
                q = q.with_for_update()
            row = conn.execute(q).first()
            if row is None:
                conn.execute(lt.insert().values(name=name, owner=worker, until=until))
                return True, True
            held_by_me = row.owner == worker and _utc(row.until) >= now
            if held_by_me or _utc(row.until) < now or dead_owners([row.owner]):
                conn.execute(lt.update().where(lt.c.name == name).values(owner=worker, until=until))
                return True, not held_by_me
            return False, False

    def release_lease(self, name: str, worker: str) -> None:
        lt = self.t["leases"]
        with self._write() as conn:
            conn.execute(
                lt.update()
                .where(lt.c.name == name, lt.c.owner == worker)
                .values(until=datetime(1970, 1, 1, tzinfo=UTC))
            )

    def _clear_story_index(self, conn: Connection, story_id: int) -> None:
        for name in ("story_sections", "story_places"):
            t = self.t[name]
            conn.execute(t.delete().where(t.c.story_id == story_id))

    def load_story_states(self, since: datetime) -> list[tuple[int, bytes]]:
        st = self.t["stories"]
        with self._read() as conn:
            rows = conn.execute(
                sa.select(st.c.id, st.c.cluster_state)
                .where(
                    st.c.last_reported >= since,
                    st.c.merged_into.is_(None),
                    st.c.cluster_state.is_not(None),
                )
                .order_by(st.c.id)
            )
            return [(int(r.id), bytes(r.cluster_state)) for r in rows]

    def claim_dirty_stories(
        self, worker: str, now: datetime, limit: int, lease_s: int
    ) -> list[int]:
        st = self.t["stories"]
        until = now + timedelta(seconds=lease_s)
        with self._write() as conn:
            # dirty 1: to update; 2: claimed, not yet saved. A claim whose worker died
            # (lease expired, dirty still 2) is taken again, so a SIGKILL never leaves a
            # half-written story behind.
            ids = self._claimable_ids(
                conn, st, [st.c.dirty >= 1, st.c.merged_into.is_(None)], [st.c.id], limit, now
            )
            if ids:
                a = self.t["articles"]
                has_articles = sa.exists().where(a.c.story_id == st.c.id)
                # A story left without articles (all moved away) has nothing to compute;
                # its counts go to 0 so that no list or count shows it any more.
                conn.execute(
                    st.update()
                    .where(st.c.id.in_(ids), ~has_articles)
                    .values(
                        lease_owner=None,
                        lease_until=None,
                        dirty=0,
                        article_count=0,
                        outlet_count=0,
                    )
                )
                conn.execute(
                    st.update()
                    .where(st.c.id.in_(ids), has_articles)
                    .values(lease_owner=worker, lease_until=until, dirty=2)
                )
                ids = [
                    int(r.id)
                    for r in conn.execute(
                        sa.select(st.c.id)
                        .where(st.c.id.in_(ids), st.c.dirty == 2)
                        .order_by(st.c.id)
                    )
                ]
            return ids

    def mark_stories_dirty(self, story_ids: Sequence[int]) -> None:
        if not story_ids:
            return
        st = self.t["stories"]
        with self._write() as conn:
            # 1 whether claimed (2: its save keeps the 1) or not (0); updated_at stays,
            # so the story page's freshness is not claimed before the update
            conn.execute(
                st.update()
                .where(st.c.id.in_(sorted(set(story_ids))), st.c.merged_into.is_(None))
                .values(dirty=1)
            )

    def story_articles(self, story_id: int, limit: int = 500) -> list[Article]:
        a = self.t["articles"]
        with self._read() as conn:
            rows = conn.execute(
                self._article_select()
                .where(a.c.story_id == story_id)
                .order_by(a.c.published, a.c.id)
                .limit(limit)
            )
            return [self._article(r) for r in rows]

    def save_story(self, update: StoryUpdate, now: datetime, worker: str | None = None) -> bool:
        st, sv = self.t["stories"], self.t["story_versions"]
        ss, sp = self.t["story_sections"], self.t["story_places"]
        brief_json = dumps(brief_to_dict(update.brief)) if update.brief is not None else None
        with self._write() as conn:
            # The row lock (PostgreSQL) keeps a claimer from taking the story between
            # this check and the write; SQLite's write lock does the same.
            cur = conn.execute(
                sa.select(st.c.brief, st.c.brief_version, st.c.merged_into, st.c.lease_owner)
                .where(st.c.id == update.story_id)
                .with_for_update()
            ).first()
            if cur is None or cur.merged_into is not None:
                return False
            if worker is not None and cur.lease_owner != worker:
                return False  # the claim was taken over: a stale result must not win
            version = cur.brief_version
            if brief_json is not None and brief_json != cur.brief:
                version += 1
                conn.execute(
                    sv.insert().values(
                        story_id=update.story_id,
                        version=version,
                        created_at=now,
                        article_count=update.article_count,
                        brief=brief_json,
                    )
                )
            conn.execute(
                st.update()
                .where(st.c.id == update.story_id)
                .values(
                    headline=clean_text(update.headline, TITLE_CAP),
                    dek=clean_text(update.dek, 5_000),
                    first_reported=update.first_reported,
                    last_reported=update.last_reported,
                    article_count=update.article_count,
                    outlet_count=update.outlet_count,
                    representative_article_id=update.representative_article_id,
                    outlets=dumps(list(update.outlets)),
                    countries=dumps(list(update.countries)),
                    languages=dumps(list(update.languages)),
                    sections=dumps(list(update.sections)),
                    places=dumps([place_to_dict(p) for p in update.places]),
                    related=dumps(list(update.related)),
                    score=update.score,
                    score_explanation=update.score_explanation,
                    breaking_since=update.breaking_since,
                    breaking_until=update.breaking_until,
                    brief=brief_json if brief_json is not None else cur.brief,
                    brief_version=version,
                    updated_at=now,
                    lease_owner=None,
                    lease_until=None,
                    # done, unless clustering marked it dirty again meanwhile (1 stays)
                    dirty=sa.case((st.c.dirty == 2, 0), else_=st.c.dirty),
                )
            )
            self._clear_story_index(conn, update.story_id)
            for section in sorted(set(update.sections)):
                conn.execute(ss.insert().values(story_id=update.story_id, section=section))
            seen: set[int] = set()
            for p in update.places:
                if p.geonameid in seen:
                    continue
                seen.add(p.geonameid)
                conn.execute(
                    sp.insert().values(
                        story_id=update.story_id,
                        geonameid=p.geonameid,
                        country=p.country,
                        kind=p.kind,
                        name=p.name,
                    )
                )
        return True

    # -- reading -----------------------------------------------------------------------
    def _story(self, r: Any) -> Story:
        return Story(
            id=r.id,
            headline=r.headline,
            dek=r.dek,
            first_reported=_utc(r.first_reported),
            last_reported=_utc(r.last_reported),
            article_count=r.article_count,
            outlet_count=r.outlet_count,
            representative_article_id=r.representative_article_id,
            outlets=loads_tuple(r.outlets),
            countries=loads_tuple(r.countries),
            languages=loads_tuple(r.languages),
            sections=loads_tuple(r.sections),
            places=places_from_json(r.places),
            score=r.score,
            score_explanation=r.score_explanation,
            breaking_until=to_utc(r.breaking_until),
            merged_into=r.merged_into,
            related=tuple(int(x) for x in loads_tuple(r.related) if isinstance(x, int)),
            breaking_since=to_utc(r.breaking_since),
            brief_version=int(r.brief_version or 0),
            updated_at=to_utc(r.updated_at),
            image=story_image(r),
        )

    def _story_cols(self) -> list[Any]:
        st = self.t["stories"]
        return [c for c in st.c if c.name not in ("cluster_state", "brief", "tsv")]

    def resolve_story_id(self, story_id: int) -> int | None:
        st = self.t["stories"]
        with self._read() as conn:
            for _ in range(20):
                r = conn.execute(
                    sa.select(st.c.id, st.c.merged_into).where(st.c.id == story_id)
                ).first()
                if r is None:
                    return None
                if r.merged_into is None:
                    return int(r.id)
                story_id = int(r.merged_into)
        return None

    def get_story(self, story_id: int) -> Story | None:
        st = self.t["stories"]
        with self._read() as conn:
            r = conn.execute(sa.select(*self._story_cols()).where(st.c.id == story_id)).first()
        return self._story(r) if r is not None else None

    def get_brief(self, story_id: int) -> Brief | None:
        st = self.t["stories"]
        with self._read() as conn:
            r = conn.execute(sa.select(st.c.brief).where(st.c.id == story_id)).first()
        if r is None or not r.brief:
            return None
        return brief_from_dict(json.loads(r.brief))

    def brief_versions(self, story_id: int) -> list[BriefVersion]:
        sv = self.t["story_versions"]
        with self._read() as conn:
            rows = conn.execute(
                sa.select(sv).where(sv.c.story_id == story_id).order_by(sv.c.version.desc())
            )
            return [
                BriefVersion(
                    version=r.version,
                    created_at=_utc(r.created_at),
                    article_count=r.article_count,
                    brief=brief_from_dict(json.loads(r.brief)),
                )
                for r in rows
            ]

    def _story_filter(self, q: StoryQuery) -> sa.Select[Any]:
        st = self.t["stories"]
        stmt = sa.select(*self._story_cols()).where(
            listed_story(st), st.c.outlet_count >= q.min_outlets
        )
        if q.section:
            ss = self.t["story_sections"]
            stmt = stmt.where(
                st.c.id.in_(sa.select(ss.c.story_id).where(ss.c.section == q.section))
            )
        if q.geonameid is not None:
            sp = self.t["story_places"]
            stmt = stmt.where(
                st.c.id.in_(sa.select(sp.c.story_id).where(sp.c.geonameid == q.geonameid))
            )
        if q.country:
            sp = self.t["story_places"]
            stmt = stmt.where(
                st.c.id.in_(sa.select(sp.c.story_id).where(sp.c.country == q.country.upper()))
            )
        if q.language:
            stmt = stmt.where(st.c.languages.like(f'%"{q.language}"%'))
        if q.since is not None:
            stmt = stmt.where(st.c.last_reported >= q.since)
        if q.breaking_at is not None:
            stmt = stmt.where(st.c.breaking_until > q.breaking_at)
        if q.source_id is not None:
            a = self.t["articles"]
            stmt = stmt.where(
                st.c.id.in_(
                    sa.select(a.c.story_id).where(
                        a.c.source_id == q.source_id, a.c.story_id.is_not(None)
                    )
                )
            )
        return stmt

    def list_stories(self, query: StoryQuery) -> list[Story]:
        st = self.t["stories"]
        order = (
            (st.c.score.desc(), st.c.id.desc())
            if query.order == "score"
            else (st.c.last_reported.desc(), st.c.id.desc())
        )
        stmt = self._story_filter(query).order_by(*order).limit(query.limit).offset(query.offset)
        with self._read() as conn:
            return [self._story(r) for r in conn.execute(stmt)]

    def count_stories(self, query: StoryQuery) -> int:
        stmt = sa.select(sa.func.count()).select_from(self._story_filter(query).subquery())
        with self._read() as conn:
            return int(conn.execute(stmt).scalar_one())

    def find_places(self, name: str, limit: int = 5) -> tuple[Place, ...]:
        # The gazetteer the articles were geotagged with, so a name finds the ids the
        # stories' places carry.
        from breakingon.tag.places import find_places

        return find_places(name, limit)
