"""Who is calling, for the readers' own-data APIs (Google Reader, Fever, /api/me).

- Google Reader: `ClientLogin` checks the password (argon2id, in a worker thread) and
  answers `Auth=NAME/MAC`, where MAC is an HMAC-SHA256 keyed by the user's stored
  password hash; every later call sends `Authorization: GoogleLogin auth=NAME/MAC`
  (or, on a POST, the same value as the form field `T`). Changing the password
  (`breakingon users passwd`) ends every such sign-in; a disabled user is refused.
- Fever: `api_key` = md5 of "name:password", looked up by its sha256.
- /api/me: `Authorization: Bearer <token from breakingon users token>`, looked up by
  its sha256.

Failed sign-ins and failed keys are rate limited per client address and per user name
(`LOGIN_FAILURES_PER_MIN` each, a `web.security.RateLimiter` that only failures take a
token from): once a bucket is empty the request is answered 429 with Retry-After before
any password is checked. The password, the MAC and the keys are never logged.
This module makes store calls only through `UserStore` and holds no SQL.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
import secrets
from collections.abc import Mapping

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from breakingon.accounts import (
    InvalidName,
    hash_password,
    token_hash,
    validate_name,
    verify_password,
)
from breakingon.records import User
from breakingon.store.base_accounts import UserStore
from breakingon.web.security import RateLimiter, client_ip

LOGIN_FAILURES_PER_MIN = 10
_CONTEXT = "breakingon greader auth v1"


@functools.cache
def _dummy_hash() -> str:
    """Checked when the name is unknown, so it costs as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(24))


def login_limiter() -> RateLimiter:
    return RateLimiter(LOGIN_FAILURES_PER_MIN)


def reader_auth(user: User) -> str:
    """The Google Reader Auth value of `user` (stable until the password changes)."""
    mac = hmac.new(
        user.password_hash.encode("utf-8"),
        f"{_CONTEXT}:{user.id}:{user.name}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return f"{user.name}/{mac}"


def _keys(request: Request, name: str) -> tuple[str, ...]:
    trusted = request.app.security_options.get("trusted_proxies", ())
    ip = client_ip(request.scope, trusted)
    return (f"ip:{ip}", f"user:{name}") if name else (f"ip:{ip}",)


def _limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.login_limiter
    return limiter


def blocked(request: Request, name: str = "") -> int | None:
    """Seconds to wait when the client (or the name) has no failure left, else None."""
    limiter = _limiter(request)
    waits = [w for k in _keys(request, name) if (w := limiter.peek(k)) is not None]
    return max(1, math.ceil(max(waits))) if waits else None


def failed(request: Request, name: str = "") -> None:
    """Count one failed sign-in or key against the client and the name."""
    limiter = _limiter(request)
    for key in _keys(request, name):
        limiter.check(key)


def _store(request: Request) -> UserStore:
    store: UserStore = request.app.state.store
    return store


async def password_user(request: Request, name: str, password: str) -> User | None:
    """The enabled user `name` when `password` is theirs (argon2id, off the event loop)."""
    try:
        validate_name(name)
    except InvalidName:
        return None
    user = await run_in_threadpool(_store(request).find_user, name)
    stored = user.password_hash if user is not None else _dummy_hash()
    ok = await run_in_threadpool(verify_password, stored, password)
    if user is None or not ok or user.disabled:
        return None
    return user


def _google_auth(headers: Mapping[str, str], form_token: str) -> str:
    value = headers.get("authorization", "")
    scheme, _, rest = value.partition(" ")
    if scheme.lower() == "googlelogin":
        key, _, auth = rest.strip().partition("=")
        if key.strip().lower() == "auth":
            return auth.strip()
        return ""
    return form_token.strip()


async def google_user(request: Request, form_token: str = "") -> User | None:
    """The user of a Google Reader call (`GoogleLogin auth=` or the form's `T`)."""
    auth = _google_auth(request.headers, form_token)
    name, _, mac = auth.partition("/")
    if not mac or len(auth) > 200:
        return None
    try:
        validate_name(name)
    except InvalidName:
        return None
    user = await run_in_threadpool(_store(request).find_user, name)
    if user is None or user.disabled:
        return None
    if not hmac.compare_digest(reader_auth(user).encode(), auth.encode("utf-8", "replace")):
        return None
    return user


async def bearer_user(request: Request) -> User | None:
    """The user whose API token the request carries as `Authorization: Bearer`."""
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given or len(given) > 200:
        return None
    user = await run_in_threadpool(_store(request).user_for_token, token_hash(given))
    return user if user is not None and not user.disabled else None


async def fever_user(request: Request, api_key: str) -> User | None:
    """The user whose Fever key (md5 hex of "name:password") is `api_key`."""
    key = api_key.strip().lower()
    if len(key) != 32 or any(c not in "0123456789abcdef" for c in key):
        return None
    user = await run_in_threadpool(_store(request).user_for_fever_key, token_hash(key))
    return user if user is not None and not user.disabled else None
