"""Prometheus metrics of the pipeline (series prefixed `breakingon_`), one registry.

Stages count into `METRICS`; the web layer exposes `render()` at /metrics. Gauges that
describe the database (backlog, story counts) are refreshed from the store on scrape:
every backlog kind is set each time, 0 when that work is done (a kind the store stops
reporting reads 0 too), so a drained queue never keeps its last value.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from breakingon.store.base import BACKLOG_KINDS, OpsStore

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


@dataclass(frozen=True, slots=True)
class _Metrics:
    registry: CollectorRegistry
    fetches: Counter
    errors: Counter
    articles_discovered: Counter
    articles_extracted: Counter
    articles_clustered: Counter
    stories_updated: Counter
    stage_seconds: Histogram
    backlog: Gauge
    stories: Gauge
    articles: Gauge
    feeds: Gauge


def _build() -> _Metrics:
    reg = CollectorRegistry(auto_describe=True)
    return _Metrics(
        registry=reg,
        fetches=Counter(
            "breakingon_fetches",
            "HTTP fetches by kind and outcome",
            ["kind", "outcome"],
            registry=reg,
        ),
        errors=Counter("breakingon_errors", "Failures by stage", ["stage"], registry=reg),
        articles_discovered=Counter(
            "breakingon_articles_discovered", "New feed items stored", registry=reg
        ),
        articles_extracted=Counter(
            "breakingon_articles_extracted", "Articles through extraction", registry=reg
        ),
        articles_clustered=Counter(
            "breakingon_articles_clustered", "Articles assigned to stories", registry=reg
        ),
        stories_updated=Counter(
            "breakingon_stories_updated", "Story signal/brief recomputations", registry=reg
        ),
        stage_seconds=Histogram(
            "breakingon_stage_seconds",
            "Latency of one unit of work by stage",
            ["stage"],
            buckets=_BUCKETS,
            registry=reg,
        ),
        backlog=Gauge("breakingon_backlog", "Work waiting, by kind", ["kind"], registry=reg),
        stories=Gauge("breakingon_stories", "Stories in the store", registry=reg),
        articles=Gauge("breakingon_articles", "Articles in the store", registry=reg),
        feeds=Gauge("breakingon_feeds", "Feeds in the store", registry=reg),
    )


METRICS = _build()
_BACKLOG_SEEN: set[str] = set(BACKLOG_KINDS)  # every kind ever reported on this registry


def render(store: OpsStore | None = None) -> bytes:
    """The text exposition format, with database gauges refreshed from `store`."""
    if store is not None:
        backlog = store.backlog()
        _BACKLOG_SEEN.update(backlog)
        for kind in sorted(_BACKLOG_SEEN):
            METRICS.backlog.labels(kind=kind).set(backlog.get(kind, 0))
        counts = store.stats()
        METRICS.stories.set(counts["stories"])
        METRICS.articles.set(counts["articles"])
        METRICS.feeds.set(counts["feeds"])
    return generate_latest(METRICS.registry)
