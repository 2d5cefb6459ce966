"""The SQL store: one implementation of `Store` for SQLite and PostgreSQL (SQLAlchemy Core).

SQLite (embedded): WAL mode, `synchronous=NORMAL`, a busy timeout, and every write
transaction opened with `BEGIN IMMEDIATE` behind a process-wide lock, so writers queue
instead of failing with "database is locked" (RELIABILITY G2); reads use a separate
engine and never block on writers. PostgreSQL (scale-out): work is claimed with
`FOR UPDATE SKIP LOCKED`, so several workers on several machines never claim the same
row. Schema changes are Alembic migrations, applied transactionally at open.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection, Engine

from breakingon.records import Article, Brief, Feed, FeedStatus, Outlet, Place, Story
from breakingon.store.base import (
    ArticleState,
    BriefVersion,
    FeedUpdate,
    LeaseLost,
    Membership,
    Run,
    SchemaTooNew,
    StoreError,
    StoryQuery,
    StoryStateRow,
    StoryUpdate,
    Trend,
    WebSubSubscription,
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

_MIGRATIONS = Path(__file__).parent / "migrations"
_TABLES = (
    "sources",
    "feeds",
    "articles",
    "stories",
    "story_members",
    "story_sections",
    "story_places",
    "story_versions",
    "trends",
    "runs",
    "meta",
    "leases",
    "websub",
)
TEXT_CAP = 200_000
TITLE_CAP = 1_000


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(dt: datetime | None) -> datetime:
    out = to_utc(dt)
    assert out is not None
    return out


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    return cfg


def head_revision() -> str:
    script = ScriptDirectory.from_config(_alembic_config())
    head = script.get_current_head()
    assert head is not None
    return head


class SQLStore:
    """`Store` over SQLAlchemy Core; see `breakingon.store.base.Store` for the contract."""

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            self.dialect = "sqlite"
            path = Path(url[len("sqlite:///") :])
            if str(path) not in ("", ":memory:"):
                path.parent.mkdir(parents=True, exist_ok=True)
            self._w = self._sqlite_engine(url, immediate=True)
            self._r = self._sqlite_engine(url, immediate=False)
        elif url.startswith(("postgresql://", "postgresql+psycopg://")):
            self.dialect = "postgresql"
            pg = url.replace("postgresql://", "postgresql+psycopg://", 1)
            self._w = sa.create_engine(pg, pool_pre_ping=True, pool_size=5, max_overflow=10)
            self._r = self._w
        else:
            raise StoreError(f"unsupported database URL {url!r}")
        self._wlock = threading.RLock()
        try:
            self._migrate()
        except sa.exc.DatabaseError as exc:
            msg = str(exc.orig) if exc.orig is not None else str(exc)
            if "malformed" in msg or "not a database" in msg:
                raise StoreError(
                    f"the database at {url} is damaged ({msg}); restore a backup with "
                    "`breakingon restore BACKUP` (see docs/operations.md)"
                ) from None
            raise StoreError(f"cannot open the database at {url}: {msg}") from None
        md = sa.MetaData()
        md.reflect(self._w, only=list(_TABLES))
        self.t = md.tables

    # -- engine and migrations ---------------------------------------------------------
    @staticmethod
    def _sqlite_engine(url: str, immediate: bool) -> Engine:
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 60},
            pool_size=8,
            max_overflow=16,
        )

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _rec: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    def _migrate(self) -> None:
        cfg = _alembic_config()
        known = {s.revision for s in ScriptDirectory.from_config(cfg).walk_revisions()}
        with self._write() as conn:
            if self.dialect == "postgresql":
                conn.exec_driver_sql("SELECT pg_advisory_xact_lock(7402318)")
            current = MigrationContext.configure(conn).get_current_revision()
            if current is not None and current not in known:
                raise SchemaTooNew(
                    f"the database at {self.url} has schema revision {current}, which is newer "
                    f"than this BreakingOn knows (head {head_revision()}); upgrade BreakingOn "
                    "or restore a backup made by this version"
                )
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        with self._wlock, self._w.begin() as conn:
            yield conn

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self._r.connect() as conn:
            yield conn

    def close(self) -> None:
        self._w.dispose()
        if self._r is not self._w:
            self._r.dispose()

    def schema_revision(self) -> str | None:
        with self._read() as conn:
            return MigrationContext.configure(conn).get_current_revision()

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
        leases them in the same transaction."""
        stmt = (
            sa.select(table.c.id)
            .where(*conditions, sa.or_(table.c.lease_until.is_(None), table.c.lease_until < now))
            .order_by(*order_by)
            .limit(limit)
        )
        return [int(r.id) for r in conn.execute(self._skip_locked(stmt))]

    def _skip_locked(self, stmt: sa.Select[Any]) -> sa.Select[Any]:
        if self.dialect == "postgresql":
            return stmt.with_for_update(skip_locked=True)
        return stmt

    # -- sources and feeds -------------------------------------------------------------
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
        if status == "active":  # a manual resume resets the failure counter (B3)
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

    def set_outlet_weight(self, source_id: int, weight: float) -> None:
        s = self.t["sources"]
        with self._write() as conn:
            conn.execute(s.update().where(s.c.id == source_id).values(weight=weight))

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
            "extraction": a.extraction[:200],
            "sections": dumps(list(a.sections)),
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

    def save_archive_articles(
        self, outlet: Outlet, articles: Sequence[Article], state: ArticleState
    ) -> list[int]:
        now = _now()
        new_ids: list[int] = []
        with self._write() as conn:
            source_id = self._upsert_outlet(conn, outlet)
            new_ids.extend(self._insert_new(conn, None, source_id, articles, state, now))
        return new_ids

    def _article(self, r: Any) -> Article:
        return Article(
            id=r.id,
            feed_id=r.feed_id,
            source_id=r.source_id,
            outlet=getattr(r, "outlet", "") or "",
            country=getattr(r, "country", "") or "",
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
            extraction=r.extraction,
            sections=loads_tuple(r.sections),
            places=places_from_json(r.places),
            story_id=r.story_id,
        )

    def _article_select(self) -> sa.Select[Any]:
        a, s = self.t["articles"], self.t["sources"]
        return sa.select(a, s.c.name.label("outlet"), s.c.country.label("country")).outerjoin(
            s, s.c.id == a.c.source_id
        )

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
                    "places": dumps([place_to_dict(p) for p in art.places]),
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
                    known.add(key)  # the same item under a changed GUID (C7)
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

    def recent_simhashes(self, since: datetime, limit: int) -> list[tuple[int, int]]:
        a = self.t["articles"]
        with self._read() as conn:
            rows = conn.execute(
                sa.select(a.c.id, a.c.simhash)
                .where(a.c.published >= since, a.c.state != "discovered", a.c.simhash != 0)
                .order_by(a.c.id.desc())
                .limit(limit)
            )
            return [(int(r.id), int(r.simhash) & 0xFFFFFFFFFFFFFFFF) for r in rows]

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
                conn.execute(
                    a.update()
                    .where(a.c.id == mem.article_id)
                    .values(
                        story_id=mem.story_id,
                        state="clustered",
                        lease_owner=None,
                        lease_until=None,
                        updated_at=now,
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
            if held_by_me or _utc(row.until) < now:
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
                # A story left without articles (all moved away) has nothing to compute.
                conn.execute(
                    st.update()
                    .where(st.c.id.in_(ids), ~has_articles)
                    .values(lease_owner=None, lease_until=None, dirty=0)
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

    def save_story(self, update: StoryUpdate, now: datetime) -> None:
        st, sv = self.t["stories"], self.t["story_versions"]
        ss, sp = self.t["story_sections"], self.t["story_places"]
        brief_json = dumps(brief_to_dict(update.brief)) if update.brief is not None else None
        with self._write() as conn:
            cur = conn.execute(
                sa.select(st.c.brief, st.c.brief_version, st.c.merged_into).where(
                    st.c.id == update.story_id
                )
            ).first()
            if cur is None or cur.merged_into is not None:
                return
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
            extra={
                "related": loads_tuple(r.related),
                "breaking_since": to_utc(r.breaking_since),
                "brief_version": r.brief_version,
                "updated_at": to_utc(r.updated_at),
            },
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
            st.c.merged_into.is_(None), st.c.article_count > 0, st.c.outlet_count >= q.min_outlets
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

    def _match_ids(self, table: str, query: str, limit: int, offset: int) -> list[int]:
        terms = _fts_terms(query)
        if not terms:
            return []
        with self._read() as conn:
            if self.dialect == "sqlite":
                expr = " ".join('"' + t.replace('"', '""') + '"' for t in terms)
                rows = conn.exec_driver_sql(
                    f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH ? "
                    "ORDER BY rank LIMIT ? OFFSET ?",
                    (expr, limit, offset),
                )
            else:
                tsq = " & ".join(terms)
                rows = conn.exec_driver_sql(
                    f"SELECT id FROM {table} WHERE tsv @@ to_tsquery('simple', %(q)s) "
                    f"ORDER BY ts_rank(tsv, to_tsquery('simple', %(q)s)) DESC, id DESC "
                    "LIMIT %(l)s OFFSET %(o)s",
                    {"q": tsq, "l": limit, "o": offset},
                )
            return [int(r[0]) for r in rows]

    def search_stories(self, query: str, limit: int, offset: int = 0) -> list[Story]:
        st = self.t["stories"]
        ids = self._match_ids("stories", query, limit, offset)
        if not ids:
            return []
        with self._read() as conn:
            rows = {
                r.id: r
                for r in conn.execute(
                    sa.select(*self._story_cols()).where(
                        st.c.id.in_(ids), st.c.merged_into.is_(None)
                    )
                )
            }
        return [self._story(rows[i]) for i in ids if i in rows]

    def search_articles(self, query: str, limit: int, offset: int = 0) -> list[Article]:
        a = self.t["articles"]
        ids = self._match_ids("articles", query, limit, offset)
        if not ids:
            return []
        with self._read() as conn:
            rows = {r.id: r for r in conn.execute(self._article_select().where(a.c.id.in_(ids)))}
        return [self._article(rows[i]) for i in ids if i in rows]

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
                )
                for r in rows
            ]

    def top_places(self, limit: int = 20, recent: int = 2000) -> list[tuple[Place, int]]:
        """Places that the `recent` most recently reported live (unmerged) stories are
        about, with their story counts, most stories first (ties by name). Read-only;
        `lat`/`lon` are 0 (not stored here). The bound keeps it fast on a large archive."""
        sp, st = self.t["story_places"], self.t["stories"]
        live = (
            sa.select(st.c.id)
            .where(st.c.merged_into.is_(None))
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
                    sa.select(sa.func.count())
                    .select_from(st)
                    .where(st.c.merged_into.is_(None), st.c.article_count > 0)
                ),
            }

    def backlog(self) -> dict[str, int]:
        a, st, f = self.t["articles"], self.t["stories"], self.t["feeds"]
        now = _now()
        with self._read() as conn:
            out = {
                f"articles_{state}": int(n)
                for state, n in conn.execute(
                    sa.select(a.c.state, sa.func.count()).group_by(a.c.state)
                )
            }
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
        return total

    # -- websub ------------------------------------------------------------------------
    # WebSub subscriptions (breakingon.websub) and pushed items. Owned by the WebSub
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


def _signed64(v: int) -> int:
    v &= 0xFFFFFFFFFFFFFFFF
    return v - (1 << 64) if v >= 1 << 63 else v


def _fts_terms(query: str) -> list[str]:
    out = []
    for raw in query[:500].split():
        term = "".join(ch for ch in raw if ch.isalnum())
        if term:
            out.append(term.lower())
    return out[:12]
