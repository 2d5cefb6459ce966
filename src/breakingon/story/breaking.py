"""Breaking news: flag a story when its coverage starts fast or surges; the flag expires.

Rules (all in `BreakingSettings`):
- fast start: at least `min_outlets` independent outlets within `window_min` minutes
  of the story's first report;
- surge: at least `surge_min_outlets` new independent outlets within `surge_window_min`
  minutes, and at least `surge_factor` times the rate of the `baseline_h` hours before;
- the flag holds for `expire_h` hours after the last trigger.

Independent outlets come from `rank.independent_reports` (syndicated copies count once).
`replay_breaking` replays a time-ordered stream with story assignments and reports, for
each flag, the delay from the report that made the story breaking to the flag.

Pure: `now` is always passed in; no store, no network, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from breakingon.story.rank import Coverage, CoverageItem, Report, independent_reports


@dataclass(frozen=True, slots=True)
class BreakingSettings:
    min_outlets: int = 3  # fast start: this many independent outlets ...
    window_min: float = 30.0  # ... within this many minutes of the first report
    surge_min_outlets: int = 5  # surge: this many new outlets ...
    surge_window_min: float = 60.0  # ... within this window ...
    surge_factor: float = 4.0  # ... at this multiple of the baseline hourly rate
    baseline_h: float = 6.0
    expire_h: float = 6.0


@dataclass(frozen=True, slots=True)
class BreakingFlag:
    is_breaking: bool
    since: datetime | None = None  # first trigger of the current (or last) episode
    until: datetime | None = None  # when the flag expires
    reason: str = ""
    trigger_report: datetime | None = None  # publication time of the report that triggered it


def _triggers(reports: Sequence[Report], cfg: BreakingSettings) -> list[tuple[datetime, str]]:
    """Every time (a report's publication) at which a rule fires, with its reason."""
    out: list[tuple[datetime, str]] = []
    if not reports:
        return out
    first = reports[0].published
    window = timedelta(minutes=cfg.window_min)
    if len(reports) >= cfg.min_outlets:
        kth = reports[cfg.min_outlets - 1]
        if kth.published - first <= window:
            mins = (kth.published - first).total_seconds() / 60.0
            out.append(
                (
                    kth.published,
                    f"fast start: {cfg.min_outlets} independent outlets within "
                    f"{mins:.0f} min of the first report",
                )
            )
    sw = timedelta(minutes=cfg.surge_window_min)
    base = timedelta(hours=cfg.baseline_h)
    lo = 0
    for hi, r in enumerate(reports):
        t = r.published
        while reports[lo].published < t - sw:
            lo += 1
        in_window = hi - lo + 1
        if in_window < cfg.surge_min_outlets:
            continue
        before = sum(1 for x in reports[:lo] if x.published >= t - sw - base)
        base_rate = before / cfg.baseline_h  # outlets per hour
        window_rate = in_window / (cfg.surge_window_min / 60.0)
        if window_rate >= cfg.surge_factor * max(base_rate, 1e-9) and lo > 0:
            out.append(
                (
                    t,
                    f"surge: {in_window} new outlets in {cfg.surge_window_min:.0f} min, "
                    f"against {before} in the {cfg.baseline_h:g} h before",
                )
            )
    out.sort(key=lambda p: p[0])
    return out


def breaking_state(
    coverage: Coverage, now: datetime, cfg: BreakingSettings | None = None
) -> BreakingFlag:
    """Whether the story is breaking at `now`, since when, until when, and why."""
    cfg = cfg or BreakingSettings()
    reports = independent_reports(coverage, until=now)
    triggers = _triggers(reports, cfg)
    if not triggers:
        return BreakingFlag(False)
    expire = timedelta(hours=cfg.expire_h)
    # Group triggers into episodes: a trigger inside a live flag extends it.
    since, until, reason, trig = (
        triggers[0][0],
        triggers[0][0] + expire,
        triggers[0][1],
        triggers[0][0],
    )
    for t, why in triggers[1:]:
        if t <= until:
            until = t + expire
        else:
            since, until, reason, trig = t, t + expire, why, t
    return BreakingFlag(since <= now < until, since, until, reason, trig)


@dataclass(frozen=True, slots=True)
class StreamArticle:
    """One article of a replayed stream, with its story assignment."""

    story: str
    outlet: str
    published: datetime
    seen: datetime | None = None  # when the pipeline saw it (defaults to `published`)
    country: str = ""
    article_id: str = ""
    copy_of: str = ""


@dataclass(frozen=True, slots=True)
class FlagEvent:
    story: str
    trigger_published: datetime  # the report that made the story breaking
    flagged_at: datetime  # when the replayed detector raised the flag
    reason: str

    @property
    def delay_s(self) -> float:
        return (self.flagged_at - self.trigger_published).total_seconds()


@dataclass(frozen=True, slots=True)
class ReplayResult:
    flags: tuple[FlagEvent, ...]
    evaluations: int  # how many times breaking_state ran


def replay_breaking(
    stream: Iterable[StreamArticle], cfg: BreakingSettings | None = None, tick_s: float = 0.0
) -> ReplayResult:
    """Replay `stream` in order of `seen`, re-evaluating a story whenever a member arrives.

    With `tick_s > 0` the evaluation of an arrival waits for the next multiple of
    `tick_s` seconds (a periodic signals pass) instead of running at once. Each new
    episode of a flag is one `FlagEvent`.
    """
    cfg = cfg or BreakingSettings()
    arts = sorted(stream, key=lambda a: (a.seen or a.published, a.story, a.article_id))
    members: dict[str, list[CoverageItem]] = {}
    flagged_since: dict[str, datetime] = {}
    flags: list[FlagEvent] = []
    evals = 0
    for a in arts:
        seen = a.seen or a.published
        at = seen
        if tick_s > 0:
            epoch = seen.timestamp()
            rem = epoch % tick_s
            if rem:
                at = seen + timedelta(seconds=tick_s - rem)
        members.setdefault(a.story, []).append(
            CoverageItem(
                outlet=a.outlet,
                published=a.published,
                country=a.country,
                article_id=a.article_id,
                copy_of=a.copy_of,
            )
        )
        state = breaking_state(Coverage(tuple(members[a.story])), at, cfg)
        evals += 1
        if state.is_breaking and state.since is not None:
            if flagged_since.get(a.story) != state.since:
                flagged_since[a.story] = state.since
                assert state.trigger_report is not None
                flags.append(FlagEvent(a.story, state.trigger_report, at, state.reason))
    return ReplayResult(tuple(flags), evals)
