"""Evaluation gate for briefs on Multi-News: traceability of every sentence, ROUGE floors.

Reads ../shared/data/summarization/multinews-dev.jsonl beside the repository. Writes the
brief of every story (real embedder), then checks that 100% of the summary sentences sit
in a cited document (whitespace-normalised substring; contradiction notes: each quoted
figure in its outlet's text), and that ROUGE has not regressed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from breakingon.records import Brief
from breakingon.story.brief.extractive import BriefSource, write_brief

DATA = (
    Path(__file__).resolve().parents[3]
    / ".."
    / "shared"
    / "data"
    / "summarization"
    / "multinews-dev.jsonl"
)
_NOTE = re.compile(r"^(?P<a>.+?) reported (?P<pa>.+?); (?P<b>.+?) reported (?P<pb>.+?)\.$")
_WS = re.compile(r"\s+")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(3600),
    pytest.mark.skipif(not DATA.is_file(), reason=f"shared data not found at {DATA}"),
]

# Pinned on the first 50 stories (measured 46.5 / 16.9 / 21.5 when pinned; the floor
# leaves 0.5 for float jitter in embeddings, not for regressions).
SUBSET = 50
SUBSET_FLOOR = {"rouge1": 46.0, "rouge2": 16.4, "rougeL": 21.0}
# Required by issue 5 on the whole set.
FULL_FLOOR = {"rouge1": 45.5, "rouge2": 16.0, "rougeL": 21.5}


def _norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


@pytest.fixture(scope="module")
def briefs() -> list[tuple[dict[str, object], list[BriefSource], Brief]]:
    out = []
    for line in DATA.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        docs = [
            BriefSource(
                id=f"{row['id']}#{k + 1}",
                title=d.get("title", ""),
                text=d["text"],
                outlet=f"Source {k + 1}",
            )
            for k, d in enumerate(row["documents"])
        ]
        # The brief is written from the documents only; `summary` is read after, to score.
        out.append((row, docs, write_brief(docs)))
    return out


def test_every_summary_sentence_is_traceable_to_a_cited_document(
    briefs: list[tuple[dict[str, object], list[BriefSource], Brief]],
) -> None:
    failures: list[str] = []
    total = 0
    for row, docs, brief in briefs:
        by_id = {d.id: d for d in docs}
        sentences = list(brief.dek) + [s for sec in brief.sections for s in sec.sentences]
        assert sentences, f"story {row['id']} got an empty brief"
        assert len(brief.summary_text().split()) <= 250
        for s in sentences:
            total += 1
            assert s.citations, f"uncited sentence in {row['id']}: {s.text}"
            cited = [by_id[c.article_id] for c in s.citations]
            m = _NOTE.match(s.text)
            if m and len(cited) >= 2:
                ok = all(
                    any(d.outlet == m.group(who) and m.group(p) in _norm(d.text) for d in cited)
                    for who, p in (("a", "pa"), ("b", "pb"))
                )
            else:
                ok = any(_norm(s.text) in _norm(d.text) for d in cited)
            if not ok:
                failures.append(f"{row['id']}: {s.text[:100]}")
    assert total > 1000
    assert not failures, f"{len(failures)} of {total} untraceable: {failures[:5]}"


def _rouge(pairs: list[tuple[str, str]]) -> dict[str, float]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    sums = {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0}
    for gold, summary in pairs:
        for key, value in scorer.score(gold, summary).items():
            sums[key] += value.fmeasure
    return {k: 100 * v / len(pairs) for k, v in sums.items()}


def test_rouge_floor_on_pinned_subset(
    briefs: list[tuple[dict[str, object], list[BriefSource], Brief]],
) -> None:
    pairs = [(str(row["summary"]), brief.summary_text()) for row, _, brief in briefs[:SUBSET]]
    scores = _rouge(pairs)
    for key, floor in SUBSET_FLOOR.items():
        assert scores[key] >= floor, scores


def test_rouge_meets_the_required_scores_on_the_whole_set(
    briefs: list[tuple[dict[str, object], list[BriefSource], Brief]],
) -> None:
    scores = _rouge([(str(row["summary"]), brief.summary_text()) for row, _, brief in briefs])
    for key, floor in FULL_FLOOR.items():
        assert scores[key] >= floor, scores
