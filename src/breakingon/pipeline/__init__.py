"""The pipeline: the only place where stages, the store and the network meet.

`poll` checks due feeds and fetches article pages (the network edge); `cluster_stage`
clusters articles into stories, `story_stage` computes each dirty story's signals and brief;
`runner` drives both in loops, embedded (`breakingon run`) or as a scale-out worker.
Every unit of work is a row claimed with a lease, committed with its result in one
transaction, so a killed worker loses nothing and duplicates nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from breakingon.pipeline.cluster_stage import ClusterStage
    from breakingon.pipeline.poll import CrawlStage, fetch_bytes
    from breakingon.pipeline.runner import Pipeline
    from breakingon.pipeline.story_stage import StoryStage, TrendStage

__all__ = ["ClusterStage", "CrawlStage", "Pipeline", "StoryStage", "TrendStage", "fetch_bytes"]

# Loaded on first use, so that importing one light module of this package (the page
# worker's job, the WebSub helpers) does not pull in the encoder and every stage.
_HOME = {
    "ClusterStage": "cluster_stage",
    "CrawlStage": "poll",
    "fetch_bytes": "poll",
    "Pipeline": "runner",
    "StoryStage": "story_stage",
    "TrendStage": "story_stage",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
