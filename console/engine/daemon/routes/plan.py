"""The capacity plan (/v1/plan), mounted by api.py beside the core routes.

GET /v1/plan[?fresh=1]   every job: tonight's estimate and its basis, the tape it gets and the room on it,
                         the verdict, the nights of history, the forecast and the changes that would help.

Working it out calls XO and walks file trees, so it runs in a worker thread, one at a time, and the answer
is kept for CACHE_SECONDS (?fresh=1 works it out again).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from console.engine.daemon.routes.requests import PREFIX, answering_errors
from console.engine.daemon.service import TapeService
from console.engine.planning.plan import Planner
from console.engine.refusals import BadRequest

CACHE_SECONDS = 60.0


def planner_for(service: TapeService) -> Planner:
    """The daemon's planner: its config and inventory, its XO connection, the tapes restores hold."""
    return Planner(service.config, service.inventory, xo=getattr(service.jobs.members_for, "xo_client", None),
                   held=lambda: getattr(service.jobs, "held_tapes", tuple)())


class PlanCache:
    """One computation at a time; callers within `seconds` of the last one get its answer."""

    def __init__(self, compute: Callable[[], dict[str, Any]], seconds: float = CACHE_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.compute, self.seconds, self.clock = compute, seconds, clock
        self._lock = threading.Lock()
        self._answer: dict[str, Any] | None = None
        self._at = 0.0

    def get(self, fresh: bool = False) -> dict[str, Any]:
        asked = self.clock()
        with self._lock:  # a second caller waits for the first one's answer instead of computing it again
            if self._answer is not None and not (fresh and self._at < asked) and asked - self._at < self.seconds:
                return self._answer
            self._answer, self._at = self.compute(), self.clock()
            return self._answer


def plan_routes(service: TapeService) -> list[Route]:

    planner = planner_for(service)
    cache = PlanCache(planner.plan)

    async def plan(request: Request) -> Response:
        fresh = request.query_params.get("fresh", "0")
        if fresh not in ("0", "1"):
            raise BadRequest("fresh must be 0 or 1")
        return JSONResponse(await run_in_threadpool(cache.get, fresh == "1"))

    return [Route(f"{PREFIX}/plan", answering_errors(plan))]
