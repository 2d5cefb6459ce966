"""Operations routes shared by `breakingon run` and `breakingon web`: /healthz, /metrics.

/healthz answers 200 {"status": "ok"} when the store answers, 503 otherwise, and
"degraded" (still 200: pages keep being served) when the local pipeline reports a
storage failure, when its last crawl pass reached no feed ("feeds": the pass summary),
or, in any process (a web process beside scale-out workers too), when feeds exist, are
being checked, and no fetch of any feed has succeeded within `FETCH_STALE` before the
latest check ("fetch": a dead network or resolver, seen from the stored feed times).
/metrics is the Prometheus text format (series prefixed breakingon_).
The CLI mounts these beside the site and the WebSub callbacks; this module imports
neither the web layer nor the pipeline.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from breakingon.ops.metrics import render
from breakingon.store.base import OpsStore

FETCH_STALE = timedelta(minutes=15)


def fetch_problem(
    feeds: int, latest_check: datetime | None, latest_success: datetime | None
) -> str | None:
    """Why fetching looks dead, from the stored feed times, or None: feeds are being
    checked, and no fetch succeeded in the FETCH_STALE before the latest check (or ever)."""
    if not feeds or latest_check is None:
        return None  # nothing to fetch, or not checked yet
    if latest_success is None:
        return f"no feed fetch has succeeded yet ({feeds} feeds)"
    if latest_success < latest_check - FETCH_STALE:
        return f"no feed fetch has succeeded since {latest_success:%Y-%m-%d %H:%M} UTC"
    return None


@dataclass(slots=True)
class Health:
    """Mutable health notes the pipeline of this process writes and /healthz reads."""

    problems: dict[str, str] = field(default_factory=dict)


def ops_routes(store: OpsStore, health: Health | None = None) -> list[BaseRoute]:
    health = health or Health()

    async def healthz(request: Request) -> Response:
        try:
            counts = await asyncio.to_thread(store.stats)
            times = await asyncio.to_thread(store.feed_fetch_times)
        except Exception as exc:
            return JSONResponse(
                {"status": "down", "problems": {"storage": type(exc).__name__}}, status_code=503
            )
        problems = dict(health.problems)
        fetch = fetch_problem(*times)
        if fetch is not None:
            problems["fetch"] = fetch
        status = "degraded" if problems else "ok"
        return JSONResponse({"status": status, "problems": problems, "counts": counts})

    async def metrics(request: Request) -> Response:
        body = await asyncio.to_thread(render, store)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    return [Route("/healthz", healthz), Route("/metrics", metrics)]
