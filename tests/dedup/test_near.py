"""Syndicated-copy detection on crafted wire copies and same-topic different articles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from breakingon.dedup.near import (
    DedupSettings,
    NearDuplicateIndex,
    content_hash,
    fingerprints,
    minhash_signature,
)

T0 = datetime(2025, 2, 10, 8, 0, tzinfo=UTC)

WIRE = (
    "The European Central Bank raised its main interest rate by a quarter of a percentage "
    "point on Thursday, the tenth increase in a row, and said further moves would depend on "
    "incoming data. President Christine Lagarde told reporters in Frankfurt that inflation "
    "remained too high for too long, even though price growth in the euro zone slowed to 5.3 "
    "percent in August from 5.5 percent in July. Economists polled before the meeting had "
    "been split over whether the bank would pause. Markets took the decision as a signal that "
    "the cycle of increases was close to its end, and the euro fell against the dollar. The "
    "bank also cut its growth forecasts for this year and next, citing weaker demand from "
    "China and the lagged effect of higher borrowing costs on households and companies."
)
COPIES = {
    # dateline and agency credit added, headline-ish first line, a closing sentence cut
    "dateline": "FRANKFURT (Reuters) - " + WIRE.rsplit(" The bank also", 1)[0],
    # light copy-editing: a few words changed, a sentence appended
    "edited": WIRE.replace("on Thursday", "on Thursday afternoon")
    .replace("told reporters", "told a news conference")
    .replace("euro fell", "single currency fell")
    + " Reporting by Balazs Koranyi; editing by Toby Chopra.",
    # boilerplate around the body
    "boilerplate": "Advertisement. Sign up for our newsletter. "
    + WIRE
    + " Copyright 2025. All rights reserved.",
}
SAME_TOPIC = [
    # the same event, independently reported: different sentences
    "Frankfurt's rate setters pushed borrowing costs to a record high on Thursday. The ECB "
    "decision, its tenth straight hike, surprised some investors who had expected a pause "
    "after a run of weak business surveys. Lagarde would not say whether this was the peak, "
    "insisting that the governing council would decide meeting by meeting. Analysts at "
    "several banks said the accompanying forecasts pointed to stagnation, and bond yields "
    "fell across the bloc as traders priced in cuts next year.",
    # same kind, different event
    "The Bank of England held interest rates at 5.25 percent on Thursday, ending a run of "
    "fourteen consecutive increases, after inflation in Britain slowed more than expected in "
    "August. The Monetary Policy Committee voted five to four to keep rates on hold, with "
    "Governor Andrew Bailey casting the deciding vote. Sterling weakened after the decision "
    "as investors bet that the tightening cycle was over.",
]


def test_content_hash_ignores_case_spacing_and_punctuation() -> None:
    assert content_hash("Hello,   World!\n") == content_hash("hello world")
    assert content_hash("Hello World") != content_hash("Hello Word")


def test_syndicated_copies_link_to_the_first_and_others_stay_apart() -> None:
    index = NearDuplicateIndex()
    assert index.add("wire", WIRE, T0) is None
    for n, (name, text) in enumerate(COPIES.items(), 1):
        assert index.add(name, text, T0 + timedelta(minutes=n)) == "wire", name
    for n, text in enumerate(SAME_TOPIC):
        assert index.add(f"other{n}", text, T0 + timedelta(hours=1)) is None
    assert index.add("exact", WIRE.upper(), T0 + timedelta(hours=2)) == "wire"
    assert index.add("copy-of-other", SAME_TOPIC[1] + " More soon.", T0) == "other1"


def test_short_texts_only_match_exactly() -> None:
    index = NearDuplicateIndex()
    assert index.add("a", "Breaking: earthquake hits the coast", T0) is None
    assert index.add("b", "Breaking: earthquake hits the north coast", T0) is None
    assert index.add("c", "breaking - earthquake hits the coast!", T0) == "a"


def test_window_and_cap_bound_memory() -> None:
    index = NearDuplicateIndex(DedupSettings(window=timedelta(days=1), max_items=3))
    index.add("wire", WIRE, T0)
    index.add("late", SAME_TOPIC[0], T0 + timedelta(days=2))  # evicts "wire" (too old)
    assert "wire" not in index
    assert index.add("copy", COPIES["edited"], T0 + timedelta(days=2)) is None
    for n in range(5):
        index.add(f"n{n}", f"unique text number {n} " * 10, T0 + timedelta(days=2))
    assert len(index) <= 3


def test_rebuild_from_stored_rows_and_signatures() -> None:
    rows = [("wire", WIRE, T0), ("other", SAME_TOPIC[0], T0 + timedelta(minutes=5))]
    index = NearDuplicateIndex.rebuild(reversed(rows))
    assert index.add("copy", COPIES["dateline"], T0 + timedelta(hours=1)) == "wire"
    from_sig = NearDuplicateIndex()
    from_sig.add("wire", WIRE, T0, signature=minhash_signature(WIRE))
    assert from_sig.add("copy", COPIES["edited"], T0) == "wire"


def test_fingerprints_are_the_hash_and_signature_in_one_pass() -> None:
    prints = fingerprints(WIRE)
    assert prints.content_hash == content_hash(WIRE)
    assert prints.signature == minhash_signature(WIRE)
