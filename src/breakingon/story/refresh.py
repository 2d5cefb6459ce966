"""When the story stage writes a story's brief again, and when it keeps the one it has.

The signals of a story (coverage, rank, breaking, sections, places, languages, headline,
dek) are recomputed on every update: they are cheap. The brief is the expensive part
(every sentence of the reports it reads is embedded and scored), so the stage keeps a
`BriefRecord` per story (the brief, the `brief_basis` it was written from, how many
reports it read, when) and `brief_decision` says what to do on the next update:

* "keep": the basis is unchanged (a new member from an outlet already in the brief, a
  syndicated copy, a non-article page): the brief would come out the same, exactly;
* "write": there is no record, the story got its first brief's second outlet, an
  article the brief cites left the story, the reports it reads shrank, or grew by at
  least `growth` (a quarter by default) since it was written, or it is `max_age_s` old;
* "defer": the basis changed by less than that within `max_age_s`: the brief stands a
  while (deliberately approximate: it lags the story by less than a quarter of its
  reports, at most `max_age_s`), and the stage updates the story again when that time
  is up, so the newest reports reach the brief without waiting for another member.

Pure: records in, a decision out (`now` is passed in).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from breakingon.records import Brief

__all__ = ["BriefRecord", "BriefRefresh", "brief_decision", "cited_ids"]

Decision = Literal["keep", "write", "defer"]


@dataclass(frozen=True, slots=True)
class BriefRefresh:
    """How long a story's brief may lag behind it (see the module docstring)."""

    growth: float = 0.25  # write again once the reports read grew by this fraction
    max_age_s: float = 300.0  # ... or once the brief is this old and its basis changed


@dataclass(frozen=True, slots=True)
class BriefRecord:
    """The brief last written for a story and what it was written from."""

    basis: str  # `story.brief.documents.brief_basis` of the members then
    brief: Brief | None  # None: fewer than two outlets then
    reports: int  # how many reports the brief read (`brief_documents`)
    written_at: datetime

    def due(self, cfg: BriefRefresh) -> datetime:
        """When a deferred rewrite of this brief falls due."""
        return self.written_at + timedelta(seconds=cfg.max_age_s)


def cited_ids(brief: Brief | None) -> set[str]:
    """The article ids a brief cites (dek, sections, notes, other languages)."""
    if brief is None:
        return set()
    sentences = [*brief.dek, *(s for sec in brief.sections for s in sec.sentences)]
    sentences += [*brief.disagreements, *(s for r in brief.other_languages for s in r.sentences)]
    return {c.article_id for s in sentences for c in s.citations}


def brief_decision(
    record: BriefRecord | None,
    basis: str,
    reports: int,
    member_ids: Collection[str],
    now: datetime,
    cfg: BriefRefresh,
) -> Decision:
    """Keep, write or defer the brief of a story whose members now have `basis`, read
    `reports` reports and have the ids `member_ids` (as strings, as citations hold)."""
    if record is None:
        return "write"
    if record.basis == basis:
        return "keep"
    if record.brief is None or reports < record.reports:
        return "write"
    if not cited_ids(record.brief) <= set(member_ids):
        return "write"  # it cites an article that left the story
    if reports >= record.reports * (1.0 + cfg.growth):
        return "write"
    if now >= record.due(cfg):
        return "write"
    return "defer"
