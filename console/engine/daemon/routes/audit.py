"""The API of the audit log's integrity, mounted by api.py beside the core routes (GET /v1/audit lists entries).

GET /v1/audit/verify    check the hash chain and the tip recorded in the inventory:
                        {ok, entries, lines, tip, recorded_tip, problem, problems, notes, summary}
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from console.engine.daemon.routes.requests import PREFIX, answering_errors
from console.engine.daemon.service import TapeService


def audit_routes(service: TapeService) -> list[Route]:

    async def verify(request: Request) -> Response:
        result = await run_in_threadpool(service.inventory.verify_audit)
        return JSONResponse(result.to_json())

    v = PREFIX
    return [Route(f"{v}/audit/verify", answering_errors(verify))]
