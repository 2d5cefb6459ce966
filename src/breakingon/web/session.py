"""Signed-in readers on the site: the session cookie, who the reader is, CSRF.

The session is Starlette's `SessionMiddleware`: a cookie (`bo_session`) holding a small
JSON object signed with itsdangerous (HMAC-SHA1 over the value and a timestamp) under
the site's secret (BREAKINGON_SESSION_SECRET, or one made once and kept in the store's
meta, `session_secret`). It is HttpOnly, SameSite=Lax, Secure when the public base URL
is https, and lasts 30 days. It holds the reader's id, a fingerprint of their password
hash (a password change or `users disable` ends every session) and a CSRF token. Nothing
else: the cookie is signed, not encrypted.

`ReaderMiddleware` (inside the session middleware) turns a session into a `Reader`
(the user and the (kind, value) of every stream they follow) on `scope["reader"]`; pages
then render for that reader, uncached and `Cache-Control: private, no-store`, and the
security middleware's cache fast path is skipped for any request carrying the cookie,
so no reader's page is ever served to another; `CookieGuard` makes every response that
sets the cookie (the session middleware sets it only when the session changed: at
/signin, signing in and out) private whatever its route said. Anonymous requests carry
no cookie (none is set until /signin) and get the shared, cached pages unchanged.

Every state-changing form carries the session's CSRF token (`csrf_field`; JavaScript
sends it as `X-CSRF-Token`); `csrf_ok` compares it in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from breakingon.records import User

COOKIE = "bo_session"
MAX_AGE_S = 30 * 86_400
SECRET_META = "session_secret"


@dataclass(frozen=True, slots=True)
class Reader:
    """The signed-in reader of one request."""

    user: User
    csrf: str
    follows: dict[tuple[str, str], int] = field(default_factory=dict)  # (kind, value) -> id

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.user.name

    def follow_id(self, kind: str, value: str) -> int | None:
        return self.follows.get((kind, value))


def session_secret(configured: str, store: Any) -> str:
    """BREAKINGON_SESSION_SECRET, or the secret kept in the store's meta (made once)."""
    if configured:
        return configured
    kept: str | None = store.get_meta(SECRET_META)
    if not kept:
        store.set_meta(SECRET_META, secrets.token_urlsafe(48))
        kept = store.get_meta(SECRET_META)  # a process starting beside this one may win
        assert kept
    return kept


def fingerprint(password_hash: str) -> str:
    """What the session remembers of the password hash: a change ends the session."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:24]


class ReaderMiddleware:
    """Puts the session's `Reader` (or None) on `scope["reader"]`."""

    def __init__(self, app: ASGIApp, store: Any) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope["reader"] = await self._reader(scope.get("session") or {})
        await self.app(scope, receive, send)

    async def _reader(self, session: dict[str, Any]) -> Reader | None:
        uid = session.get("uid")
        if not isinstance(uid, int) or not isinstance(session.get("csrf"), str):
            return None
        user = await run_in_threadpool(self.store.get_user, uid)
        if user is None or user.disabled or session.get("pw") != fingerprint(user.password_hash):
            session.clear()  # gone, disabled or a new password: signed out
            return None
        follows = await run_in_threadpool(self.store.list_follows, uid)
        return Reader(user, session["csrf"], {(f.kind, f.value): f.id for f in follows})


class CookieGuard:
    """Outside the session middleware: a response that sets (or refreshes) the session
    cookie belongs to one browser, so it is made `Cache-Control: private, no-store`
    (`Vary: Cookie`) whatever the route said, and no shared cache (a CDN, a proxy) can
    hand a reader's cookie to anyone else. Anonymous responses set no cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                if any(k.lower() == b"set-cookie" for k, _ in headers):
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers += [(b"cache-control", b"private, no-store"), (b"vary", b"Cookie")]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, guarded)


def current_reader(request: Request) -> Reader | None:
    reader = request.scope.get("reader")
    return reader if isinstance(reader, Reader) else None


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made when the session has none (the sign-in form)."""
    session = request.session
    token = session.get("csrf")
    if not isinstance(token, str) or len(token) < 16:
        token = secrets.token_urlsafe(24)
        session["csrf"] = token
    return token


def csrf_ok(request: Request, given: object) -> bool:
    """The form's (or header's) token matches the session's, compared in constant time."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not isinstance(given, str) or not given:
        return False
    return hmac.compare_digest(token.encode(), given.encode())


def sign_in(request: Request, user: User) -> None:
    """Start the reader's session (a fresh CSRF token: no fixation)."""
    request.session.clear()
    request.session.update(
        {"uid": user.id, "pw": fingerprint(user.password_hash), "csrf": secrets.token_urlsafe(24)}
    )


def sign_out(request: Request) -> None:
    request.session.clear()
