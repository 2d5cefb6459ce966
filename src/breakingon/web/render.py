"""The template environment and the render context of a request.

Shared by the HTML pages (`web.pages`) and the outbound feeds (`web.feedpages`): the Jinja2
environment (autoescape on, undefined names are errors) and its filters, `Ctx` (store,
templates, public base URL, settings and clock of one request) and `page` (a template with
the site's chrome). Headlines and deks are shown as the story stage stored them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request

from breakingon.store.base import Store
from breakingon.web.api import safe_url
from breakingon.web.cache import Rendered
from breakingon.web.params import SECTIONS

TEMPLATES = Path(__file__).parent / "templates"
HTML = "text/html; charset=utf-8"


# -- templates -----------------------------------------------------------------------------


def _plural(n: int, unit: str, units: str = "") -> str:
    return f"{n:,} {unit if n == 1 else (units or unit + 's')}"


def _age(dt: datetime | None, now: datetime) -> str:
    """How long ago, as a reader says it; a date once it is over a week old."""
    if dt is None:
        return ""
    secs = max(0, int((now - dt).total_seconds()))
    if secs < 60:
        return "just now"
    if secs < 3600:
        return f"{secs // 60} min ago"
    if secs < 86400:
        return _plural(secs // 3600, "hour") + " ago"
    if secs < 2 * 86400:
        return "yesterday"
    if secs < 7 * 86400:
        return f"{secs // 86400} days ago"
    day = dt.astimezone(UTC)
    return f"{day.day} {day:%b}" + ("" if day.year == now.year else f" {day.year}")


def _human(dt: datetime | None) -> str:
    return dt.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC") if dt is not None else ""


def _iso(dt: datetime | None) -> str:
    return dt.astimezone(UTC).isoformat() if dt is not None else ""


def make_environment() -> Environment:
    """The Jinja2 environment: autoescape always on, undefined names are errors."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["human"] = _human
    env.filters["iso"] = _iso
    env.filters["href"] = safe_url
    env.filters["urlpart"] = lambda s: quote(str(s), safe="")
    env.filters["count"] = _plural
    env.filters["label"] = lambda s: str(s).replace("_", " ").capitalize()
    return env


@dataclass(frozen=True, slots=True)
class Ctx:
    store: Store
    env: Environment
    base: str
    settings: Any
    now: datetime


def ctx(request: Request) -> Ctx:
    st = request.app.state
    return Ctx(
        store=st.store,
        env=st.templates,
        base=st.settings.public_base_url.rstrip("/"),
        settings=st.settings,
        now=st.clock(),
    )


def page(c: Ctx, template: str, status: int = 200, **values: Any) -> Rendered:
    s = c.settings
    body = c.env.get_template(template).render(
        site_name=s.site_name,
        site_about=s.site_about,
        site_copyright=s.site_copyright,
        base=c.base,
        sections=SECTIONS,
        now=c.now,
        age=lambda dt: _age(dt, c.now),
        **values,
    )
    return Rendered(status, body.encode("utf-8"), HTML)
