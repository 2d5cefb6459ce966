"""The "what changed" diff: unchanged text folded, removed and added text marked, a
reworded sentence marked word by word, newest version first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from breakingon.records import Brief, BriefSection, BriefSentence, Citation
from breakingon.store.base import BriefVersion
from breakingon.web.briefdiff import Piece, diff_briefs, summary, version_diffs, word_diff

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def _brief(
    dek: list[str], sections: dict[str, list[str]], credits: tuple[str, ...] = ("A",)
) -> Brief:
    def sent(t: str) -> BriefSentence:
        return BriefSentence(t, (Citation("1"),))

    return Brief(
        headline="H",
        dek=tuple(sent(t) for t in dek),
        sections=tuple(BriefSection(h, tuple(sent(t) for t in ss)) for h, ss in sections.items()),
        credits=credits,
    )


def _version(n: int, brief: Brief) -> BriefVersion:
    return BriefVersion(n, T0 + timedelta(hours=n), 2 * n, brief)


FACTS = [f"Fact number {i} was reported by the agency." for i in range(6)]
OLD = _brief(
    ["A quake struck near the city on Monday, killing 12 people."],
    {"What happened": FACTS, "Reactions": ["The mayor called for calm."]},
)
NEW = _brief(
    ["A quake struck near the city on Monday, killing at least 15 people."],
    {
        "What happened": [*FACTS, "Rescuers searched the rubble overnight."],
        "What comes next": ["Schools stay closed until Friday."],
    },
    credits=("A", "B"),
)


def test_word_diff_marks_only_the_changed_words() -> None:
    pieces = word_diff("killing 12 people.", "killing at least 15 people.")
    assert pieces == (
        Piece("same", "killing "),
        Piece("del", "12"),
        Piece("same", " "),
        Piece("ins", "at least 15"),
        Piece("same", " people."),
    )
    text_after = "".join(p.text for p in pieces if p.kind != "del")
    assert text_after.split() == "killing at least 15 people.".split()


def test_a_version_reads_as_a_diff_not_as_churn() -> None:
    lines, counts = diff_briefs(OLD, NEW)
    assert counts == {"ins": 2, "del": 1, "edit": 1}
    kinds = [(line.kind, line.heading) for line in lines]
    # The reworded dek is one line; the six unchanged facts one folded count.
    assert kinds[0] == ("edit", False)
    assert ("skip", False) in kinds and lines[kinds.index(("skip", False))].skipped == 6
    shown = " ".join(p.text for line in lines for p in line.pieces)
    assert "Fact number" not in shown  # unchanged sentences are not repeated
    assert "Rescuers searched the rubble overnight." in shown
    assert any(
        line.kind == "del" and line.pieces[0].text == "The mayor called for calm." for line in lines
    )
    assert any(line.heading and line.kind == "ins" for line in lines)  # "What comes next"


def test_versions_newest_first_with_summaries() -> None:
    same_words = _brief(
        NEW.dek[0].text.split("|"),
        {
            "What happened": [*FACTS, "Rescuers searched the rubble overnight."],
            "What comes next": ["Schools stay closed until Friday."],
        },
        credits=("A", "B", "C"),
    )
    diffs = version_diffs([_version(1, OLD), _version(3, same_words), _version(2, NEW)])
    assert [d.version.version for d in diffs] == [3, 2, 1]
    v3, v2, v1 = diffs
    assert summary(v2) == "2 sentences added, 1 removed, 1 reworded."
    assert v2.new_credits == ("B",)
    assert not v3.wording_changed and v3.lines == () and v3.new_credits == ("C",)
    assert summary(v3) == "Wording unchanged; sources or credits updated."
    assert v1.first and summary(v1) == "First version of the brief."
    assert [p.text for line in v1.lines for p in line.pieces][:2] == [
        OLD.dek[0].text,
        "What happened",
    ]


def test_a_single_change_says_sentence() -> None:
    one = _brief(["A."], {})
    two = _brief(["A."], {"Details": ["B is new here."]})
    d = version_diffs([_version(1, one), _version(2, two)])[0]
    assert summary(d) == "1 sentence added."
