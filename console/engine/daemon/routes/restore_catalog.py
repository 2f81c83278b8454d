"""GET /v1/restore-catalog: everything the restore walkthrough opens with, in one answer.

The backup sets (as GET /v1/sets), the member lists of the newest restorable ones (as GET /v1/sets/{id};
`?limit=` how many, default 60), the jobs (as GET /v1/jobs) and the restore runs (as GET /v1/restores),
read from what the daemon already holds: its inventory, its job rows and its restore manager.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from console.engine.daemon.routes.requests import PREFIX, answering_errors, whole_number
from console.engine.daemon.routes.rotation import job_rows
from console.engine.daemon.service import TapeService
from console.wire.restore_catalog import DETAIL_LIMIT, RestoreCatalog, detailed


def restore_catalog(service: TapeService, limit: int = DETAIL_LIMIT) -> dict[str, Any]:
    sets = service.sets()
    details = {s["id"]: service.set_detail(s["id"]) for s in detailed(sets, limit)}
    return RestoreCatalog(sets, details, job_rows(service), service.restores.list()).to_json()


def restore_catalog_routes(service: TapeService) -> list[Route]:

    async def catalog(request: Request) -> Response:
        limit = whole_number(request, "limit", DETAIL_LIMIT)
        assert limit is not None
        return JSONResponse(await run_in_threadpool(restore_catalog, service, limit))

    return [Route(f"{PREFIX}/restore-catalog", answering_errors(catalog))]
