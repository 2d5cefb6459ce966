"""Request parameters of the API and the HTML pages: parsing, validation, clamping.

Each parser takes the raw query-string value (or None) and returns a typed value or
raises `ParamError` naming the parameter; the app turns that into a 422 (API) or a 400
error page (HTML). Pagination is clamped (limit 1..100, offset 0..1,000,000; the pages'
`page` 1..10,000), ids are bounded
to what the database columns hold, times are RFC 3339 converted to UTC.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from importlib import resources

from starlette.requests import Request

from breakingon.store.base import StoryQuery


def _taxonomy() -> tuple[str, ...]:
    text = resources.files("breakingon").joinpath("data/sections.json").read_text("utf-8")
    return tuple(json.loads(text)["labels"])


SECTIONS = _taxonomy()  # the section taxonomy the classifier tags with (data/sections.json)
MAX_LIMIT = 100
MAX_OFFSET = 1_000_000
MAX_QUERY = 500
MAX_ID = 2**31 - 1  # PostgreSQL integer columns
_INT = re.compile(r"^[+-]?[0-9]+$")
_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
)
COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
# A query needs one character that is neither white space nor a control character. The
# same class in Python and in ECMA-262 (the OpenAPI pattern): Python's \s adds \x1c-\x1f
# and \x85 (excluded as controls here) and lacks \ufeff (excluded explicitly).
QUERY_PATTERN = r"[^\s\x00-\x1f\x7f-\x9f\ufeff]"
_HAS_TEXT = re.compile(QUERY_PATTERN)
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class ParamError(ValueError):
    """A request parameter is invalid; the app turns it into a 422 (API) or a 400 (pages)."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__(f"{parameter}: {detail}")
        self.parameter = parameter
        self.detail = detail


# -- parameter parsing (shared with the pages) ------------------------------------------------


def query_param(request: Request, name: str) -> str | None:
    values = request.query_params.getlist(name)
    return values[-1] if values else None


def _int_text(name: str, raw: str) -> tuple[int, bool]:
    """(value, exact): huge integers are not converted (int() refuses > 4300 digits)."""
    text = raw.strip()
    if not _INT.match(text):
        raise ParamError(name, "expected an integer")
    digits = text.lstrip("+-").lstrip("0")
    if len(digits) > 18:
        return (-(10**18) if text.startswith("-") else 10**18), False
    return int(text), True


def parse_limit(raw: str | None, default: int = 20) -> int:
    """Clamp to 1..100; non-integers are a ParamError."""
    if raw is None or raw == "":
        return default
    value, _ = _int_text("limit", raw)
    return max(1, min(MAX_LIMIT, value))


def parse_offset(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    value, _ = _int_text("offset", raw)
    if value < 0:
        raise ParamError("offset", "must be >= 0")
    if value > MAX_OFFSET:
        raise ParamError("offset", f"must be <= {MAX_OFFSET}")
    return value


MAX_PAGE = 10_000


def parse_page(raw: str | None) -> int:
    """A page number of a listing (`?page=N`): a whole number from 1 to `MAX_PAGE`;
    absent or empty is page 1. Anything else is a ParamError naming "page"."""
    if raw is None or not raw.strip():
        return 1
    detail = f"expected a page number from 1 to {MAX_PAGE:,}"
    try:
        value, exact = _int_text("page", raw)
    except ParamError:
        raise ParamError("page", detail) from None
    if not exact or not (1 <= value <= MAX_PAGE):
        raise ParamError("page", detail)
    return value


def parse_id(name: str, raw: str | None) -> int | None:
    """A positive database id (1..2**31-1), or None when absent."""
    if raw is None or raw == "":
        return None
    value, exact = _int_text(name, raw)
    if not exact or not (1 <= value <= MAX_ID):
        raise ParamError(name, f"expected an integer between 1 and {MAX_ID}")
    return value


def parse_since(raw: str | None) -> datetime | None:
    """An RFC 3339 date-time, converted to UTC (clamped to the representable range)."""
    if raw is None or raw == "":
        return None
    m = _RFC3339.match(raw.strip())
    if not m:
        raise ParamError("since", "expected an RFC 3339 date-time, e.g. 2026-01-31T12:00:00Z")
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    try:
        local = datetime(max(1, y), mo, d, h, mi, min(s, 59))
    except ValueError as exc:
        raise ParamError("since", str(exc)) from None
    zone = m.group(8)
    offset = timedelta(0)
    if zone not in ("Z", "z"):
        sign = -1 if zone[0] == "-" else 1
        hours, minutes = int(zone[1:3]), int(zone[4:6])
        if hours > 23 or minutes > 59:
            raise ParamError("since", "bad UTC offset")
        offset = sign * timedelta(hours=hours, minutes=minutes)
    try:
        return (local - offset).replace(tzinfo=UTC)
    except OverflowError:
        return (datetime.min if offset > timedelta(0) else datetime.max).replace(tzinfo=UTC)


def parse_bool(name: str, raw: str | None) -> bool | None:
    if raw is None or raw == "":
        return None
    low = raw.strip().lower()
    if low in ("true", "1", "yes"):
        return True
    if low in ("false", "0", "no"):
        return False
    raise ParamError(name, "expected true or false")


def parse_section(raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    if raw not in SECTIONS:
        raise ParamError("section", f"expected one of {', '.join(SECTIONS)}")
    return raw


def parse_query_text(raw: str | None, required: bool = True) -> str:
    """A search query: at most 500 characters, control characters dropped."""
    if raw is None or not _HAS_TEXT.search(raw):
        if required:
            raise ParamError("q", "a search query is required")
        return ""
    if len(raw) > MAX_QUERY:
        raise ParamError("q", f"at most {MAX_QUERY} characters")
    return CONTROL_CHARS.sub(" ", raw).strip()


def parse_language(raw: str | None) -> str | None:
    """A language filter (`?language=de`): an ISO 639 code of 2-3 lower-case letters, or
    None when absent or empty. Anything else is a ParamError naming "language"."""
    if raw is None or raw == "":
        return None
    if not _LANGUAGE.match(raw):
        raise ParamError("language", "expected an ISO 639 code (2-3 lower-case letters)")
    return raw


def story_query(request: Request, now: datetime) -> StoryQuery:
    """The StoryQuery for /api/stories from its (validated, clamped) parameters."""
    country = query_param(request, "country")
    if country and not COUNTRY_CODE.match(country):
        raise ParamError("country", "expected an ISO 3166 alpha-2 code")
    language = parse_language(query_param(request, "language"))
    breaking = parse_bool("breaking", query_param(request, "breaking"))
    order = query_param(request, "order") or "score"
    if order not in ("score", "recent"):
        raise ParamError("order", "expected score or recent")
    return StoryQuery(
        section=parse_section(query_param(request, "section")),
        geonameid=parse_id("place", query_param(request, "place")),
        country=country.upper() if country else None,
        language=language or None,
        since=parse_since(query_param(request, "since")),
        breaking_at=now if breaking else None,
        order="recent" if order == "recent" else "score",
        limit=parse_limit(query_param(request, "limit")),
        offset=parse_offset(query_param(request, "offset")),
    )
