"""Readers' accounts in the store, on SQLite and PostgreSQL: users and their hashes,
follows (idempotent, capped, scoped to their user), item states, and removal taking a
user's rows with it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_sql_images import _story
from test_store import T0

from breakingon.store import Store
from breakingon.store.base import TooManyFollows
from breakingon.store.base_accounts import MAX_FOLLOWS


def test_users_are_added_found_changed_and_removed(store: Store) -> None:
    alice = store.add_user("alice", "argon-hash-a", "fever-a", T0)
    assert alice is not None and alice.name == "alice" and not alice.disabled
    assert store.add_user("alice", "other", None, T0) is None  # the name is taken
    bob = store.add_user("bob", "argon-hash-b", None, T0)
    assert bob is not None and bob.id != alice.id
    assert store.find_user("alice") == alice
    assert store.get_user(bob.id) == bob
    assert store.find_user("carol") is None and store.get_user(10_000) is None
    assert [u.name for u in store.list_users()] == ["alice", "bob"]
    assert "argon-hash-a" not in repr(alice)  # hashes stay out of reprs and logs

    assert store.user_for_fever_key("fever-a") == alice
    assert store.user_for_fever_key("") is None and store.user_for_token("") is None
    assert store.set_user_token("bob", "tok-hash")
    found = store.user_for_token("tok-hash")
    assert found is not None and found.id == bob.id
    assert store.set_user_token("bob", None) and store.user_for_token("tok-hash") is None

    assert store.set_user_password("alice", "argon-new", None)
    changed = store.find_user("alice")
    assert changed is not None and changed.password_hash == "argon-new"
    assert changed.fever_key_hash is None and store.user_for_fever_key("fever-a") is None
    assert store.set_user_disabled("alice", True)
    disabled = store.find_user("alice")
    assert disabled is not None and disabled.disabled
    assert not store.set_user_password("carol", "x", None)
    assert not store.set_user_token("carol", "x") and not store.set_user_disabled("carol", True)
    assert store.remove_user("bob") and not store.remove_user("bob")
    assert [u.name for u in store.list_users()] == ["alice"]


def test_follows_are_idempotent_scoped_and_capped(store: Store) -> None:
    a = store.add_user("alice", "h", None, T0)
    b = store.add_user("bob", "h", None, T0)
    assert a is not None and b is not None
    top, created = store.add_follow(a.id, "top", "", "Top stories", T0)
    assert created and top.kind == "top" and top.value == "" and top.title == "Top stories"
    again, created = store.add_follow(a.id, "top", "", "ignored", T0)
    assert not created and again == top
    sec, _ = store.add_follow(a.id, "section", "science", "Science", T0)
    bobs, _ = store.add_follow(b.id, "section", "science", "Bob's science", T0)
    assert bobs.id != sec.id
    assert [f.id for f in store.list_follows(a.id)] == [top.id, sec.id]
    assert [f.id for f in store.list_follows(b.id)] == [bobs.id]

    # Another user's follow can be neither renamed, marked seen nor removed.
    assert not store.set_follow_title(b.id, sec.id, "hijacked")
    assert not store.set_follow_seen(b.id, sec.id, T0)
    assert not store.remove_follow(b.id, sec.id)
    assert store.list_follows(a.id)[1].title == "Science"
    assert store.set_follow_title(a.id, sec.id, "My science")
    assert store.set_follow_seen(a.id, sec.id, T0 + timedelta(hours=1))
    now = store.list_follows(a.id)[1]
    assert now.title == "My science" and now.last_seen_at == T0 + timedelta(hours=1)
    assert store.remove_follow(a.id, sec.id) and not store.remove_follow(a.id, sec.id)
    assert [f.id for f in store.list_follows(a.id)] == [top.id]

    for i in range(MAX_FOLLOWS - 1):
        store.add_follow(a.id, "search", f"q{i}", f"q{i}", T0)
    with pytest.raises(TooManyFollows):
        store.add_follow(a.id, "search", "one too many", "x", T0)
    assert store.add_follow(a.id, "search", "q1", "q1", T0)[1] is False  # existing is fine
    assert len(store.list_follows(a.id)) == MAX_FOLLOWS


def test_item_states_are_per_user_and_only_for_stories(store: Store) -> None:
    sid = _story(store)
    a = store.add_user("alice", "h", None, T0)
    b = store.add_user("bob", "h", None, T0)
    assert a is not None and b is not None
    assert store.set_item_states(a.id, [sid, 999_999], T0, read=True) == 1  # no story 999999
    assert store.set_item_states(a.id, [sid], T0 + timedelta(1), read=True) == 0  # already
    states = store.item_states(a.id, [sid, 999_999])
    assert list(states) == [sid] and states[sid].read_at == T0 and states[sid].starred_at is None
    assert store.item_states(b.id, [sid]) == {}  # bob's state is his own

    assert store.set_item_states(a.id, [sid], T0, starred=True) == 1
    assert store.item_states(a.id, [sid])[sid].starred_at == T0
    assert store.set_item_states(a.id, [sid], T0, read=False) == 1
    s = store.item_states(a.id, [sid])[sid]
    assert s.read_at is None and s.starred_at == T0
    assert store.set_item_states(a.id, [sid], T0, starred=False) == 1
    assert store.item_states(a.id, [sid]) == {}  # nothing left: the row is gone
    assert store.set_item_states(a.id, [sid], T0) == 0

    store.add_follow(a.id, "story", str(sid), "A story", T0)
    store.set_item_states(a.id, [sid], T0, read=True, starred=True)
    assert store.remove_user("alice")
    again = store.add_user("alice", "h", None, T0)
    assert again is not None
    assert store.list_follows(again.id) == [] and store.item_states(again.id, [sid]) == {}
