"""The API of restores, verifies and scans (/v1/...), served beside the main routes of api.py.

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

from console.engine.daemon.service import TapeService
from console.engine.refusals import BadRequest
from console.engine.restore.find import DEFAULT_LIMIT
from console.engine.restore.manager import RestoreManager
from console.engine.restore.plan import RestoreRequest


def restore_routes(service: TapeService, manager: RestoreManager) -> list[Route]:
    # The main API's request helpers; imported here because api.py imports this module to add these routes.
    from console.engine.daemon import api as base

    async def find(request: Request) -> Response:
        query = request.query_params
        limit = query.get("limit", str(DEFAULT_LIMIT))
        if not limit.isdigit():
            raise BadRequest("limit must be a whole number")
        result = await run_in_threadpool(
            manager.find, query.get("pattern"), vm=query.get("vm"), vdi=query.get("vdi"), night=query.get("night"),
            limit=int(limit),
        )
        return JSONResponse(result)

    async def plan(request: Request) -> Response:
        wanted = RestoreRequest.from_json(await base._json_body(request))
        return JSONResponse(await run_in_threadpool(manager.plan, wanted))

    async def restore(request: Request) -> Response:
        wanted = RestoreRequest.from_json(await base._json_body(request))
        result = await run_in_threadpool(manager.start_restore, wanted, base._user(request))
        return JSONResponse(result, status_code=202)

    async def verify(request: Request) -> Response:
        body = await base._json_body(request)
        result = await run_in_threadpool(
            manager.start_verify, base._field(body, "tape", str), base._field(body, "set", int, required=False),
            base._user(request), base._field(body, "drive", str, required=False),
        )
        return JSONResponse(result, status_code=202)

    async def scan(request: Request) -> Response:
        slot = service.slot(request.path_params["name"])
        result = await run_in_threadpool(manager.start_scan, slot.name, base._user(request))
        return JSONResponse(result, status_code=202)

    async def runs(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(manager.list))

    async def run(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(manager.get, request.path_params["id"]))

    async def cancel(request: Request) -> Response:
        result = await run_in_threadpool(manager.cancel, request.path_params["id"], base._user(request))
        return JSONResponse(result)

    v = f"/{base.API_VERSION}"
    return [
        Route(f"{v}/find", base._errors(find)),
        Route(f"{v}/restore-plan", base._errors(plan), methods=["POST"]),
        Route(f"{v}/restores", base._errors(restore), methods=["POST"]),
        Route(f"{v}/restores", base._errors(runs), methods=["GET"]),
        Route(f"{v}/restores/{{id:int}}", base._errors(run)),
        Route(f"{v}/restores/{{id:int}}/cancel", base._errors(cancel), methods=["POST"]),
        Route(f"{v}/verify", base._errors(verify), methods=["POST"]),
        Route(f"{v}/drives/{{name}}/scan", base._errors(scan), methods=["POST"]),
    ]
