"""The API of the audit log's integrity, served beside the main routes of api.py (GET /v1/audit lists entries).

GET /v1/audit/verify    check the hash chain and the tip recorded in the inventory:
                        {ok, entries, lines, tip, recorded_tip, problem, problems, notes, summary}
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from console.engine.daemon.service import TapeService


def audit_routes(service: TapeService) -> list[Route]:
    # The main API's request helpers; imported here because api.py imports this module to add these routes.
    from console.engine.daemon import api as base

    async def verify(request: Request) -> Response:
        result = await run_in_threadpool(service.inventory.verify_audit)
        return JSONResponse(result.to_json())

    v = f"/{base.API_VERSION}"
    return [Route(f"{v}/audit/verify", base._errors(verify))]
