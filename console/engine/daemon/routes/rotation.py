"""The API of tape rotation (/v1/...), mounted by api.py beside the core routes.

GET  /v1/swap-list                 the morning swap list: take out, put in, recall (bring back), notes
POST /v1/swaps                     {barcode, drive, direction: out|in|back, verdict, found?, vault?}: a confirmed
                                   swap step, recorded (out: offsite:<vault>, back: shelf) and audited
POST /v1/tapes/{barcode}/status    {status: damaged|retired|ok}: mark a tape, or put it back as it was

GET /v1/jobs (api.py) adds each job's next tape from job_rows() here.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from console.engine.daemon.routes.requests import PREFIX, answering_errors, field, json_body, user_of
from console.engine.daemon.service import TapeService
from console.engine.retention import with_state
from console.engine.rotation.inputs import SiteNow
from console.engine.rotation.next_tape import next_tape
from console.engine.rotation.swap_list import build_swap_list
from console.engine.rotation.swaps import record_swap
from console.engine.rotation.tape_status import mark_tape

Json = dict[str, Any]


def busy_drives(service: TapeService) -> dict[str, str]:
    """drive -> what it is doing, for every drive a job, restore or operation is using now."""
    busy: dict[str, str] = {}
    for name, slot in service.slots.items():
        run = service.jobs.active_on(name)
        if run is not None:
            busy[name] = f"{run.state} job {run.job.name} (run {run.id})"
        elif slot.activity:
            busy[name] = slot.activity
    return busy


def site_now(service: TapeService) -> SiteNow:
    return SiteNow.from_inventory(service.inventory, service.config, runs=service.jobs.list(),
                                  busy_drives=busy_drives(service), held=service.restores.held_tapes())


def swap_list(service: TapeService) -> Json:
    return build_swap_list(site_now(service)).to_json()


def job_rows(service: TapeService) -> list[Json]:
    """The configured jobs: their drive, pool, schedule, next run, the run holding their drive, and the tape
    their next run takes (or why there is none)."""
    site = site_now(service)
    next_runs = service.scheduler.next_runs() if service.scheduler is not None else {}
    rows = []
    for job in service.config.jobs.values():
        active = service.jobs.active_on(job.drive)
        rows.append({
            "name": job.name, "source": job.source, "drive": job.drive, "pool": job.pool,
            "schedule": job.schedule, "next_run": next_runs.get(job.name), "eject_when_done": job.eject_when_done,
            "running": active.id if active is not None and active.job.name == job.name else None,
            **next_tape(site, job).to_json(),
        })
    return rows


def rotation_routes(service: TapeService) -> list[Route]:

    async def get_swap_list(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(swap_list, service))

    async def post_swap(request: Request) -> Response:
        body = await json_body(request)
        result = await run_in_threadpool(record_swap, service.inventory, list(service.slots), body,
                                         user_of(request))
        return JSONResponse(result)

    async def post_status(request: Request) -> Response:
        body = await json_body(request)
        status = field(body, "status", str)

        def mark() -> Json:
            tape = mark_tape(service.inventory, request.path_params["barcode"], status, user_of(request),
                             busy_drives(service))
            return with_state([tape], service.inventory.pools(), service.inventory.clock().date())[0]

        return JSONResponse(await run_in_threadpool(mark))

    v = PREFIX
    return [
        Route(f"{v}/swap-list", answering_errors(get_swap_list)),
        Route(f"{v}/swaps", answering_errors(post_swap), methods=["POST"]),
        Route(f"{v}/tapes/{{barcode}}/status", answering_errors(post_status), methods=["POST"]),
    ]
