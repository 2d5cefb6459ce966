"""Readers' accounts, the pure parts: user-name rules, password hashing (argon2id via
argon2-cffi), per-user API tokens and the Fever API key.

Accounts are optional and private: the public site never needs one. Nothing here
touches the store, the web layer or the network; the CLI and the web layer hand the
hashes made here to the store (`breakingon.store.base_accounts.UserStore`).
"""

from __future__ import annotations

from breakingon.accounts.credentials import (
    PasswordError,
    fever_key,
    fever_key_hash,
    hash_password,
    new_api_token,
    same_secret,
    token_hash,
    validate_password,
    verify_password,
)
from breakingon.accounts.names import InvalidName, validate_name

__all__ = [
    "InvalidName",
    "PasswordError",
    "fever_key",
    "fever_key_hash",
    "hash_password",
    "new_api_token",
    "same_secret",
    "token_hash",
    "validate_name",
    "validate_password",
    "verify_password",
]
