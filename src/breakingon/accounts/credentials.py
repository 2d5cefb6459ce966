"""Passwords, API tokens and the Fever key.

- Passwords are hashed with argon2id (argon2-cffi's RFC 9106 low-memory profile) and
  checked in constant time; a password is 8-1024 characters with no control character
  (a longer one would only make every check slower).
- A per-user API token is 32 random bytes (`bo_` + URL-safe base64); only its sha256
  is stored, so a copy of the database gives no token.
- The Fever API authenticates with `api_key = md5("name:password")`, which a client
  computes itself. To check it the server must keep something derived from the
  password with a fast hash: the sha256 of that md5 hex. Unlike the argon2 hash, it can
  be brute-forced quickly by whoever holds a copy of the database, so it is optional
  (`breakingon users add --no-fever`); see docs/operations.md.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
TOKEN_PREFIX = "bo_"

_HASHER = PasswordHasher()


class PasswordError(ValueError):
    """A password outside the rules; the message says why (never the password)."""


def validate_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise PasswordError(f"a password is at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise PasswordError(f"a password is at most {MAX_PASSWORD} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in password):
        raise PasswordError("a password may not hold control characters")
    return password


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string, with its own random salt) of a valid password."""
    return _HASHER.hash(validate_password(password))


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` matches the stored hash; False for anything else, including
    an over-long password (refused before hashing) or a damaged hash."""
    if not password_hash or not password or len(password) > MAX_PASSWORD:
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_api_token() -> str:
    """A fresh per-user API token, shown once and stored only as `token_hash`."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """The sha256 hex that stands for a token (or Fever key) in the store."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def fever_key(name: str, password: str) -> str:
    """The Fever API key a client sends: md5 hex of "name:password"."""
    return hashlib.md5(f"{name}:{password}".encode(), usedforsecurity=False).hexdigest()


def fever_key_hash(name: str, password: str) -> str:
    """What the store keeps to check a Fever key (sha256 of the md5 hex)."""
    return token_hash(fever_key(name, password))


def same_secret(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets (hashes, tokens)."""
    return hmac.compare_digest(
        a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass")
    )
