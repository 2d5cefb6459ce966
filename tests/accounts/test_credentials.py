"""The pure accounts rules: names, argon2id password hashes, API tokens, Fever keys."""

from __future__ import annotations

import hashlib

import pytest

from breakingon.accounts import (
    InvalidName,
    PasswordError,
    fever_key,
    fever_key_hash,
    hash_password,
    new_api_token,
    same_secret,
    token_hash,
    validate_name,
    verify_password,
)


@pytest.mark.parametrize("name", ["a", "alice", "A.b-c_9", "x" * 64])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 65, "al ice", "a:b", "ünï", "a/b", "a\n", "<b>"])
def test_invalid_names(name: str) -> None:
    with pytest.raises(InvalidName):
        validate_name(name)


def test_passwords_are_argon2id_salted_and_checked() -> None:
    h = hash_password("correct horse")
    assert h.startswith("$argon2id$") and "correct horse" not in h
    assert h != hash_password("correct horse")  # a random salt each time
    assert verify_password(h, "correct horse")
    assert not verify_password(h, "correct horsE")
    assert not verify_password(h, "")
    assert not verify_password("not a hash", "correct horse")
    assert not verify_password("", "correct horse")
    assert not verify_password(h, "x" * 5000)  # refused before hashing


@pytest.mark.parametrize("password", ["short", "x" * 1025, "tab\there ok?", "nul\x00byte1"])
def test_bad_passwords_are_refused_without_echo(password: str) -> None:
    with pytest.raises(PasswordError) as err:
        hash_password(password)
    assert password not in str(err.value)


def test_tokens_are_random_and_stored_as_sha256() -> None:
    t1, t2 = new_api_token(), new_api_token()
    assert t1 != t2 and t1.startswith("bo_") and len(t1) > 40
    assert token_hash(t1) == hashlib.sha256(t1.encode()).hexdigest()
    assert same_secret(token_hash(t1), token_hash(t1)) and not same_secret(t1, t2)


def test_fever_key_is_md5_of_name_colon_password() -> None:
    key = fever_key("alice", "correct horse")
    assert key == hashlib.md5(b"alice:correct horse").hexdigest()
    assert fever_key_hash("alice", "correct horse") == hashlib.sha256(key.encode()).hexdigest()
