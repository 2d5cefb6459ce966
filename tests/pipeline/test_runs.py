"""Every run of the pipeline is listed for operators (/status "Recent runs"), with its
counters while it runs and when it ends, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from breakingon.pipeline import runner
from breakingon.pipeline.runner import Pipeline
from breakingon.settings import Settings
from breakingon.store import Store
from breakingon.store.base import Run

NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)


def test_a_run_is_recorded_and_finished(store: Store) -> None:
    pipeline = Pipeline(Settings(), store, "w1", crawl=False, clock=lambda: NOW)
    asyncio.run(pipeline.run(asyncio.Event(), once=True))
    [run] = store.recent_runs()
    assert (run.kind, run.worker) == ("process", "w1")
    assert run.started_at == NOW and run.finished_at == NOW
    assert run.stats == {"feeds": 0, "extracted": 0, "clustered": 0, "stories": 0}
    assert run.error is None


def test_a_long_run_shows_its_counters_before_it_ends(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "RUN_REPORT_S", 0.05)
    pipeline = Pipeline(Settings(), store, "w2", crawl=False, clock=lambda: NOW)
    seen: list[Run] = []

    async def main() -> None:
        stop = asyncio.Event()
        task = asyncio.create_task(pipeline.run(stop))
        pipeline.progress.stories_updated = 3
        for _ in range(100):
            await asyncio.sleep(0.05)
            runs = await asyncio.to_thread(store.recent_runs)
            if runs and runs[0].stats.get("stories") == 3:
                seen.append(runs[0])
                break
        stop.set()
        await task

    asyncio.run(main())
    assert seen, "the running run's counters were never written"
    assert seen[0].finished_at is None
    assert store.recent_runs()[0].finished_at == NOW
