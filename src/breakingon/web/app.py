"""The web application: `create_app(settings, store)` returns the Starlette app.

Composes the HTML pages (`web.pages`, templates from `web.render`), signing in and
following (`web.readerpages`, sessions in `web.session`), readers' alerts
(`web.alertpages`), the feeds out (`web.feedpages`), the JSON API (`web.api`), the static
files, the response cache (`web.cache`) and the hardening middleware (`web.security`,
wrapped outermost so even error responses carry the security headers). Operations routes
(`/healthz`, `/metrics`) are not defined here: the ops layer passes them in through
`extra_routes` (the hook below). This module reads no environment and opens no sockets.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp

from breakingon.alerts.webpush import public_key_of
from breakingon.crawl.netpolicy import NetPolicy, Resolver, SystemResolver
from breakingon.settings import Network, Settings
from breakingon.sources.catalogue import MAX_OPML_BYTES
from breakingon.store.base import Store
from breakingon.web import (
    alertpages,
    api,
    feedpages,
    fever,
    greader,
    me,
    media,
    pages,
    reader_auth,
    readerpages,
    render,
)
from breakingon.web.cache import ResponseCache
from breakingon.web.params import ParamError
from breakingon.web.security import (
    DEFAULT_MAX_BODY,
    SECURITY_HEADERS,
    BodyTooLarge,
    SecurityMiddleware,
)
from breakingon.web.session import (
    COOKIE,
    MAX_AGE_S,
    CookieGuard,
    ReaderMiddleware,
    session_secret,
)

STATIC = Path(__file__).parent / "static"
SEARCH_CACHE_ENTRIES = 512  # searches evict only searches past this many entries


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _App(Starlette):
    """Starlette with the security middleware outside its error handling."""

    security_options: dict[str, Any]

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityMiddleware(super().build_middleware_stack(), **self.security_options)


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return path.startswith("/api/") or path == "/openapi.json" or "/feed." in path


async def _param_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ParamError)
    if _wants_json(request):
        return api.error_response(422, "invalid_parameter", exc.detail, parameter=exc.parameter)
    return pages.error_page(request, 400, f"Invalid {exc.parameter}: {exc.detail}")


async def _too_large(request: Request, exc: Exception) -> Response:
    return api.error_response(413, "body_too_large")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if _wants_json(request):
        codes = {404: "not_found", 405: "method_not_allowed"}
        resp: Response = api.error_response(exc.status_code, codes.get(exc.status_code, "error"))
    elif exc.status_code == 404:
        resp = pages.not_found_page(request)
    else:
        resp = pages.error_page(request, exc.status_code, str(exc.detail))
    if exc.headers:
        resp.headers.update(exc.headers)
    return resp


def create_app(
    settings: Settings,
    store: Store,
    *,
    extra_routes: Sequence[BaseRoute] = (),
    resolver: Resolver | None = None,
    trusted_proxies: Sequence[Network] | None = None,
    clock: Callable[[], datetime] = _utcnow,
    cache_ttl_s: float = 10.0,
) -> Starlette:
    """Build the site + API app over `store`.

    - `extra_routes`: HOOK for the ops layer (`/healthz`, `/metrics`, ...); they are
      matched before the site's routes and get the same security headers.
    - `resolver`: the DNS resolver the admin API's SSRF check uses (tests pass a fake).
    - `trusted_proxies`: peers whose `X-Forwarded-For` is believed for rate limiting
      (default: `settings.trusted_proxies`, BREAKINGON_TRUSTED_PROXIES).
    - `clock`: the current time (tests pin it).
    """
    routes: list[BaseRoute] = [
        *extra_routes,
        *api.routes(),
        *greader.routes(),
        *fever.routes(),
        *me.routes(),
        *pages.routes(),
        *readerpages.routes(),
        *alertpages.routes(),
        *feedpages.routes(),
        *media.routes(),
        Mount("/static", app=StaticFiles(directory=str(STATIC)), name="static"),
    ]
    readers = [
        Middleware(CookieGuard),
        Middleware(
            SessionMiddleware,
            secret_key=session_secret(settings.session_secret, store),
            session_cookie=COOKIE,
            max_age=MAX_AGE_S,
            same_site="lax",
            https_only=settings.public_base_url.startswith("https://"),
        ),
        Middleware(ReaderMiddleware, store=store),
    ]
    app = _App(
        routes=routes,
        middleware=readers,
        exception_handlers={
            ParamError: _param_error,
            HTTPException: _http_error,
            BodyTooLarge: _too_large,
        },
    )
    app.security_options = {
        "rate_limit_per_min": settings.rate_limit_per_min,
        "max_body_bytes": DEFAULT_MAX_BODY,
        "body_limits": {"/api/admin/opml": MAX_OPML_BYTES},
        "trusted_proxies": tuple(
            settings.trusted_proxies if trusted_proxies is None else trusted_proxies
        ),
        "search_rate_limit_per_min": settings.search_rate_limit_per_min,
        "search_concurrency": settings.search_concurrency,
        "private_cookie": COOKIE,
    }
    cache = ResponseCache(
        store.last_change,
        ttl_s=cache_ttl_s,
        fast_headers=SECURITY_HEADERS,
        partition_limits={"search": SEARCH_CACHE_ENTRIES},
    )
    app.security_options["fast_path"] = cache.lookup
    app.state.settings = settings
    app.state.store = store
    app.state.clock = clock
    app.state.templates = render.make_environment(settings.brief_language, settings.site_language)
    app.state.cache = cache
    app.state.login_limiter = reader_auth.login_limiter()
    app.state.resolver = resolver if resolver is not None else SystemResolver()
    app.state.net_policy = NetPolicy(allow_networks=tuple(settings.fetch_allow_networks))
    key = settings.vapid_private_key
    app.state.vapid_public_key = public_key_of(key) if key else ""
    return app
