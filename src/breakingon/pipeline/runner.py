"""Drive the stages in loops: embedded (`breakingon run`) or as a scale-out worker.

One asyncio loop runs the feed checks and page fetches (network-bound); clustering (with
trends and retention) and the story stage (signals and briefs) each run one step at a
time in their own worker thread (CPU-bound, torch releases the GIL), so a slow story
update (a long brief, an LLM endpoint that takes its time) never stalls clustering,
nor clustering a story update; the alert stage has its own loop beside them (it never
holds up clustering or the story stage). `stop` ends the loops after the unit of work in hand, so a
Ctrl-C finishes in-flight work; anything claimed and not finished is handed back when
its lease expires.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from breakingon.crawl.netpolicy import Resolver
from breakingon.ops.health import Health
from breakingon.ops.memory import TRIM_INTERVAL_S, release_free_memory
from breakingon.ops.retention import RetentionStep
from breakingon.pipeline.alert_stage import AlertStage
from breakingon.pipeline.cluster_stage import ClusterStage
from breakingon.pipeline.crawlpass import CrawlPass
from breakingon.pipeline.image_stage import ImageStage
from breakingon.pipeline.poll import CrawlStage
from breakingon.pipeline.storewatch import watch
from breakingon.pipeline.story_stage import StoryStage, TrendStage
from breakingon.settings import Settings
from breakingon.store import Store
from breakingon.store.owners import owner_name
from breakingon.store.redact import redact_text

log = logging.getLogger("breakingon.pipeline")

RUN_REPORT_S = 60.0  # how often a running run's counters are written for /status


def worker_name() -> str:
    """This process's lease owner name (host, pid, start token: a crash frees its leases)."""
    return owner_name()


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(slots=True)
class Progress:
    """Counters of this process's work since start (for the status line)."""

    feeds_checked: int = 0
    articles_discovered: int = 0
    articles_extracted: int = 0
    articles_clustered: int = 0
    stories_updated: int = 0
    started: float = field(default_factory=time.monotonic)

    def as_stats(self) -> dict[str, int]:
        """The counters as the runs list on /status shows them."""
        return {
            "feeds": self.feeds_checked,
            "extracted": self.articles_extracted,
            "clustered": self.articles_clustered,
            "stories": self.stories_updated,
        }


