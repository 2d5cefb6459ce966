"""The template environment, the render context of a request and the headline helpers.

Shared by the HTML pages (`web.pages`) and the outbound feeds (`web.feedpages`): the Jinja2
environment (autoescape on, undefined names are errors) and its filters, `Ctx` (store,
templates, public base URL, settings and clock of one request), `page` (a template with the
site's chrome) and the text helpers that make cut headlines whole.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.requests import Request

from breakingon.records import Story
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


_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.;:!?])")
_SENTENCE_END = re.compile(r"[.!?][\"”’)]*(?=\s|$)")
_ELLIPSIS = ("…", "...")
MAX_HEADLINE = 220  # longer sentences stay cut: a headline, not a paragraph


def norm(text: str) -> str:
    return _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join(text.split()))


def full_headline(headline: str, dek: str) -> str:
    """A headline cut with "…" made whole from the dek when the dek begins with it (the
    cut text's sentence, up to MAX_HEADLINE characters); otherwise the headline as is."""
    if not headline or not dek or not headline.endswith(_ELLIPSIS):
        return headline
    stem = norm(headline.removesuffix("...").removesuffix("…")).rstrip(" ,;:")
    text = norm(dek)
    if len(stem) < 12 or not text.casefold().startswith(stem.casefold()):
        return headline
    end = _SENTENCE_END.search(text, len(stem))
    whole = text[: end.end()] if end else text
    return whole if len(whole) <= MAX_HEADLINE else headline


def dek_after(dek: str, headline: str) -> str:
    """The dek without the sentence the headline already shows ("" when nothing is left)."""
    text, head = norm(dek), norm(headline).removesuffix("…").removesuffix("...")
    if head and text.casefold().startswith(head.casefold()):
        return text[len(head) :].lstrip(" .,;:") if not headline.endswith(_ELLIPSIS) else dek
    return dek


def whole_headlines(store: Store, stories: Sequence[Story]) -> list[Story]:
    """The stories with cut headlines ("…") made whole where the dek or the representative
    article's text begins with them (see `full_headline`); others unchanged."""
    out = []
    for s in stories:
        headline = full_headline(s.headline, s.dek)
        if headline.endswith(_ELLIPSIS) and s.representative_article_id is not None:
            a = store.get_article(s.representative_article_id)
            if a is not None:
                headline = full_headline(headline, a.text[:2000])
        if headline.endswith(_ELLIPSIS):  # the headline came from another member article
            for a in store.story_articles(s.id, limit=50):
                headline = full_headline(headline, a.text[:2000])
                if not headline.endswith(_ELLIPSIS):
                    break
        out.append(s if headline == s.headline else replace(s, headline=headline))
    return out


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
    env.filters["full_headline"] = full_headline
    env.filters["dek_after"] = dek_after
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
