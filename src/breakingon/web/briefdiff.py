"""The "what changed" view of a story: each stored brief version against the one before,
as a readable diff (difflib).

A brief is read as a sequence of lines: its dek sentences, then each section's heading
and sentences. Lines are matched with `difflib.SequenceMatcher`; a run of unchanged
sentences is collapsed to a count, a removed or added sentence is one `del` or `ins`
line, and a sentence that was reworded (a replaced line at least half the same words as
one it replaced) is one line with only the changed words marked. A version whose wording
did not change (only its citations or credits did) says so instead of repeating the
brief. Pure: versions in, plain records out; a few dozen sentences per version, cheap.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from breakingon.records import Brief
from breakingon.store.base import BriefVersion

PieceKind = Literal["same", "ins", "del"]
LineKind = Literal["same", "ins", "del", "edit", "skip"]
REWORDED = 0.5  # word-level similarity from which a replaced sentence counts as reworded
MAX_VERSIONS = 30  # the newest versions shown


@dataclass(frozen=True, slots=True)
class Piece:
    kind: PieceKind
    text: str


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a diff: a sentence or a heading (same, added, removed or reworded),
    or `skip`, a run of `skipped` unchanged sentences."""

    kind: LineKind
    pieces: tuple[Piece, ...] = ()
    heading: bool = False
    skipped: int = 0


@dataclass(frozen=True, slots=True)
class VersionDiff:
    version: BriefVersion
    lines: tuple[Line, ...]
    added: int
    removed: int
    reworded: int
    first: bool  # the first version: its text, nothing to compare with
    new_credits: tuple[str, ...]  # outlets credited now that were not before

    @property
    def wording_changed(self) -> bool:
        return self.first or bool(self.added or self.removed or self.reworded)


_Item = tuple[bool, str]  # (is a heading, text)


def _items(brief: Brief) -> list[_Item]:
    out: list[_Item] = [(False, s.text) for s in brief.dek]
    for sec in brief.sections:
        out.append((True, sec.heading))
        out.extend((False, s.text) for s in sec.sentences)
    return out


def _words(text: str) -> list[str]:
    return text.split()


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _words(a), _words(b), autojunk=False).ratio()


def word_diff(old: str, new: str) -> tuple[Piece, ...]:
    """`old` -> `new` word by word: unchanged words once, removed and added words marked."""
    a, b = _words(old), _words(new)
    pieces: list[Piece] = []

    def add(kind: PieceKind, words: Sequence[str]) -> None:
        if not words:
            return
        text = " ".join(words)
        if pieces and pieces[-1].kind == kind:
            pieces[-1] = Piece(kind, pieces[-1].text + " " + text)
        else:
            pieces.append(Piece(kind, text))

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            add("same", a[i1:i2])
        else:
            add("del", a[i1:i2])
            add("ins", b[j1:j2])
    return _spaced(pieces)


def _spaced(pieces: list[Piece]) -> tuple[Piece, ...]:
    """The pieces with one space between each two, kept in unchanged text where there is
    some (a marked piece holds only its words), so the line reads as one sentence."""
    out: list[Piece] = []
    for p in pieces:
        if out:
            if out[-1].kind == "same":
                out[-1] = Piece("same", out[-1].text + " ")
            elif p.kind == "same":
                p = Piece("same", " " + p.text)
            else:
                out.append(Piece("same", " "))
        out.append(p)
    return tuple(out)


def _replace(old: list[_Item], new: list[_Item]) -> list[tuple[Line, str]]:
    """A replaced block: pair each new line with the most similar unpaired old line of
    the same kind (reworded when similar enough); the rest are removed or added."""
    pairs: dict[int, int] = {}
    used: set[int] = set()
    for j, (head_j, text_j) in enumerate(new):
        best, best_i = REWORDED, -1
        for i, (head_i, text_i) in enumerate(old):
            if i in used or head_i != head_j:
                continue
            sim = _similarity(text_i, text_j)
            if sim >= best:
                best, best_i = sim, i
        if best_i >= 0:
            pairs[j] = best_i
            used.add(best_i)
    out: list[tuple[Line, str]] = [
        (Line("del", (Piece("del", text),), head), "del")
        for i, (head, text) in enumerate(old)
        if i not in used
    ]
    for j, (head, text) in enumerate(new):
        if j in pairs:
            out.append((Line("edit", word_diff(old[pairs[j]][1], text), head), "edit"))
        else:
            out.append((Line("ins", (Piece("ins", text),), head), "ins"))
    return out


def diff_briefs(old: Brief, new: Brief) -> tuple[list[Line], dict[str, int]]:
    """The lines of `old` -> `new` and how many sentences were added, removed, reworded."""
    a, b = _items(old), _items(new)
    lines: list[Line] = []
    counts = {"ins": 0, "del": 0, "edit": 0}
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            run = 0
            for head, text in b[j1:j2]:
                if head:  # headings stay as context; sentences collapse to a count
                    if run:
                        lines.append(Line("skip", skipped=run))
                        run = 0
                    lines.append(Line("same", (Piece("same", text),), True))
                else:
                    run += 1
            if run:
                lines.append(Line("skip", skipped=run))
            continue
        for line, kind in _replace(a[i1:i2], b[j1:j2]):
            lines.append(line)
            if not line.heading:
                counts[kind] += 1
    return lines, counts


def version_diffs(versions: Sequence[BriefVersion]) -> list[VersionDiff]:
    """Each version against the one before, newest first (at most `MAX_VERSIONS`)."""
    ordered = sorted(versions, key=lambda v: v.version)
    out: list[VersionDiff] = []
    previous: BriefVersion | None = None
    for v in ordered:
        if previous is None:
            lines = [Line("same", (Piece("same", text),), head) for head, text in _items(v.brief)]
            out.append(VersionDiff(v, tuple(lines), 0, 0, 0, True, ()))
        else:
            lines, counts = diff_briefs(previous.brief, v.brief)
            before = set(previous.brief.credits)
            credits = tuple(c for c in v.brief.credits if c not in before)
            if not (counts["ins"] or counts["del"] or counts["edit"]):
                lines = []
            out.append(
                VersionDiff(
                    v, tuple(lines), counts["ins"], counts["del"], counts["edit"], False, credits
                )
            )
        previous = v
    return list(reversed(out))[:MAX_VERSIONS]


def summary(d: VersionDiff) -> str:
    """'2 sentences added, 1 removed, 1 reworded.' (or what else changed)."""
    if d.first:
        return "First version of the brief."
    parts = [
        f"{n} {verb}"
        for n, verb in ((d.added, "added"), (d.removed, "removed"), (d.reworded, "reworded"))
        if n
    ]
    if not parts:
        return "Wording unchanged; sources or credits updated."
    first_n = int(parts[0].split()[0])
    parts[0] = parts[0].replace(" ", " sentence " if first_n == 1 else " sentences ", 1)
    return ", ".join(parts) + "."
