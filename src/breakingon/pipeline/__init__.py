"""The pipeline: the only place where stages, the store and the network meet.

`poll` checks due feeds and fetches article pages (the network edge); `cluster_stage`
clusters articles into stories, `story_stage` computes each dirty story's signals and brief;
`alert_stage` turns saved stories into readers' alerts (queued in the outbox, sent by
`alert_send` through the crawler's Fetcher or SMTP); `runner` drives them in loops,
embedded (`breakingon run`) or as a scale-out worker.
Every unit of work is a row claimed with a lease, committed with its result in one
transaction, so a killed worker loses nothing and duplicates nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from breakingon.pipeline.alert_stage import AlertStage
    from breakingon.pipeline.cluster_stage import ClusterStage
    from breakingon.pipeline.poll import CrawlStage, fetch_bytes
    from breakingon.pipeline.runner import Pipeline
    from breakingon.pipeline.story_stage import StoryStage, TrendStage

__all__ = [
    "AlertStage",
    "ClusterStage",
    "CrawlStage",
    "Pipeline",
    "StoryStage",
    "TrendStage",
    "fetch_bytes",
]

# Loaded on first use, so that importing one light module of this package (the page
# worker's job, the WebSub helpers) does not pull in the encoder and every stage.
_HOME = {
    "AlertStage": "alert_stage",
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
