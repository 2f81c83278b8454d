"""The API of restores, verifies and scans (/v1/...), mounted by api.py beside the core routes.

GET  /v1/find?pattern=&vm=&vdi=&night=&limit=   VM disks and files that can be restored
POST /v1/restore-plan      {set, to | to_xo, members?, force?, drive?}   the tapes needed, in order
POST /v1/restores          the same body: start a restore (202, a live snapshot)
POST /v1/verify            {tape, set?, drive?}: start a verify (202)
POST /v1/drives/{name}/scan                   start rebuilding the inventory from the tape in a drive (202)
GET  /v1/restores, GET /v1/restores/{id}      restore, verify and scan runs: live snapshots
POST /v1/restores/{id}/cancel
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from console.engine.daemon.routes.requests import PREFIX, answering_errors, field, json_body, user_of, whole_number
from console.engine.daemon.service import TapeService
from console.engine.restore.find import DEFAULT_LIMIT
from console.engine.restore.manager import RestoreManager
from console.engine.restore.plan import RestoreRequest


def restore_routes(service: TapeService, manager: RestoreManager) -> list[Route]:

    async def find(request: Request) -> Response:
        query = request.query_params
        limit = whole_number(request, "limit", DEFAULT_LIMIT)
        result = await run_in_threadpool(
            manager.find, query.get("pattern"), vm=query.get("vm"), vdi=query.get("vdi"), night=query.get("night"),
            limit=limit,
        )
        return JSONResponse(result)

    async def plan(request: Request) -> Response:
        wanted = RestoreRequest.from_json(await json_body(request))
        return JSONResponse(await run_in_threadpool(manager.plan, wanted))

    async def restore(request: Request) -> Response:
        wanted = RestoreRequest.from_json(await json_body(request))
        result = await run_in_threadpool(manager.start_restore, wanted, user_of(request))
        return JSONResponse(result, status_code=202)

    async def verify(request: Request) -> Response:
        body = await json_body(request)
        result = await run_in_threadpool(
            manager.start_verify, field(body, "tape", str), field(body, "set", int, required=False),
            user_of(request), field(body, "drive", str, required=False),
        )
        return JSONResponse(result, status_code=202)

    async def scan(request: Request) -> Response:
        slot = service.slot(request.path_params["name"])
        result = await run_in_threadpool(manager.start_scan, slot.name, user_of(request))
        return JSONResponse(result, status_code=202)

    async def runs(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(manager.list))

    async def run(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(manager.get, request.path_params["id"]))

    async def cancel(request: Request) -> Response:
        result = await run_in_threadpool(manager.cancel, request.path_params["id"], user_of(request))
        return JSONResponse(result)

    v = PREFIX
    return [
        Route(f"{v}/find", answering_errors(find)),
        Route(f"{v}/restore-plan", answering_errors(plan), methods=["POST"]),
        Route(f"{v}/restores", answering_errors(restore), methods=["POST"]),
        Route(f"{v}/restores", answering_errors(runs), methods=["GET"]),
        Route(f"{v}/restores/{{id:int}}", answering_errors(run)),
        Route(f"{v}/restores/{{id:int}}/cancel", answering_errors(cancel), methods=["POST"]),
        Route(f"{v}/verify", answering_errors(verify), methods=["POST"]),
        Route(f"{v}/drives/{{name}}/scan", answering_errors(scan), methods=["POST"]),
    ]
