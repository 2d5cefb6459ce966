"""Eval gate: B-cubed F1 of the production clustering path on the shared sets, pinned.

The articles of each set in ../shared/data/clustering go into a temporary SQLite store as
extracted articles, in file order (an undated line gets one fixed time, as the pipeline
dates every article, so file order is kept), and through `ClusterStage` as the pipeline runs it:
its batch size, its embedding batches, its repair cadence, its commits and reloads.
Story memberships are read back from the store and scored against the gold labels
(read only to score). FLOORS are the scores measured on this path with the default
ClusterSettings (docs/clustering.md) minus 0.01 for float noise (batch composition
changes embeddings in the last bits): a drop below is a regression. REQUIRED are the
targets the clustering work was held to. With CI=true missing data fails the run;
elsewhere it skips.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from breakingon.cli.stories import read_cluster_inputs
from breakingon.cluster.batch import bcubed
from breakingon.pipeline.cluster_stage import ClusterStage
from breakingon.records import Article, Feed
from breakingon.settings import Settings
from breakingon.store import open_store
from breakingon.store.base import FeedUpdate

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "clustering"
MULTILINGUAL = DATA.parent / "multilingual"
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

# Measured B3 F1 with the defaults through ClusterStage: multinews-dev 0.8811,
# ecbplus-dev 0.9386, newswcl50 0.9673, the same as the cluster-file batch path, since
# the stage ends a batch where a repair pass is due (every 200 articles) and repairs once
# more when a step finds nothing left to cluster. Before those two rules the stage gave
# 0.8706, 0.9159, 0.9673 (its repair passes fell at other points of the stream, the last
# articles of a burst never repaired); with the idle repair alone 0.8788, 0.9284, 0.9673.
# wmt-dev (the same article in 2-4 of cs de en es fr hu, ../shared/data/multilingual):
# 0.9942 measured (cluster-file) with the multilingual space (0.680 before it).
FLOORS = {"multinews-dev": 0.871, "ecbplus-dev": 0.928, "newswcl50": 0.957, "wmt-dev": 0.981}
REQUIRED = {"multinews-dev": 0.88, "ecbplus-dev": 0.92, "newswcl50": 0.96, "wmt-dev": 0.90}

_scores: dict[str, float] = {}


def _data(name: str) -> Path:
    path = (MULTILINGUAL if name.startswith("wmt") else DATA) / f"{name}.jsonl"
    if not path.is_file():
        message = f"shared data missing: {path} (expected ../shared/data beside the repo)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def production_stories(path: Path, db: Path) -> dict[str, int]:
    """Each line's id -> its story, after the set ran through `ClusterStage` on a store."""
    items, _ = read_cluster_inputs(path)
    store = open_store(f"sqlite:///{db}")
    try:
        url = "https://eval.example/feed"
        feed, _ = store.add_feed(Feed(url=url, outlet="Eval", country="US"), url)
        assert feed.id is not None
        articles = [
            Article(
                url=f"https://eval.example/{n}",
                title=item.title,
                text=item.text,
                published=item.published or NOW,  # the store dates every article
                item_key=item.key,
                language=item.language or "en",  # the English sets carry no `lang`
            )
            for n, item in enumerate(items)
        ]
        update = FeedUpdate(
            checked_at=NOW,
            next_check_at=NOW + timedelta(minutes=15),
            interval_s=900,
            error_count=0,
            success=True,
        )
        ids = store.save_feed_check(feed.id, update, articles, "extracted")
        assert len(ids) == len(items)
        stage = ClusterStage(Settings(), store, "eval", clock=lambda: NOW)
        while stage.step() > 0:
            pass
        out: dict[str, int] = {}
        for item, aid in zip(items, ids, strict=True):
            art = store.get_article(aid)
            assert art is not None and art.story_id is not None, f"{item.key} not clustered"
            out[item.key] = art.story_id
        return out
    finally:
        store.close()


def _f1(name: str, tmp: pytest.TempPathFactory) -> float:
    if name not in _scores:
        path = _data(name)
        gold: dict[str, str] = {}
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                obj = json.loads(line)
                gold[str(obj["id"])] = str(obj["cluster"])
        stories = production_stories(path, tmp.mktemp(name) / "store.sqlite")
        _scores[name] = bcubed(stories, gold)[2]
    return _scores[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FLOORS))
def test_bcubed_f1_does_not_regress(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    f1 = _f1(name, tmp_path_factory)
    assert f1 >= FLOORS[name], f"{name}: B3 F1 {f1:.3f} < floor {FLOORS[name]:.3f}"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_bcubed_f1_meets_the_target(name: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    f1 = _f1(name, tmp_path_factory)
    assert f1 >= REQUIRED[name], f"{name}: B3 F1 {f1:.3f} < required {REQUIRED[name]:.2f}"


def test_missing_data_fails_under_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(f"{__name__}.DATA", tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="shared data missing"):
        _data("multinews-dev")
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception):
        _data("multinews-dev")
