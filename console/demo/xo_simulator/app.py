"""The HTTP face of the fake Xen Orchestra: a Starlette app answering like XO's /rest/v0.

See shared/reference/xen-orchestra.md for the behaviour copied here: both ways to authenticate,
collections with fields/filter/limit/ndjson, chunked VDI exports with no Content-Length, imports that
need a Content-Length, the VM snapshot task. `/_sim/...` is the simulator's own admin API (faults,
received imports); it takes the same authentication.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from console.demo.xo_simulator.faults import XAPI_ERROR_BODY, Fault
from console.demo.xo_simulator.filters import FilterError, compile_filter
from console.demo.xo_simulator.inventory import COLLECTIONS, Inventory
from console.demo.xo_simulator.sim import ImportRecord, XoSim, parse_expires_in
from console.demo.xo_simulator.vhdgen import raw_chunks
from console.engine.tapeformat.vhd import VhdError, measure_vhd_stream

PREFIX = "/rest/v0"
EXPORT_FORMATS = ("vhd", "raw")
_HEAD_KEEP = 8 * 1024 * 1024  # bytes of an uploaded VHD kept to check its head

Handler = Callable[[Request], Awaitable[Response]]


class SimulatedDrop(Exception):
    """Raised inside an export body to cut the connection (fault `drop_at`)."""


def _error(status: int, message: str) -> Response:
    return PlainTextResponse(message + "\n", status_code=status)


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() in ("true", "1", "")


class XoSimApp:
    """Builds the Starlette app for one XoSim."""

    def __init__(self, sim: XoSim) -> None:
        self.sim = sim
        self._task_events: dict[str, asyncio.Event] = {}
        self._running: set[asyncio.Task[None]] = set()
        auth = self._authed
        self.app = Starlette(
            routes=[
                Route(f"{PREFIX}/users/{{user}}/authentication_tokens", auth(self.create_token), methods=["POST"]),
                Route(f"{PREFIX}/vms/{{ref}}/actions/snapshot", auth(self.snapshot_vm), methods=["POST"]),
                Route(f"{PREFIX}/tasks/{{ref}}", auth(self.get_task), methods=["GET"]),
                Route(f"{PREFIX}/srs/{{ref}}/vdis", auth(self.import_new_vdi), methods=["POST"]),
                Route(f"{PREFIX}/{{collection}}/{{ref}}/vdis", auth(self.list_vm_vdis), methods=["GET"]),
                Route(f"{PREFIX}/{{collection}}", auth(self.list_collection), methods=["GET"]),
                Route(f"{PREFIX}/{{collection}}/{{ref}}", auth(self.get_object), methods=["GET"]),
                Route(f"{PREFIX}/vdis/{{ref}}", auth(self.import_into_vdi), methods=["PUT"]),
                Route("/_sim/faults", auth(self.sim_faults), methods=["GET", "POST", "DELETE"]),
                Route("/_sim/imports", auth(self.sim_imports), methods=["GET"]),
            ]
        )

    # --- authentication --------------------------------------------------------------------------

    def _auth_problem(self, request: Request) -> Response | None:
        cookie = request.cookies.get("authenticationToken") or request.cookies.get("token")
        authorization = request.headers.get("authorization")
        if cookie and authorization:
            return _error(400, "use either the authenticationToken cookie or the Authorization header, not both")
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "basic":
                return self._unauthorized(f"{scheme} authentication is not supported")
            try:
                user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return self._unauthorized("malformed Basic credentials")
            return None if self.sim.check_password(user, password) else self._unauthorized("invalid credentials")
        if cookie:
            return None if self.sim.token_valid(cookie) else self._unauthorized("invalid or expired token")
        return self._unauthorized("authentication required")

    @staticmethod
    def _unauthorized(message: str) -> Response:
        response = _error(401, message)
        response.headers["www-authenticate"] = 'Basic realm="xo"'
        return response

    def _authed(self, handler: Handler) -> Handler:
        async def wrapper(request: Request) -> Response:
            return self._auth_problem(request) or await handler(request)

        return wrapper

    async def create_token(self, request: Request) -> Response:
        if request.path_params["user"] not in ("me", self.sim.inventory.user_id):
            return _error(403, "you can only create authentication tokens for yourself")
        body = await request.body()
        try:
            params = json.loads(body) if body.strip() else {}
            if not isinstance(params, dict):
                raise ValueError("the body must be a JSON object")
            kwargs: dict[str, Any] = {}
            if "expiresIn" in params:
                kwargs["expires_in_ms"] = parse_expires_in(params["expiresIn"])
            client = params.get("client")
            token = self.sim.create_token(
                description=params.get("description"),
                client_id=client.get("id") if isinstance(client, dict) else None,
                **kwargs,
            )
        except ValueError as exc:
            return _error(400, str(exc))
        return JSONResponse({"token": token}, status_code=201)

    # --- collections and objects -----------------------------------------------------------------

    def _render(self, request: Request, collection: str, objects: list[dict[str, Any]]) -> Response:
        params = request.query_params
        items = [Inventory.public(obj) for obj in objects]
        try:
            if params.get("filter"):
                predicate = compile_filter(params["filter"])
                items = [obj for obj in items if predicate(obj)]
            if params.get("limit"):
                limit = float(params["limit"])
                if limit < 0 or limit != int(limit):
                    raise ValueError(f"bad limit {params['limit']!r}")
                items = items[: int(limit)]
        except (FilterError, ValueError) as exc:
            return _error(400, str(exc))
        fields = params.get("fields")
        out: list[Any]
        if fields is None:
            out = [f"{PREFIX}/{collection}/{obj['id']}" for obj in items]
        else:
            wanted = None if fields == "*" else [f.strip() for f in fields.split(",") if f.strip()]
            out = [
                ({k: v for k, v in obj.items() if wanted is None or k in wanted})
                | {"href": f"{PREFIX}/{collection}/{obj['id']}"}
                for obj in items
            ]
        if _flag(request, "ndjson"):
            body = "".join(json.dumps(item) + "\n" for item in out)
            return Response(body, media_type="application/x-ndjson")
        return JSONResponse(out)

    async def list_collection(self, request: Request) -> Response:
        collection = request.path_params["collection"]
        if collection not in COLLECTIONS:
            return _error(404, f"no such collection {collection!r}")
        with self.sim.lock:
            objects = list(self.sim.inventory.objects[collection].values())
        return self._render(request, collection, objects)

    async def list_vm_vdis(self, request: Request) -> Response:
        collection, ref = request.path_params["collection"], request.path_params["ref"]
        if collection not in ("vms", "vm-snapshots"):
            return _error(404, f"no route for {request.url.path}")
        if self.sim.find(collection, ref) is None:
            return _error(404, f"no such {collection[:-1]} {ref}")
        with self.sim.lock:
            vdis = self.sim.inventory.vm_vdis(ref)
        return self._render(request, "vdis" if collection == "vms" else "vdi-snapshots", vdis)

    async def get_object(self, request: Request) -> Response:
        collection, ref = request.path_params["collection"], request.path_params["ref"]
        if collection not in COLLECTIONS:
            return _error(404, f"no such collection {collection!r}")
        obj_id, dot, fmt = ref.partition(".")
        if dot:
            if collection not in ("vdis", "vdi-snapshots"):
                return _error(404, f"no export of {collection} as {fmt}")
            return await self.export_vdi(collection, obj_id, fmt)
        obj = self.sim.find(collection, obj_id)
        if obj is None:
            return _error(404, f"no such {collection[:-1]} {obj_id}")
        return JSONResponse(Inventory.public(obj))

    # --- exports ---------------------------------------------------------------------------------

    async def export_vdi(self, collection: str, vdi_id: str, fmt: str) -> Response:
        if fmt not in EXPORT_FORMATS:
            return _error(422, f"invalid format {fmt!r}: use vhd or raw")
        obj = self.sim.find(collection, vdi_id)
        if obj is None:
            return _error(404, f"no such {collection[:-1]} {vdi_id}")
        disk = self.sim.inventory.disks.get(vdi_id)
        if disk is None:
            return _error(409, f"the content of VDI {vdi_id} was imported: the simulator kept only its digest")
        fault = self.sim.faults.take(vdi_id) or Fault()
        if fault.first_byte_delay:
            await asyncio.sleep(fault.first_byte_delay)
        source: Iterator[bytes]
        if fault.error_in_body:
            source = iter([XAPI_ERROR_BODY])
        elif fmt == "vhd":
            source = self.sim.vhd_image(vdi_id).chunks()
        else:
            source = raw_chunks(disk)
        return StreamingResponse(
            _faulty_body(source, fault),
            media_type="application/octet-stream",
            headers={"content-disposition": f'attachment; filename="{vdi_id}.{fmt}"'},
        )

    # --- imports ---------------------------------------------------------------------------------

    async def _receive(self, request: Request, fmt: str, *, length_required: bool) -> tuple[int, str, bytes] | Response:
        """Read an upload: (size, sha256, head kept for a VHD) or an error answer."""
        announced = request.headers.get("content-length")
        if announced is None and length_required:
            return _error(411, "Content-Length is required: XAPI refuses chunked uploads")
        digest = hashlib.sha256()
        size = 0
        head = bytearray()
        async for chunk in request.stream():
            digest.update(chunk)
            size += len(chunk)
            if fmt == "vhd" and len(head) < _HEAD_KEEP:
                head += chunk[: _HEAD_KEEP - len(head)]
        if announced is not None and int(announced) != size:
            return _error(400, f"received {size} bytes, Content-Length said {announced}")
        return size, digest.hexdigest(), bytes(head)

    @staticmethod
    def _check_vhd(head: bytes, size: int) -> int | Response:
        """The virtual size of an uploaded VHD, or a 400 saying what is wrong with it."""
        try:
            measured = measure_vhd_stream(iter([head]))
        except VhdError as exc:
            return _error(400, f"invalid VHD: {exc}")
        if measured.length != size:
            return _error(400, f"invalid VHD: its head gives a length of {measured.length}, received {size} bytes")
        return measured.info.virtual_size

    async def import_into_vdi(self, request: Request) -> Response:
        vdi_id, dot, fmt = request.path_params["ref"].partition(".")
        if not dot or fmt not in EXPORT_FORMATS:
            return _error(422, f"invalid format {fmt!r}: use vhd or raw")
        vdi = self.sim.find("vdis", vdi_id)
        if vdi is None:
            return _error(404, f"no such VDI {vdi_id}")
        received = await self._receive(request, fmt, length_required=True)
        if isinstance(received, Response):
            return received
        size, sha, head = received
        virtual: int | Response = size
        if fmt == "vhd":
            virtual = self._check_vhd(head, size)
            if isinstance(virtual, Response):
                return virtual
        if virtual != vdi["size"]:
            return _error(400, f"{fmt} of {virtual} bytes does not match the VDI size {vdi['size']}")
        self.sim.record_import(ImportRecord(
            vdi_id=vdi_id, fmt=fmt, size=size, sha256=sha, created=False, sr_id=vdi["$SR"],
            content_length=int(request.headers["content-length"]), virtual_size=virtual if fmt == "vhd" else None,
        ))
        return Response(status_code=204)

    async def import_new_vdi(self, request: Request) -> Response:
        sr_id = request.path_params["ref"]
        if self.sim.find("srs", sr_id) is None:
            return _error(404, f"no such SR {sr_id}")
        fmt = "raw" if _flag(request, "raw") else "vhd"
        received = await self._receive(request, fmt, length_required=fmt == "vhd")
        if isinstance(received, Response):
            return received
        size, sha, head = received
        virtual: int | Response = size
        if fmt == "vhd":
            virtual = self._check_vhd(head, size)
            if isinstance(virtual, Response):
                return virtual
        elif size == 0 or size % 512:
            return _error(400, f"a raw disk must be a positive multiple of 512 bytes, received {size}")
        name = request.query_params.get("name_label", "imported VDI")
        with self.sim.lock:
            vdi_id = self.sim.inventory.create_vdi(sr_id, name, virtual)
        length = request.headers.get("content-length")
        self.sim.record_import(ImportRecord(
            vdi_id=vdi_id, fmt=fmt, size=size, sha256=sha, created=True, sr_id=sr_id, name_label=name,
            content_length=int(length) if length is not None else None,
            virtual_size=virtual if fmt == "vhd" else None,
        ))
        return JSONResponse({"id": vdi_id}, status_code=201, headers={"location": f"{PREFIX}/vdis/{vdi_id}"})

    # --- snapshot task ---------------------------------------------------------------------------

    async def snapshot_vm(self, request: Request) -> Response:
        vm_id = request.path_params["ref"]
        vm = self.sim.find("vms", vm_id)
        if vm is None:
            return _error(404, f"no such VM {vm_id}")
        body = await request.body()
        try:
            params = json.loads(body) if body.strip() else {}
        except ValueError:
            return _error(400, "the body must be JSON")
        name = params.get("name_label") if isinstance(params, dict) else None
        task = self.sim.new_task(f"REST API: snapshot VM {vm['name_label']}", vm_id, "VM")
        done = self._task_events[task["id"]] = asyncio.Event()
        job = asyncio.create_task(self._run_snapshot(task, vm_id, name, done))
        self._running.add(job)
        job.add_done_callback(self._running.discard)
        if _flag(request, "sync"):
            await done.wait()
            if task["status"] != "success":
                return _error(500, f"snapshot failed: {task['result'].get('message')}")
            return JSONResponse({"id": task["result"]["id"]}, status_code=201)
        location = f"{PREFIX}/tasks/{task['id']}"
        return JSONResponse({"taskId": task["id"]}, status_code=202, headers={"location": location})

    async def _run_snapshot(self, task: dict[str, Any], vm_id: str, name: str | None, done: asyncio.Event) -> None:
        try:
            await asyncio.sleep(self.sim.settings.snapshot_seconds)
            error = self.sim.settings.snapshot_error
            if error:
                failure = {"code": error, "message": f"{error}()", "name": "XapiError"}
                self.sim.finish_task(task, ok=False, result=failure)
            else:
                with self.sim.lock:
                    snap_id = self.sim.inventory.snapshot_vm(vm_id, name)
                self.sim.finish_task(task, ok=True, result={"id": snap_id})
        finally:
            done.set()

    async def get_task(self, request: Request) -> Response:
        task_id = request.path_params["ref"]
        with self.sim.lock:
            task = self.sim.tasks.get(task_id)
        if task is None:
            return _error(404, f"no such task {task_id}")
        event = self._task_events.get(task_id)
        if "wait" in request.query_params and request.query_params["wait"] in ("true", "result") and event:
            await event.wait()
        with self.sim.lock:
            return JSONResponse(dict(task))

    # --- simulator admin -------------------------------------------------------------------------

    async def sim_faults(self, request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(self.sim.faults.snapshot())
        if request.method == "DELETE":
            vdi = request.query_params.get("vdi")
            self.sim.faults.clear(vdi, everything=vdi is None and "global" not in request.query_params)
            return Response(status_code=204)
        try:
            params = await request.json()
            if not isinstance(params, dict):
                raise ValueError("the body must be a JSON object")
            vdi = params.pop("vdi", None)
            self.sim.set_fault(vdi, **params)
        except (ValueError, TypeError) as exc:
            return _error(400, f"bad fault: {exc}")
        return Response(status_code=204)

    async def sim_imports(self, request: Request) -> Response:
        return JSONResponse([record.to_json() for record in self.sim.received()])


async def _faulty_body(source: Iterator[bytes], fault: Fault) -> AsyncIterator[bytes]:
    """The export body, generated in a worker thread, with the fault's truncation, drop or extra bytes."""
    sent = 0
    cut = fault.drop_at if fault.drop_at is not None else fault.truncate_at
    while True:
        chunk = await anyio.to_thread.run_sync(next, source, None)
        if chunk is None:
            break
        if cut is not None and sent + len(chunk) >= cut:
            yield chunk[: cut - sent]
            if fault.drop_at is not None:
                raise SimulatedDrop(f"fault: connection dropped at byte {cut}")
            return
        sent += len(chunk)
        yield chunk
    if fault.extra_bytes:
        yield b"\0" * fault.extra_bytes


def create_app(sim: XoSim) -> Starlette:
    return XoSimApp(sim).app