class Pipeline:
    """All stages for one worker process."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        worker: str | None = None,
        *,
        resolver: Resolver | None = None,
        clock: Callable[[], datetime] = _now,
        crawl: bool = True,
        process: bool = True,
        health: Health | None = None,
        alerts: bool | None = None,
        signal_clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        # every store call watched: a storage failure marks /healthz degraded until that
        # same call succeeds again (stages that catch it to go on never hide it)
        store = watch(store, health)
        self.store = store
        self.worker = worker or worker_name()
        self.clock = clock
        self.do_crawl = crawl
        self.do_process = process
        self.do_alerts = process if alerts is None else alerts
        self.progress = Progress()
        self.crawl = CrawlStage(
            settings, store, self.worker, resolver=resolver, clock=clock, on_pass=self._passed
        )
        self.cluster = ClusterStage(settings, store, self.worker, clock=clock)
        # `signal_clock`: the time signals are judged at, when not the wall clock (a
        # replay's, `breakingon demo`); every lease, claim and schedule keeps `clock`.
        self.stories = StoryStage(
            settings, store, self.worker, clock=clock, signal_clock=signal_clock
        )
        self.trends = TrendStage(settings, store, clock=signal_clock or clock)
        self.images = ImageStage(store, self.crawl.fetcher, clock=clock)
        self.alerts = AlertStage(settings, store, self.worker, resolver=resolver, clock=clock)
        self._websub_renewed = 0.0
        self.retention = RetentionStep(settings, store, self.worker, clock=clock)
        self.health = health

    def _failed(self, where: str, exc: BaseException) -> None:
        # a storage failure is on /healthz already: the watched store saw it
        log.error("%s: %s", where, redact_text(str(exc)), exc_info=exc)

    def _passed(self, done: CrawlPass) -> None:
        """A crawl pass ended: /healthz is degraded while the last pass reached no feed."""
        if self.health is None:
            return
        if done.dead:
            self.health.problems["feeds"] = done.summary()
        elif done.reachable:
            self.health.problems.pop("feeds", None)

    async def run(self, stop: asyncio.Event, *, once: bool = False) -> Progress:
        """Run until `stop` is set (or, with `once`, until one pass has drained all work)."""
        feeds_done = asyncio.Event()
        pages_done = asyncio.Event()
        processed = asyncio.Event()
        run_id = await self._start_run()
        error: str | None = None
        async with self.crawl, self.alerts:
            tasks = [asyncio.create_task(self._report_loop(stop, run_id))]
            if self.do_crawl:
                tasks.append(asyncio.create_task(self._feed_loop(stop, once, feeds_done)))
                tasks.append(
                    asyncio.create_task(self._page_loop(stop, once, feeds_done, pages_done))
                )
            else:
                feeds_done.set()
                pages_done.set()
            if self.do_process:
                tasks.append(
                    asyncio.create_task(self._process_loop(stop, once, pages_done, processed))
                )
            if self.do_alerts:
                upstream = processed if self.do_process else pages_done
                tasks.append(asyncio.create_task(self._alert_loop(stop, once, upstream)))
            if self.do_crawl and self.settings.fetch_images:
                upstream = processed if self.do_process else pages_done
                tasks.append(asyncio.create_task(self._image_loop(stop, once, upstream)))
            try:
                await asyncio.gather(*tasks[1:])
            except Exception as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
                raise
            finally:
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await self._finish_run(run_id, error)
                if self.do_process:
                    try:
                        await asyncio.to_thread(self.cluster.release)
                    except Exception:
                        log.exception("releasing the clustering lease")
        return self.progress

    def _run_kind(self) -> str:
        if self.do_crawl and self.do_process:
            return "run"
        return "crawl" if self.do_crawl else "process"

    async def _start_run(self) -> int | None:
        """A row in the runs list (/status) for this process's run; None if the store
        cannot take it (the run goes on: the list is for operators, not for the work)."""
        try:
            return await asyncio.to_thread(
                self.store.start_run, self._run_kind(), self.worker, self.clock()
            )
        except Exception as exc:
            self._failed("recording the run", exc)
            return None

    async def _report_loop(self, stop: asyncio.Event, run_id: int | None) -> None:
        """Keep the run's counters current while it runs (every `RUN_REPORT_S`)."""
        while run_id is not None and not stop.is_set():
            await self._idle(stop, RUN_REPORT_S)
            try:
                await asyncio.to_thread(self.store.update_run, run_id, self.progress.as_stats())
            except Exception as exc:
                self._failed("recording the run", exc)

    async def _finish_run(self, run_id: int | None, error: str | None) -> None:
        if run_id is None:
            return
        try:
            await asyncio.to_thread(
                self.store.finish_run, run_id, self.clock(), self.progress.as_stats(), error
            )
        except Exception as exc:
            self._failed("recording the run", exc)

    async def _idle(self, stop: asyncio.Event, seconds: float) -> None:
        try:
            await asyncio.wait_for(stop.wait(), timeout=seconds)
        except TimeoutError:
            pass

    async def _feed_loop(self, stop: asyncio.Event, once: bool, done: asyncio.Event) -> None:
        try:
            while not stop.is_set():
                try:
                    n = await self.crawl.check_due_feeds()
                except Exception as exc:
                    self._failed("feed loop", exc)
                    n = 0
                self.progress.feeds_checked += n
                await self._renew_websub()
                if once and n == 0:
                    return
                if n == 0:
                    await self._idle(stop, 1.0)
        finally:
            done.set()

    async def _renew_websub(self) -> None:
        websub = self.crawl.websub
        if websub is None or time.monotonic() - self._websub_renewed < 600:
            return
        self._websub_renewed = time.monotonic()
        try:
            await websub.renew_due()
        except Exception:
            log.exception("websub renewal")

    async def _page_loop(
        self, stop: asyncio.Event, once: bool, feeds_done: asyncio.Event, done: asyncio.Event
    ) -> None:
        try:
            while not stop.is_set():
                try:
                    n = await self.crawl.process_discovered()
                except Exception as exc:
                    self._failed("page loop", exc)
                    n = 0
                self.progress.articles_extracted += n
                if n == 0:
                    if once and feeds_done.is_set():
                        if await asyncio.to_thread(self._backlog, "articles_discovered") == 0:
                            return
                    await self._idle(stop, 0.5)
        finally:
            done.set()

    def _backlog(self, kind: str) -> int:
        return self.store.backlog().get(kind, 0)

    def process_step(self) -> int:
        """One step of clustering, story updates and trends (blocking; `run` runs the
        cluster and story steps in two loops of their own)."""
        n = self.cluster_step()
        m = self.story_step()
        return n + m

    def cluster_step(self) -> int:
        """One clustering step, then trends and retention when they are due (blocking)."""
        n = self.cluster.step()
        self.progress.articles_clustered += n
        self.trends.step()
        self.retention.step()  # no-op unless retention is on and its interval has passed
        if n:
            release_free_memory(TRIM_INTERVAL_S)  # the encoders' freed activations
        return n

    def story_step(self) -> int:
        """One story-stage step (blocking)."""
        m = self.stories.step()
        self.progress.stories_updated += m
        if m:
            release_free_memory(TRIM_INTERVAL_S)
        return m

    async def _image_loop(self, stop: asyncio.Event, once: bool, upstream: asyncio.Event) -> None:
        """Lead images of updated stories (the image stage), beside the page fetches."""
        while not stop.is_set():
            upstream_done = upstream.is_set()  # read before the step: nothing comes after
            try:
                n = await self.images.step()
            except Exception as exc:
                self._failed("image loop", exc)
                n = 0
            if n == 0:
                if once and upstream_done:
                    return
                await self._idle(stop, 1.0)

    async def _alert_loop(self, stop: asyncio.Event, once: bool, upstream: asyncio.Event) -> None:
        """Readers' alerts (the alert stage): scan saved stories, send what is due."""
        while not stop.is_set():
            upstream_done = upstream.is_set()  # read before the step: nothing comes after
            try:
                n = await self.alerts.step()
            except Exception as exc:
                self._failed("alert loop", exc)
                n = 0
            if n == 0:
                if once and upstream_done:
                    return
                await self._idle(stop, self.settings.alert_interval_s)

    async def _process_loop(
        self,
        stop: asyncio.Event,
        once: bool,
        pages_done: asyncio.Event,
        processed: asyncio.Event | None = None,
    ) -> None:
        clustered = asyncio.Event()
        try:
            await asyncio.gather(
                self._cluster_loop(stop, once, pages_done, clustered),
                self._story_loop(stop, once, clustered),
            )
        finally:
            if processed is not None:
                processed.set()

    async def _cluster_loop(
        self, stop: asyncio.Event, once: bool, pages_done: asyncio.Event, done: asyncio.Event
    ) -> None:
        """Clustering steps (trends, retention beside them) until stopped; with `once`,
        until the pages are done and no extracted article is left."""
        try:
            while not stop.is_set():
                upstream_done = pages_done.is_set()  # read before the step
                try:
                    n = await asyncio.to_thread(self.cluster_step)
                except Exception as exc:
                    self._failed("cluster loop", exc)
                    n = 0
                if n == 0:
                    if once and upstream_done:
                        backlog = await asyncio.to_thread(self.store.backlog)
                        if backlog.get("articles_extracted", 0) == 0:
                            return
                    await self._idle(stop, 0.5)
        finally:
            done.set()

    async def _story_loop(self, stop: asyncio.Event, once: bool, clustered: asyncio.Event) -> None:
        """Story-stage steps until stopped; with `once`, until clustering is done and no
        story is dirty (deferred briefs written first), then the trends once more."""
        while not stop.is_set():
            upstream_done = clustered.is_set()  # read before the step: nothing comes after
            try:
                n = await asyncio.to_thread(self.story_step)
            except Exception as exc:
                self._failed("story loop", exc)
                n = 0
            if n == 0:
                if once and upstream_done:
                    flushed = await asyncio.to_thread(self.stories.flush)
                    backlog = await asyncio.to_thread(self.store.backlog)
                    if flushed == 0 and backlog["stories_dirty"] == 0:
                        await asyncio.to_thread(self.trends.step, 0.0, True)
                        return
                    continue
                await self._idle(stop, 0.5)
        try:  # stopped: the deferred briefs are written by whoever updates them next
            await asyncio.to_thread(self.stories.flush)
        except Exception as exc:
            self._failed("story loop", exc)
