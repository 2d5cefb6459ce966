"""`SQLStore` accounts: users, the streams each follows and each user's item states.
See `breakingon.store.base_accounts.UserStore` for the contract.

Every follow and item-state statement carries `user_id` in its WHERE clause (or in the
row it writes), so no call reaches another user's rows. Hashes arrive hashed: this
module never sees a password, token or Fever key.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from breakingon.records import Follow, FollowKind, ItemState, User
from breakingon.store.base import TooManyFollows
from breakingon.store.base_accounts import MAX_FOLLOWS
from breakingon.store.codec import clean_text, to_utc
from breakingon.store.sql_base import _SQLBase, _utc

ID_BATCH = 500  # ids per IN (...) list
TITLE_CAP = 500
VALUE_CAP = 500


def _user(r: Any) -> User:
    return User(
        id=int(r.id),
        name=r.name,
        created_at=_utc(r.created_at),
        password_hash=r.password_hash,
        api_token_hash=r.api_token_hash,
        fever_key_hash=r.fever_key_hash,
        disabled=bool(r.disabled),
    )


def _follow(r: Any) -> Follow:
    return Follow(
        id=int(r.id),
        user_id=int(r.user_id),
        kind=cast(FollowKind, r.kind),
        value=r.value,
        title=r.title,
        created_at=_utc(r.created_at),
        last_seen_at=to_utc(r.last_seen_at),
    )


class _UsersMixin(_SQLBase):
    """Users, follows and item states."""

    def _upsert(self, table: sa.Table) -> Any:
        return (postgresql if self.dialect == "postgresql" else sqlite).insert(table)

    # -- users -------------------------------------------------------------------------
    def add_user(
        self, name: str, password_hash: str, fever_key_hash: str | None, now: datetime
    ) -> User | None:
        u = self.t["users"]
        with self._write() as conn:
            res = conn.execute(
                self._upsert(u)
                .values(
                    name=name,
                    password_hash=password_hash,
                    fever_key_hash=fever_key_hash,
                    created_at=now,
                    disabled=0,
                )
                .on_conflict_do_nothing(index_elements=["name"])
                .returning(*u.c)
            ).first()
        return _user(res) if res is not None else None

    def _one_user(self, where: sa.ColumnElement[bool]) -> User | None:
        u = self.t["users"]
        with self._read() as conn:
            r = conn.execute(sa.select(u).where(where)).first()
        return _user(r) if r is not None else None

    def get_user(self, user_id: int) -> User | None:
        return self._one_user(self.t["users"].c.id == user_id)

    def find_user(self, name: str) -> User | None:
        return self._one_user(self.t["users"].c.name == name)

    def user_for_token(self, token_hash: str) -> User | None:
        if not token_hash:
            return None
        return self._one_user(self.t["users"].c.api_token_hash == token_hash)

    def user_for_fever_key(self, key_hash: str) -> User | None:
        if not key_hash:
            return None
        return self._one_user(self.t["users"].c.fever_key_hash == key_hash)

    def list_users(self) -> list[User]:
        u = self.t["users"]
        with self._read() as conn:
            return [_user(r) for r in conn.execute(sa.select(u).order_by(u.c.name))]

    def _update_user(self, name: str, **values: Any) -> bool:
        u = self.t["users"]
        with self._write() as conn:
            res = conn.execute(u.update().where(u.c.name == name).values(**values))
            return bool(res.rowcount)

    def remove_user(self, name: str) -> bool:
        u, f, s = self.t["users"], self.t["user_follows"], self.t["user_item_state"]
        with self._write() as conn:
            r = conn.execute(sa.select(u.c.id).where(u.c.name == name)).first()
            if r is None:
                return False
            # The foreign keys cascade too; deleting explicitly keeps it true wherever
            # they are not enforced.
            conn.execute(s.delete().where(s.c.user_id == r.id))
            conn.execute(f.delete().where(f.c.user_id == r.id))
            conn.execute(u.delete().where(u.c.id == r.id))
            return True

    def set_user_password(self, name: str, password_hash: str, fever_key_hash: str | None) -> bool:
        return self._update_user(name, password_hash=password_hash, fever_key_hash=fever_key_hash)

    def set_user_token(self, name: str, token_hash: str | None) -> bool:
        return self._update_user(name, api_token_hash=token_hash)

    def set_user_disabled(self, name: str, disabled: bool) -> bool:
        return self._update_user(name, disabled=1 if disabled else 0)

    # -- follows -----------------------------------------------------------------------
    def list_follows(self, user_id: int) -> list[Follow]:
        f = self.t["user_follows"]
        with self._read() as conn:
            rows = conn.execute(sa.select(f).where(f.c.user_id == user_id).order_by(f.c.id))
            return [_follow(r) for r in rows]

    def add_follow(
        self, user_id: int, kind: FollowKind, value: str, title: str, now: datetime
    ) -> tuple[Follow, bool]:
        f = self.t["user_follows"]
        value = clean_text(value, VALUE_CAP)
        same = sa.and_(f.c.user_id == user_id, f.c.kind == kind, f.c.value == value)
        with self._write() as conn:
            old = conn.execute(sa.select(f).where(same)).first()
            if old is not None:
                return _follow(old), False
            count = conn.execute(
                sa.select(sa.func.count()).select_from(f).where(f.c.user_id == user_id)
            ).scalar_one()
            if int(count) >= MAX_FOLLOWS:
                raise TooManyFollows(f"a user may follow at most {MAX_FOLLOWS} streams")
            row = conn.execute(
                self._upsert(f)
                .values(
                    user_id=user_id,
                    kind=kind,
                    value=value,
                    title=clean_text(title, TITLE_CAP),
                    created_at=now,
                )
                .on_conflict_do_nothing(index_elements=["user_id", "kind", "value"])
                .returning(*f.c)
            ).first()
            if row is None:  # a concurrent writer added the same follow
                row = conn.execute(sa.select(f).where(same)).first()
                assert row is not None
                return _follow(row), False
            return _follow(row), True

    def _update_follow(self, user_id: int, follow_id: int, **values: Any) -> bool:
        f = self.t["user_follows"]
        with self._write() as conn:
            res = conn.execute(
                f.update().where(f.c.id == follow_id, f.c.user_id == user_id).values(**values)
            )
            return bool(res.rowcount)

    def remove_follow(self, user_id: int, follow_id: int) -> bool:
        f = self.t["user_follows"]
        with self._write() as conn:
            res = conn.execute(f.delete().where(f.c.id == follow_id, f.c.user_id == user_id))
            return bool(res.rowcount)

    def set_follow_title(self, user_id: int, follow_id: int, title: str) -> bool:
        return self._update_follow(user_id, follow_id, title=clean_text(title, TITLE_CAP))

    def set_follow_seen(self, user_id: int, follow_id: int, now: datetime) -> bool:
        return self._update_follow(user_id, follow_id, last_seen_at=now)

    # -- item states -------------------------------------------------------------------
    def item_states(self, user_id: int, story_ids: Sequence[int]) -> dict[int, ItemState]:
        s = self.t["user_item_state"]
        ids = sorted({int(i) for i in story_ids})
        out: dict[int, ItemState] = {}
        with self._read() as conn:
            for i in range(0, len(ids), ID_BATCH):
                rows = conn.execute(
                    sa.select(s).where(
                        s.c.user_id == user_id, s.c.story_id.in_(ids[i : i + ID_BATCH])
                    )
                )
                for r in rows:
                    out[int(r.story_id)] = ItemState(
                        int(r.story_id), to_utc(r.read_at), to_utc(r.starred_at)
                    )
        return out

    def set_item_states(
        self,
        user_id: int,
        story_ids: Sequence[int],
        now: datetime,
        read: bool | None = None,
        starred: bool | None = None,
    ) -> int:
        if read is None and starred is None:
            return 0
        ids = sorted({int(i) for i in story_ids})
        changed = 0
        with self._write() as conn:
            for i in range(0, len(ids), ID_BATCH):
                changed += self._set_states(
                    conn, user_id, ids[i : i + ID_BATCH], now, read, starred
                )
        return changed

    def _set_states(
        self,
        conn: Connection,
        user_id: int,
        ids: list[int],
        now: datetime,
        read: bool | None,
        starred: bool | None,
    ) -> int:
        st, s = self.t["stories"], self.t["user_item_state"]
        existing = {int(r.id) for r in conn.execute(sa.select(st.c.id).where(st.c.id.in_(ids)))}
        if not existing:
            return 0
        old = {
            int(r.story_id): r
            for r in conn.execute(
                sa.select(s).where(s.c.user_id == user_id, s.c.story_id.in_(sorted(existing)))
            )
        }
        changed = 0
        for sid in sorted(existing):
            r = old.get(sid)
            read_at = r.read_at if r is not None else None
            starred_at = r.starred_at if r is not None else None
            new_read = read_at if read is None else (read_at or now) if read else None
            new_star = starred_at if starred is None else (starred_at or now) if starred else None
            if (new_read, new_star) == (read_at, starred_at):
                continue
            changed += 1
            where = sa.and_(s.c.user_id == user_id, s.c.story_id == sid)
            if new_read is None and new_star is None:
                conn.execute(s.delete().where(where))
            else:
                values = {"read_at": new_read, "starred_at": new_star}
                conn.execute(
                    self._upsert(s)
                    .values(user_id=user_id, story_id=sid, **values)
                    .on_conflict_do_update(index_elements=["user_id", "story_id"], set_=values)
                )
        return changed
