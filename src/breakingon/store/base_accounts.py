"""The storage contract of readers' accounts (part of `breakingon.store.base`, which
re-exports it and makes `UserStore` part of `Store`): users, the streams each follows
(the Google Reader / Fever subscriptions and the site's follows) and each user's read /
starred state of stories. This module holds no SQL; `store.sql_users` implements it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

from breakingon.records import Brief, Follow, FollowKind, ItemState, Story, User

MAX_FOLLOWS = 500  # streams one user may follow (bounds every reader query)
TOP_STREAM = 30  # "top": the stories the front page's feed holds
BREAKING_STREAM = timedelta(days=1)  # "breaking": flagged breaking within the last day
ItemOrder = Literal["newest", "oldest", "id_asc", "id_desc"]


@dataclass(frozen=True, slots=True)
class ItemQuery:
    """One page of a user's reader items (stories) for the Google Reader and Fever APIs.

    `follows`: the stories of any of these streams (a feed, a folder, the reading
    list), or None for any story (the starred stream, items asked for by id); a
    stream's stories are listed stories matching its follow (`top`: the `TOP_STREAM`
    highest scored; `breaking`: breaking within `BREAKING_STREAM`; `search`: all terms
    match; `story`: the story or the one it was merged into). `read` / `starred`: True
    keeps only those, False only the others. `newer_than` / `older_than` bound the
    first report (inclusive / exclusive); `after` is the last item of the previous page
    (first report and id for the time orders, id for the id orders); `story_ids`
    keeps only those ids. Every query is scoped by `user_id`."""

    user_id: int
    now: datetime
    follows: tuple[Follow, ...] | None = None
    read: bool | None = None
    starred: bool | None = None
    newer_than: datetime | None = None
    older_than: datetime | None = None
    after: tuple[datetime | None, int] | None = None
    story_ids: tuple[int, ...] | None = None
    order: ItemOrder = "newest"
    limit: int = 20
    origins: tuple[Follow, ...] | None = None  # name origins from these (None: `follows`)


@dataclass(frozen=True, slots=True)
class ItemSource:
    """One original report of a reader item's story (its brief cites them by id)."""

    article_id: int
    outlet: str
    title: str
    url: str


@dataclass(frozen=True, slots=True)
class ReaderItem:
    """A story as a reader item: the user's state of it, the first of the query's
    follows it belongs to (None: none of them), and, when asked for, its brief and its
    original reports for the item's content."""

    story: Story
    state: ItemState
    origin: int | None = None
    brief: Brief | None = None
    sources: tuple[ItemSource, ...] = ()


@dataclass(frozen=True, slots=True)
class UnreadCounts:
    """Unread stories per follow id, per follow kind and in all (each story once), with
    the newest first report of each."""

    follows: dict[int, tuple[int, datetime | None]] = field(default_factory=dict)
    kinds: dict[str, tuple[int, datetime | None]] = field(default_factory=dict)
    total: tuple[int, datetime | None] = (0, None)


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


class ReaderStore(Protocol):
    """The readers' streams (the Google Reader and Fever APIs): items of followed
    streams with the user's states, unread counts, and marking streams read. Records:
    `ItemQuery`, `ReaderItem`, `UnreadCounts` above."""

    def reader_items(self, query: ItemQuery, content: bool = False) -> list[ReaderItem]:
        """One page of items; with `content`, each with its brief and sources."""
        ...

    def reader_item_ids(self, query: ItemQuery) -> list[tuple[int, datetime]]:
        """(story id, first report) of one page of items (cheap: for id lists)."""
        ...

    def count_reader_items(self, query: ItemQuery) -> int:
        """How many items the query finds in all (its limit, order and `after` aside)."""
        ...

    def unread_counts(
        self, user_id: int, follows: Sequence[Follow], now: datetime
    ) -> UnreadCounts: ...

    def mark_read(
        self, user_id: int, follows: Sequence[Follow], before: datetime | None, now: datetime
    ) -> int:
        """Mark read every story of these streams first reported before `before` (None:
        all of them); return how many became read."""
        ...
