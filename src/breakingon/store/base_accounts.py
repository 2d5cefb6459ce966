"""The storage contract of readers' accounts (part of `breakingon.store.base`, which
re-exports it and makes `UserStore` part of `Store`): users, the streams each follows
(the Google Reader / Fever subscriptions and the site's follows) and each user's read /
starred state of stories. This module holds no SQL; `store.sql_users` implements it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from breakingon.records import Follow, FollowKind, ItemState, User

MAX_FOLLOWS = 500  # streams one user may follow (bounds every reader query)


class UserStore(Protocol):
    """Readers' accounts (optional, private): users, the streams each follows, and each
    user's read / starred state of stories. Every follow and state method is scoped by
    `user_id`: no call reads or changes another user's rows. Hashes come in hashed."""

    def add_user(
        self, name: str, password_hash: str, fever_key_hash: str | None, now: datetime
    ) -> User | None:
        """Create a user; None when the name is taken."""
        ...

    def get_user(self, user_id: int) -> User | None: ...
    def find_user(self, name: str) -> User | None: ...
    def user_for_token(self, token_hash: str) -> User | None:
        """The user whose API token has this sha256 (disabled users included)."""
        ...

    def user_for_fever_key(self, key_hash: str) -> User | None: ...
    def list_users(self) -> list[User]: ...
    def remove_user(self, name: str) -> bool:
        """Delete the user with their follows and item states."""
        ...

    def set_user_password(
        self, name: str, password_hash: str, fever_key_hash: str | None
    ) -> bool: ...
    def set_user_token(self, name: str, token_hash: str | None) -> bool: ...
    def set_user_disabled(self, name: str, disabled: bool) -> bool: ...
    def list_follows(self, user_id: int) -> list[Follow]:
        """The user's follows, oldest first."""
        ...

    def add_follow(
        self, user_id: int, kind: FollowKind, value: str, title: str, now: datetime
    ) -> tuple[Follow, bool]:
        """Follow a stream (idempotent); (follow, created). TooManyFollows at the cap."""
        ...

    def remove_follow(self, user_id: int, follow_id: int) -> bool: ...
    def set_follow_title(self, user_id: int, follow_id: int, title: str) -> bool: ...
    def set_follow_seen(self, user_id: int, follow_id: int, now: datetime) -> bool:
        """Record the reader's visit of the followed stream (for "new since")."""
        ...

    def item_states(self, user_id: int, story_ids: Sequence[int]) -> dict[int, ItemState]:
        """The user's state of those stories that have one."""
        ...

    def set_item_states(
        self,
        user_id: int,
        story_ids: Sequence[int],
        now: datetime,
        read: bool | None = None,
        starred: bool | None = None,
    ) -> int:
        """Mark existing stories read / unread and starred / unstarred (None: leave
        as is); ids of no story are skipped. Returns how many stories were changed."""
        ...
