"""The API's core routes: drives, tapes, pools, jobs and runs, sets, events, the host, the daemon.

Every drive operation runs in a worker thread so the event loop keeps answering status requests
while a tape moves.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from console.engine.daemon.events import EventLog, SystemSampler
from console.engine.daemon.routes.conditional import conditional_json
from console.engine.daemon.routes.requests import (
    API_VERSION,
    PREFIX,
    answering_errors,
    field,
    json_body,
    user_of,
    whole_number,
)
from console.engine.daemon.routes.rotation import job_rows
from console.engine.daemon.service import TapeService
from console.engine.refusals import Refused


def core_routes(service: TapeService, *, on_stop: Callable[[], None] | None = None,
                events: EventLog | None = None) -> list[Route]:
    """Drives, tapes, pools, jobs, runs, sets, events, the host's figures and the daemon itself."""
    started = time.time()
    sampler = SystemSampler()
    sampler_lock = threading.Lock()

    async def health(request: Request) -> Response:
        return JSONResponse({
            "api": API_VERSION,
            "pid": os.getpid(),
            "config": str(service.config.path),
            "uptime_seconds": round(time.time() - started, 1),
            "drives": list(service.slots),
        })

    def inventory_etag(*parts: object) -> str:
        """An ETag for an answer made from the inventory alone (and the day: retention ends at midnight)."""
        inventory = service.inventory
        return '"' + "-".join(str(p) for p in (inventory.changes, inventory.clock().date(), *parts)) + '"'

    async def drives(request: Request) -> Response:
        return await conditional_json(request, service.drives)

    async def drive(request: Request) -> Response:
        slot = service.slot(request.path_params["name"])
        return JSONResponse(await run_in_threadpool(slot.describe))

    async def tapes(request: Request) -> Response:
        return await conditional_json(request, service.tapes, etag=inventory_etag("tapes"))

    async def pools(request: Request) -> Response:
        return await conditional_json(request, service.pools, etag=inventory_etag("pools"))

    async def audit(request: Request) -> Response:
        limit = whole_number(request, "limit")
        entries = await run_in_threadpool(service.inventory.audit_entries, limit or None)
        return JSONResponse(entries)

    async def load(request: Request) -> Response:
        body = await json_body(request)
        barcode = field(body, "barcode", str)
        result = await run_in_threadpool(service.load, request.path_params["name"], barcode, user_of(request))
        return JSONResponse(result)

    async def eject(request: Request) -> Response:
        result = await run_in_threadpool(service.eject, request.path_params["name"], user_of(request))
        return JSONResponse(result)

    async def rewind(request: Request) -> Response:
        result = await run_in_threadpool(service.rewind, request.path_params["name"], user_of(request))
        return JSONResponse(result)

    async def label(request: Request) -> Response:
        body = await json_body(request)
        result = await run_in_threadpool(
            service.label,
            request.path_params["name"],
            field(body, "label", str),
            field(body, "pool", str),
            field(body, "confirm", str, required=False),
            user_of(request),
        )
        return JSONResponse(result)

    async def tape_file(request: Request) -> Response:
        number = request.path_params["number"]
        stream = await run_in_threadpool(service.open_tape_file, request.path_params["name"], number, user_of(request))
        return StreamingResponse(
            stream, media_type="application/x-tar", background=BackgroundTask(stream.close)
        )

    async def move_tape(request: Request) -> Response:
        body = await json_body(request)
        result = await run_in_threadpool(
            service.move_tape, request.path_params["barcode"], field(body, "location", str), user_of(request)
        )
        return JSONResponse(result)

    async def jobs(request: Request) -> Response:
        return await conditional_json(request, lambda: job_rows(service))  # each with its next tape

    async def run_job(request: Request) -> Response:
        result = await run_in_threadpool(service.jobs.start, request.path_params["name"], user_of(request))
        return JSONResponse(result, status_code=202)

    async def runs(request: Request) -> Response:
        return await conditional_json(request, service.jobs.list)

    async def run(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(service.jobs.get, request.path_params["id"]))

    async def cancel_run(request: Request) -> Response:
        result = await run_in_threadpool(service.jobs.cancel, request.path_params["id"], user_of(request))
        return JSONResponse(result)

    async def sets(request: Request) -> Response:
        tape = request.query_params.get("tape") or None
        return await conditional_json(request, lambda: service.sets(tape=tape),
                                      etag=inventory_etag("sets", (tape or "").encode().hex()))

    async def set_detail(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(service.set_detail, request.path_params["id"]))

    async def event_list(request: Request) -> Response:
        after = whole_number(request, "after", 0)
        assert after is not None
        return JSONResponse(events.after(after) if events is not None else [])

    async def system(request: Request) -> Response:
        def sample() -> dict[str, Any]:
            with sampler_lock:
                return sampler.sample()

        return JSONResponse(await run_in_threadpool(sample))

    async def stop(request: Request) -> Response:
        if on_stop is None:
            raise Refused("this daemon cannot be stopped through the API")
        on_stop()
        return JSONResponse({"stopping": True, "pid": os.getpid()})

    v = PREFIX
    routes = [
        Route(f"{v}/health", answering_errors(health)),
        Route(f"{v}/drives", answering_errors(drives)),
        Route(f"{v}/drives/{{name}}", answering_errors(drive)),
        Route(f"{v}/drives/{{name}}/load", answering_errors(load), methods=["POST"]),
        Route(f"{v}/drives/{{name}}/eject", answering_errors(eject), methods=["POST"]),
        Route(f"{v}/drives/{{name}}/rewind", answering_errors(rewind), methods=["POST"]),
        Route(f"{v}/drives/{{name}}/label", answering_errors(label), methods=["POST"]),
        Route(f"{v}/drives/{{name}}/files/{{number:int}}", answering_errors(tape_file)),
        Route(f"{v}/tapes", answering_errors(tapes)),
        Route(f"{v}/tapes/{{barcode}}/location", answering_errors(move_tape), methods=["POST"]),
        Route(f"{v}/pools", answering_errors(pools)),
        Route(f"{v}/audit", answering_errors(audit)),
        Route(f"{v}/jobs", answering_errors(jobs)),
        Route(f"{v}/jobs/{{name}}/run", answering_errors(run_job), methods=["POST"]),
        Route(f"{v}/runs", answering_errors(runs)),
        Route(f"{v}/runs/{{id:int}}", answering_errors(run)),
        Route(f"{v}/runs/{{id:int}}/cancel", answering_errors(cancel_run), methods=["POST"]),
        Route(f"{v}/sets", answering_errors(sets)),
        Route(f"{v}/sets/{{id:int}}", answering_errors(set_detail)),
        Route(f"{v}/events", answering_errors(event_list)),
        Route(f"{v}/system", answering_errors(system)),
        Route(f"{v}/daemon/stop", answering_errors(stop), methods=["POST"]),
    ]
    return routes
