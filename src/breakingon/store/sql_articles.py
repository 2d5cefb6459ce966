"""`SQLStore` articles: archive imports, claiming and saving extractions, the
lookups deduplication uses, and reading articles."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa

from breakingon.records import Article, Outlet
from breakingon.store.base import ArticleState
from breakingon.store.codec import clean_text
from breakingon.store.sql_base import _now, _SQLBase, _utc


class _ArticlesMixin(_SQLBase):
    """Articles: saving, claiming, dedup lookups and reads."""

    def save_archive_articles(
        self, outlet: Outlet, articles: Sequence[Article], state: ArticleState
    ) -> list[int]:
        now = _now()
        new_ids: list[int] = []
        with self._write() as conn:
            source_id = self._upsert_outlet(conn, outlet)
            new_ids.extend(self._insert_new(conn, None, source_id, articles, state, now))
        return new_ids

    def claim_articles(
        self, state: ArticleState, worker: str, now: datetime, limit: int, lease_s: int
    ) -> list[Article]:
        a = self.t["articles"]
        until = now + timedelta(seconds=lease_s)
        with self._write() as conn:
            ids = self._claimable_ids(conn, a, [a.c.state == state], [a.c.id], limit, now)
            if not ids:
                return []
            conn.execute(
                a.update()
                .where(a.c.id.in_(ids))
                .values(lease_owner=worker, lease_until=until, attempts=a.c.attempts + 1)
            )
            rows = conn.execute(self._article_select().where(a.c.id.in_(ids)).order_by(a.c.id))
            return [self._article(r) for r in rows]

    def save_extracted(self, articles: Sequence[Article]) -> None:
        if not articles:
            return
        a = self.t["articles"]
        now = _now()
        rows = []
        for art in articles:
            assert art.id is not None
            rows.append(
                {
                    "_id": art.id,
                    "published": _utc(art.published),
                    **self._article_values(art),
                }
            )
        # One statement for the batch (executemany), compiled once.
        stmt = (
            a.update()
            .where(a.c.id == sa.bindparam("_id"))
            .values(
                state="extracted",
                lease_owner=None,
                lease_until=None,
                updated_at=now,
                **{name: sa.bindparam(name) for name in rows[0] if name != "_id"},
            )
        )
        with self._write() as conn:
            conn.execute(stmt, rows)

    def known_item_keys(self, feed_id: int, items: Sequence[tuple[str, str, str]]) -> set[str]:
        a = self.t["articles"]
        known: set[str] = set()
        if not items:
            return known
        with self._read() as conn:
            keys = [clean_text(k, 1_000) for k, _, _ in items]
            for i in range(0, len(keys), 500):
                rows = conn.execute(
                    sa.select(a.c.item_key).where(
                        a.c.feed_id == feed_id, a.c.item_key.in_(keys[i : i + 500])
                    )
                )
                known.update(r.item_key for r in rows)
            aliases = sorted({alias for key, alias, _ in items if alias and key not in known})
            seen: set[tuple[str, str]] = set()
            for i in range(0, len(aliases), 500):
                rows = conn.execute(
                    sa.select(a.c.alias_key, a.c.title).where(
                        a.c.feed_id == feed_id, a.c.alias_key.in_(aliases[i : i + 500])
                    )
                )
                seen.update((r.alias_key, r.title) for r in rows)
            for key, alias, title in items:
                if key not in known and alias and (alias, title) in seen:
                    known.add(key)  # the same item under a changed GUID or moved host
        return known

    def recent_texts(self, since: datetime, limit: int) -> list[tuple[int, str, datetime]]:
        a = self.t["articles"]
        with self._read() as conn:
            rows = conn.execute(
                sa.select(a.c.id, a.c.text, a.c.published)
                .where(
                    a.c.published >= since, a.c.state != "discovered", a.c.duplicate_of.is_(None)
                )
                .order_by(a.c.id.desc())
                .limit(limit)
            )
            return [(int(r.id), r.text, _utc(r.published)) for r in rows]

    def recent_articles(self, since: datetime, limit: int) -> list[Article]:
        a = self.t["articles"]
        with self._read() as conn:
            rows = conn.execute(
                self._article_select()
                .where(a.c.published >= since, a.c.state == "clustered")
                .order_by(a.c.published.desc())
                .limit(limit)
            )
            return [self._article(r) for r in rows]

    def find_by_content_hash(self, content_hash: str, exclude_id: int) -> int | None:
        a = self.t["articles"]
        with self._read() as conn:
            r = conn.execute(
                sa.select(a.c.id)
                .where(
                    a.c.content_hash == content_hash,
                    a.c.id != exclude_id,
                    a.c.state != "discovered",
                )
                .order_by(a.c.id)
                .limit(1)
            ).first()
        return int(r.id) if r is not None else None

    def first_ids_by_content_hash(self, hashes: Sequence[str]) -> dict[str, tuple[int, ...]]:
        a = self.t["articles"]
        found: dict[str, list[int]] = {}
        wanted = sorted({h for h in hashes if h})
        with self._read() as conn:
            for i in range(0, len(wanted), 500):
                rows = conn.execute(
                    sa.select(a.c.id, a.c.content_hash)
                    .where(a.c.content_hash.in_(wanted[i : i + 500]), a.c.state != "discovered")
                    .order_by(a.c.id)
                )
                for r in rows:
                    ids = found.setdefault(r.content_hash, [])
                    if len(ids) < 2:
                        ids.append(int(r.id))
        return {h: tuple(ids) for h, ids in found.items()}

    def get_article(self, article_id: int) -> Article | None:
        a = self.t["articles"]
        with self._read() as conn:
            r = conn.execute(self._article_select().where(a.c.id == article_id)).first()
        return self._article(r) if r is not None else None

    def list_articles(
        self, source_id: int | None = None, limit: int = 50, offset: int = 0
    ) -> list[Article]:
        a = self.t["articles"]
        q = self._article_select().where(a.c.state != "discovered")
        if source_id is not None:
            q = q.where(a.c.source_id == source_id)
        q = q.order_by(a.c.published.desc(), a.c.id.desc()).limit(limit).offset(offset)
        with self._read() as conn:
            return [self._article(r) for r in conn.execute(q)]
