"""Operations routes shared by `breakingon run` and `breakingon web`: /healthz, /metrics.

/healthz answers 200 {"status": "ok"} when the store answers, 503 otherwise, and
"degraded" (still 200: pages keep being served) when the local pipeline reports a
storage failure. /metrics is the Prometheus text format (series prefixed breakingon_).
The CLI mounts these beside the site and the WebSub callbacks; this module imports
neither the web layer nor the pipeline.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from breakingon.ops.metrics import render
from breakingon.store.base import OpsStore


@dataclass(slots=True)
class Health:
    """Mutable health notes the pipeline of this process writes and /healthz reads."""

    problems: dict[str, str] = field(default_factory=dict)


def ops_routes(store: OpsStore, health: Health | None = None) -> list[BaseRoute]:
    health = health or Health()

    async def healthz(request: Request) -> Response:
        try:
            counts = await asyncio.to_thread(store.stats)
        except Exception as exc:
            return JSONResponse(
                {"status": "down", "problems": {"storage": type(exc).__name__}}, status_code=503
            )
        status = "degraded" if health.problems else "ok"
        return JSONResponse({"status": status, "problems": health.problems, "counts": counts})

    async def metrics(request: Request) -> Response:
        body = await asyncio.to_thread(render, store)
        return Response(body, media_type="text/plain; version=0.0.4; charset=utf-8")

    return [Route("/healthz", healthz), Route("/metrics", metrics)]
