"""The versioned HTTP/JSON API (/v1/...): the only way clients touch drives and the inventory.

Every drive operation runs in a worker thread so the event loop keeps answering status requests
while a tape moves. Errors come back as {"error": "<one line>"} with 400, 404, 409 or 500.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from console.engine.daemon.api_audit import audit_routes
from console.engine.daemon.api_plan import plan_routes
from console.engine.daemon.api_restore import restore_routes
from console.engine.daemon.api_rotation import job_rows, rotation_routes
from console.engine.daemon.events import EventLog, SystemSampler
from console.engine.daemon.peer import scope_peer
from console.engine.daemon.service import TapeService
from console.engine.drives.base import DriveError
from console.engine.inventory import InventoryError
from console.engine.refusals import BadRequest, Refused

API_VERSION = "v1"
USER_HEADER = "x-tapeconsole-user"
log = logging.getLogger("tapeconsole.api")

Handler = Callable[[Request], Awaitable[Response]]


def _user(request: Request) -> str:
    """The Unix user of the client, from the socket (SO_PEERCRED); the header only without a socket (tests)."""
    peer = scope_peer(request.scope)
    return peer["user"] if peer is not None else request.headers.get(USER_HEADER, "unknown")[:64]


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise BadRequest("request body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


def _field(body: dict[str, Any], name: str, kind: type, required: bool = True) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            raise BadRequest(f"missing field {name!r}")
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise BadRequest(f"field {name!r} must be {kind.__name__}")
    return value


def _errors(handler: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except Refused as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except (DriveError, InventoryError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except Exception as exc:  # the daemon must answer, whatever broke
            log.exception("internal error on %s %s", request.method, request.url.path)
            return JSONResponse({"error": f"internal error: {exc.__class__.__name__}: {exc}"}, status_code=500)

    return wrapped


def build_app(service: TapeService, *, on_stop: Callable[[], None] | None = None,
              events: EventLog | None = None) -> Starlette:
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

    async def drives(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(service.drives))

    async def drive(request: Request) -> Response:
        slot = service.slot(request.path_params["name"])
        return JSONResponse(await run_in_threadpool(slot.describe))

    async def tapes(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(service.tapes))

    async def pools(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(service.pools))

    async def audit(request: Request) -> Response:
        limit = request.query_params.get("limit")
        if limit is not None and not limit.isdigit():
            raise BadRequest("limit must be a whole number")
        entries = await run_in_threadpool(service.inventory.audit_entries, int(limit) if limit else None)
        return JSONResponse(entries)

    async def load(request: Request) -> Response:
        body = await _json_body(request)
        barcode = _field(body, "barcode", str)
        result = await run_in_threadpool(service.load, request.path_params["name"], barcode, _user(request))
        return JSONResponse(result)

    async def eject(request: Request) -> Response:
        result = await run_in_threadpool(service.eject, request.path_params["name"], _user(request))
        return JSONResponse(result)

    async def rewind(request: Request) -> Response:
        result = await run_in_threadpool(service.rewind, request.path_params["name"], _user(request))
        return JSONResponse(result)

    async def label(request: Request) -> Response:
        body = await _json_body(request)
        result = await run_in_threadpool(
            service.label,
            request.path_params["name"],
            _field(body, "label", str),
            _field(body, "pool", str),
            _field(body, "confirm", str, required=False),
            _user(request),
        )
        return JSONResponse(result)

    async def tape_file(request: Request) -> Response:
        number = request.path_params["number"]
        stream = await run_in_threadpool(service.open_tape_file, request.path_params["name"], number, _user(request))
        return StreamingResponse(
            stream, media_type="application/x-tar", background=BackgroundTask(stream.close)
        )

    async def move_tape(request: Request) -> Response:
        body = await _json_body(request)
        result = await run_in_threadpool(
            service.move_tape, request.path_params["barcode"], _field(body, "location", str), _user(request)
        )
        return JSONResponse(result)

    async def jobs(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(job_rows, service))  # each with its next tape

    async def run_job(request: Request) -> Response:
        result = await run_in_threadpool(service.jobs.start, request.path_params["name"], _user(request))
        return JSONResponse(result, status_code=202)

    async def runs(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(service.jobs.list))

    async def run(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(service.jobs.get, request.path_params["id"]))

    async def cancel_run(request: Request) -> Response:
        result = await run_in_threadpool(service.jobs.cancel, request.path_params["id"], _user(request))
        return JSONResponse(result)

    async def sets(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(service.sets))

    async def set_detail(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(service.set_detail, request.path_params["id"]))

    async def event_list(request: Request) -> Response:
        after = request.query_params.get("after", "0")
        if not after.isdigit():
            raise BadRequest("after must be a whole number")
        return JSONResponse(events.after(int(after)) if events is not None else [])

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

    v = f"/{API_VERSION}"
    routes = [
        Route(f"{v}/health", _errors(health)),
        Route(f"{v}/drives", _errors(drives)),
        Route(f"{v}/drives/{{name}}", _errors(drive)),
        Route(f"{v}/drives/{{name}}/load", _errors(load), methods=["POST"]),
        Route(f"{v}/drives/{{name}}/eject", _errors(eject), methods=["POST"]),
        Route(f"{v}/drives/{{name}}/rewind", _errors(rewind), methods=["POST"]),
        Route(f"{v}/drives/{{name}}/label", _errors(label), methods=["POST"]),
        Route(f"{v}/drives/{{name}}/files/{{number:int}}", _errors(tape_file)),
        Route(f"{v}/tapes", _errors(tapes)),
        Route(f"{v}/tapes/{{barcode}}/location", _errors(move_tape), methods=["POST"]),
        Route(f"{v}/pools", _errors(pools)),
        Route(f"{v}/audit", _errors(audit)),
        Route(f"{v}/jobs", _errors(jobs)),
        Route(f"{v}/jobs/{{name}}/run", _errors(run_job), methods=["POST"]),
        Route(f"{v}/runs", _errors(runs)),
        Route(f"{v}/runs/{{id:int}}", _errors(run)),
        Route(f"{v}/runs/{{id:int}}/cancel", _errors(cancel_run), methods=["POST"]),
        Route(f"{v}/sets", _errors(sets)),
        Route(f"{v}/sets/{{id:int}}", _errors(set_detail)),
        Route(f"{v}/events", _errors(event_list)),
        Route(f"{v}/system", _errors(system)),
        Route(f"{v}/daemon/stop", _errors(stop), methods=["POST"]),
    ]
    routes += restore_routes(service, service.restores)
    routes += rotation_routes(service)
    routes += audit_routes(service)
    routes += plan_routes(service)
    return Starlette(routes=routes)
