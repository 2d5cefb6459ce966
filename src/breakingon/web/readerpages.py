"""Signing in and following on the site: /signin, /signout, /follow, /unfollow, /following.

Forms are POSTs carrying the session's CSRF token (403 without it); a malformed form is
a 400 and changes nothing. A reader acts only on their own follows: every store call
carries the signed-in reader's id. The password is checked with argon2 through the
accounts module (an unknown name costs the same check, so timing tells nothing); a
wrong name or password is one 401 message for both. Signed-in pages are never cached
for anyone else (see `web.session`). Handlers parse, make their store calls in a worker
thread and render.
"""

from __future__ import annotations

import functools

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from breakingon.accounts import hash_password, verify_password
from breakingon.store.base import TooManyFollows
from breakingon.web.following import follow_target, new_in, stream_url
from breakingon.web.params import ParamError, parse_id
from breakingon.web.render import HTML, ctx, page
from breakingon.web.security import safe_next
from breakingon.web.session import Reader, csrf_ok, csrf_token, current_reader, sign_in, sign_out

MAX_FIELDS = 20
MAX_FIELD = 2_000


@functools.cache
def _dummy_hash() -> str:
    """A hash to check an unknown name's password against (the same cost as a real one)."""
    return hash_password("not-a-real-password-at-all")


def private(body: bytes, status: int = 200) -> Response:
    """A page for one reader: never stored by a cache."""
    headers = {"Cache-Control": "private, no-store", "Vary": "Cookie"}
    return Response(body, status_code=status, media_type=HTML, headers=headers)


async def read_form(request: Request) -> dict[str, str]:
    """The form's fields (the last of repeated names); 400 for anything but plain text
    fields of bounded size and number."""
    ctype = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if ctype not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise HTTPException(400, "expected a form (application/x-www-form-urlencoded)")
    form = await request.form(max_files=0, max_fields=MAX_FIELDS)
    out: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str) or len(value) > MAX_FIELD:
            raise HTTPException(400, f"field {key!r}: plain text of at most {MAX_FIELD} characters")
        out[key] = value
    return out


def field(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if value is None:
        raise ParamError(name, "required")
    return value


async def checked_form(request: Request) -> tuple[Reader, dict[str, str]]:
    """The signed-in reader and their form, CSRF checked (401 / 403 otherwise)."""
    reader = current_reader(request)
    if reader is None:
        raise HTTPException(401, "Sign in first: /signin")
    form = await read_form(request)
    if not csrf_ok(request, form.get("csrf")):
        raise HTTPException(403, "The form has expired: reload the page and try again.")
    return reader, form


def signin_page(request: Request, status: int = 200, message: str = "", name: str = "") -> Response:
    c = ctx(request)
    nxt = safe_next(request.query_params.get("next"), "/following")
    r = page(
        c,
        "signin.html",
        status,
        title="Sign in",
        canonical="",
        csrf=csrf_token(request),
        next=nxt,
        message=message,
        name=name,
    )
    return private(r.body, status)


async def signin(request: Request) -> Response:
    if request.method == "GET":
        return signin_page(request)
    form = await read_form(request)
    if not csrf_ok(request, form.get("csrf")):
        return signin_page(request, 403, "The form has expired: try again.")
    name, password = field(form, "name").strip(), field(form, "password")
    store = request.app.state.store
    user = await run_in_threadpool(store.find_user, name) if 0 < len(name) <= 64 else None
    stored = user.password_hash if user is not None else _dummy_hash()
    good = await run_in_threadpool(verify_password, stored, password)
    if user is None or user.disabled or not good:
        return signin_page(request, 401, "Wrong name or password.", name[:64])
    sign_in(request, user)
    return RedirectResponse(safe_next(form.get("next"), "/following"), status_code=303)


async def signout(request: Request) -> Response:
    form = await read_form(request)
    if not csrf_ok(request, form.get("csrf")):
        raise HTTPException(403, "The form has expired: reload the page and try again.")
    sign_out(request)
    return RedirectResponse("/", status_code=303)


async def follow(request: Request) -> Response:
    reader, form = await checked_form(request)
    c = ctx(request)
    kind = field(form, "kind")
    value, title = await run_in_threadpool(follow_target, c.store, kind, form.get("value", ""))
    try:
        await run_in_threadpool(c.store.add_follow, reader.id, kind, value, title, c.now)  # type: ignore[arg-type]
    except TooManyFollows as exc:
        raise HTTPException(409, str(exc)) from None
    return RedirectResponse(safe_next(form.get("next"), stream_url(kind, value)), status_code=303)


async def unfollow(request: Request) -> Response:
    reader, form = await checked_form(request)
    store = request.app.state.store
    back = "/following"
    if "follow_id" in form:
        fid = parse_id("follow_id", form["follow_id"])
    else:
        kind, value = field(form, "kind"), form.get("value", "")
        fid, back = reader.follow_id(kind, value), stream_url(kind, value)
    if fid is None or not await run_in_threadpool(store.remove_follow, reader.id, fid):
        raise HTTPException(404, "You do not follow that.")
    return RedirectResponse(safe_next(form.get("next"), back), status_code=303)


async def following(request: Request) -> Response:
    reader = current_reader(request)
    if reader is None:
        return RedirectResponse("/signin?next=/following", status_code=303)
    c = ctx(request)

    def render() -> bytes:
        follows = c.store.list_follows(reader.id)
        items = [new_in(c.store, f, c.now) for f in follows]
        for f in follows:  # this visit is the reader's "last visit" from now on
            c.store.set_follow_seen(reader.id, f.id, c.now)
        return page(c, "following.html", title="Following", canonical="", items=items).body

    return private(await run_in_threadpool(render))


def routes() -> list[BaseRoute]:
    return [
        Route("/signin", signin, methods=["GET", "POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/follow", follow, methods=["POST"]),
        Route("/unfollow", unfollow, methods=["POST"]),
        Route("/following", following, methods=["GET"]),
    ]
