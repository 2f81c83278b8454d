"""The production client of Xen Orchestra's REST API (/rest/v0), over httpx.

- Authentication: a token sent as the `authenticationToken` cookie, read from a file that must be mode
  0600 (or given directly). `create_token()` makes one with a Basic login.
- TLS: verification on by default, with an optional CA file for a self-signed XO.
- Connect errors are retried with a bounded exponential backoff; nothing else is retried.
- Exports (`export_vdi`) know their length before the data arrives: computed from the VHD head for
  .vhd, the VDI's size for .raw. Iterating one raises XoError if the stream ends short, runs long,
  drops, or is an XAPI error passed inside a 200 body.
- Uploads always carry a Content-Length (XAPI refuses chunked uploads).
- Every failure is an XoError whose str() is one line with the HTTP status (if any) and the URL path.
"""

from __future__ import annotations

import io
import os
import re
import ssl
import stat
import time
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import Any, BinaryIO, Literal

import httpx

from console.engine.redaction import redact, remember_secret
from console.engine.sources.xo_ids import BadXoId, in_url, token_in_url
from console.engine.tapeformat.vhd import VhdError, VhdInfo, check_vhd_size, measure_vhd_stream

API = "/rest/v0"
CHUNK_SIZE = 1024 * 1024
_XAPI_ERROR = re.compile(rb"^HTTP/\d\.\d \d{3}")
_PEEK = 16

Fmt = Literal["vhd", "raw"]
UploadData = bytes | bytearray | memoryview | BinaryIO | Iterable[bytes]


class XoError(Exception):
    """A failure talking to XO; str() is one line. `status` is the HTTP status when there was one."""

    def __init__(self, message: str, *, status: int | None = None, path: str | None = None) -> None:
        super().__init__(redact(" ".join(message.split())))
        self.status = status
        self.path = path


def read_token_file(path: str | Path) -> str:
    """The token in `path`, which must be readable by its owner only (mode 0600 or stricter)."""
    path = Path(path)
    try:
        st = path.stat()
        if st.st_mode & 0o077:
            raise XoError(f"token file {path} has mode {stat.S_IMODE(st.st_mode):04o}: it must be 0600")
        token = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise XoError(f"cannot read token file {path}: {exc.strerror or exc}") from None
    if not token:
        raise XoError(f"token file {path} is empty")
    return token


def _body_excerpt(data: bytes, limit: int = 200) -> str:
    text = data.decode("utf-8", "replace").strip()
    return " ".join(text.split())[:limit]


def _tls(verify: bool, ca_file: str | Path | None) -> bool | ssl.SSLContext:
    if ca_file is not None:
        if not verify:
            raise XoError("a CA file was given with TLS verification off")
        try:
            return ssl.create_default_context(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise XoError(f"cannot load CA file {ca_file}: {exc}") from None
    return verify


def _chunks_of(data: UploadData, chunk_size: int = CHUNK_SIZE) -> Iterator[bytes]:
    if isinstance(data, bytes | bytearray | memoryview):
        view = memoryview(data)
        for start in range(0, len(view), chunk_size):
            yield bytes(view[start : start + chunk_size])
    elif isinstance(data, io.IOBase) or hasattr(data, "read"):
        reader: Any = data
        while chunk := reader.read(chunk_size):
            yield chunk
    else:
        for chunk in data:  # type: ignore[union-attr]
            if chunk:
                yield bytes(chunk)


class _CountedBody:
    """An upload body that must be exactly `length` bytes; knows whether sending has started."""

    def __init__(self, data: UploadData, length: int, what: str, chunk_size: int = CHUNK_SIZE) -> None:
        self.data, self.length, self.what, self.chunk_size = data, length, what, chunk_size
        self.started = False

    def __iter__(self) -> Iterator[bytes]:
        self.started = True
        sent = 0
        for chunk in _chunks_of(self.data, self.chunk_size):
            sent += len(chunk)
            if sent > self.length:
                raise XoError(f"{self.what}: data runs past the announced {self.length} bytes")
            yield chunk
        if sent < self.length:
            raise XoError(f"{self.what}: data ended at byte {sent} of the announced {self.length}")


class VdiExport:
    """One VDI export being received: `.length` is known; iterate for the chunks (once)."""

    def __init__(self, vdi_id: str, fmt: Fmt, length: int, chunks: Iterator[bytes], response: httpx.Response,
                 path: str, info: VhdInfo | None = None) -> None:
        self.vdi_id, self.fmt, self.length, self.info, self.path = vdi_id, fmt, length, info, path
        self.received = 0
        self._chunks = chunks
        self._response = response

    def __iter__(self) -> Iterator[bytes]:
        what = f"export of VDI {self.vdi_id} ({self.path})"
        try:
            for chunk in self._chunks:
                if self.received + len(chunk) > self.length:
                    raise XoError(
                        f"{what} runs past its length of {self.length} bytes: "
                        f"{self.received + len(chunk) - self.length} more at byte {self.length}"
                    )
                self.received += len(chunk)
                yield chunk
        except httpx.HTTPError as exc:
            raise XoError(
                f"{what} dropped at byte {self.received} of {self.length}: {exc or type(exc).__name__}"
            ) from None
        finally:
            self._response.close()
        if self.received < self.length:
            raise XoError(f"{what} ended short at byte {self.received} of {self.length}")

    def read_all(self) -> bytes:
        return b"".join(self)

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> VdiExport:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


class _Counting:
    """Iterates the chunks of a response as they arrive, counting the bytes."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.count = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.count += len(chunk)
            yield chunk


def _peek_xapi_error(chunks: Iterator[bytes]) -> tuple[bytes, Iterator[bytes]]:
    """Read the first bytes; return them and an iterator giving every chunk again."""
    taken: list[bytes] = []
    size = 0
    for chunk in chunks:
        taken.append(chunk)
        size += len(chunk)
        if size >= _PEEK:
            break

    def again() -> Iterator[bytes]:
        yield from taken
        yield from chunks

    return b"".join(taken), again()


class XoClient:
    """A Xen Orchestra REST client. Use as a context manager, or call close()."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        token_file: str | Path | None = None,
        ca_file: str | Path | None = None,
        verify: bool = True,
        timeout: float = 60.0,
        *,
        connect_retries: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 8.0,
        chunk_size: int = CHUNK_SIZE,  # bytes per piece of an upload read from a file or bytes
    ) -> None:
        if token is None and token_file is not None:
            token = read_token_file(token_file)
        if not token:
            raise XoError("no XO token: give a token or a token file")
        remember_secret(token)
        self.url = url.rstrip("/")
        self.connect_retries = max(0, connect_retries)
        self.backoff, self.max_backoff = backoff, max_backoff
        self.chunk_size = chunk_size
        self._http = httpx.Client(
            base_url=self.url,
            headers={"cookie": f"authenticationToken={token}", "accept": "application/json"},
            verify=_tls(verify, ca_file),
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> XoClient:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- plumbing --------------------------------------------------------------------------------

    @staticmethod
    def _id(value: object, what: str, *, uuid: bool = True) -> str:
        """An id for a URL path: a UUID (or, for a task, any short text), quoted with no safe character."""
        try:
            return in_url(value, what) if uuid else token_in_url(value, what)
        except BadXoId as exc:
            raise XoError(str(exc)) from None

    def _send(
        self, request: httpx.Request, *, stream: bool = False, body: _CountedBody | None = None
    ) -> httpx.Response:
        """Send with retries on connect errors; raise XoError on any failure or non-2xx status."""
        path = request.url.path
        attempt = 0
        while True:
            try:
                response = self._http.send(request, stream=stream)
                break
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt >= self.connect_retries or (body is not None and body.started):
                    raise XoError(
                        f"cannot connect to XO at {self.url} for {request.method} {path} "
                        f"after {attempt + 1} attempt(s): {exc or type(exc).__name__}",
                        path=path,
                    ) from None
                time.sleep(min(self.max_backoff, self.backoff * 2**attempt))
                attempt += 1
            except httpx.HTTPError as exc:
                raise XoError(f"{request.method} {path} failed: {exc or type(exc).__name__}", path=path) from None
        if response.is_success:
            return response
        try:
            detail = _body_excerpt(response.read()[:4096] if not stream else next(response.iter_bytes(4096), b""))
        except httpx.HTTPError:
            detail = ""
        finally:
            response.close()
        raise XoError(
            f"HTTP {response.status_code} on {request.method} {path}" + (f": {detail}" if detail else ""),
            status=response.status_code,
            path=path,
        )

    def _json(self, method: str, path: str, params: dict[str, Any] | None = None, json: Any = None) -> Any:
        response = self._send(self._http.build_request(method, API + path, params=params, json=json))
        try:
            return response.json()
        except ValueError:
            raise XoError(f"{method} {API + path}: the answer is not JSON", path=API + path) from None

    def _list(
        self, path: str, fields: str | Iterable[str], filter: str | None, limit: int | None
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"fields": fields if isinstance(fields, str) else ",".join(fields)}
        if filter:
            params["filter"] = filter
        if limit is not None:
            params["limit"] = limit
        items = self._json("GET", path, params)
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise XoError(f"GET {API + path}: expected a list of objects", path=API + path)
        return items

    # --- objects ---------------------------------------------------------------------------------

    def list_vms(self, fields: str | Iterable[str] = "*", filter: str | None = None,
                 limit: int | None = None) -> list[dict[str, Any]]:
        return self._list("/vms", fields, filter, limit)

    def list_srs(self, fields: str | Iterable[str] = "*", filter: str | None = None) -> list[dict[str, Any]]:
        return self._list("/srs", fields, filter, None)

    def list_vm_snapshots(self, fields: str | Iterable[str] = "*", filter: str | None = None) -> list[dict[str, Any]]:
        return self._list("/vm-snapshots", fields, filter, None)

    def list_vdis(self, vm_id: str | None = None, fields: str | Iterable[str] = "*", filter: str | None = None,
                  *, snapshot: bool = False, limit: int | None = None) -> list[dict[str, Any]]:
        """VDIs of the pool, or of one VM; with snapshot=True, VDI snapshots (of one VM snapshot)."""
        if vm_id is None:
            path = "/vdi-snapshots" if snapshot else "/vdis"
        else:
            path = f"/{'vm-snapshots' if snapshot else 'vms'}/{self._id(vm_id, 'VM id')}/vdis"
        return self._list(path, fields, filter, limit)

    def get_vm(self, vm_id: str) -> dict[str, Any]:
        return self._json("GET", f"/vms/{self._id(vm_id, 'VM id')}")

    def get_vdi(self, vdi_id: str, *, snapshot: bool = False) -> dict[str, Any]:
        return self._json("GET", f"/{'vdi-snapshots' if snapshot else 'vdis'}/{self._id(vdi_id, 'VDI id')}")

    # --- exports ---------------------------------------------------------------------------------

    def export_vdi(self, vdi_id: str, fmt: Fmt = "vhd", *, snapshot: bool = False,
                   expected_size: int | None = None) -> VdiExport:
        """Start an export; its length is known on return (the VHD head has been read for .vhd).

        With `expected_size` (the VDI's virtual size as XO listed it), a VHD whose head claims another disk
        size, or more bytes than a VHD of that disk can hold, is refused before a byte of it is written."""
        if fmt not in ("vhd", "raw"):
            raise XoError(f"unsupported export format {fmt!r}: vhd or raw")
        size = int(self.get_vdi(vdi_id, snapshot=snapshot)["size"]) if fmt == "raw" else None
        path = f"{API}/{'vdi-snapshots' if snapshot else 'vdis'}/{self._id(vdi_id, 'VDI id')}.{fmt}"
        request = self._http.build_request("GET", path, headers={"accept": "application/octet-stream"})
        response = self._send(request, stream=True)
        what = f"export of VDI {vdi_id} ({path})"
        source = _Counting(response.iter_bytes())
        try:
            head, chunks = _peek_xapi_error(iter(source))
            if _XAPI_ERROR.match(head):
                body = b"".join(islice(chunks, 4))
                status_line, _, rest = body.partition(b"\r\n")
                detail = rest.partition(b"\r\n\r\n")[2] or rest
                raise XoError(
                    f"{what}: XAPI error inside a 200 answer: {_body_excerpt(status_line, 80)}"
                    + (f" ({_body_excerpt(detail, 160)})" if detail.strip() else ""),
                    status=200, path=path,
                )
            if fmt == "raw":
                assert size is not None
                return VdiExport(vdi_id, fmt, size, chunks, response, path)
            measured = measure_vhd_stream(chunks)
            if expected_size is not None:
                check_vhd_size(measured.info, measured.length, expected_size)
            return VdiExport(vdi_id, fmt, measured.length, measured.chunks, response, path, measured.info)
        except VhdError as exc:
            response.close()
            raise XoError(f"{what}: {exc}", status=200, path=path) from None
        except httpx.HTTPError as exc:
            response.close()
            raise XoError(
                f"{what} dropped at byte {source.count} while its head was read: {exc or type(exc).__name__}",
                path=path,
            ) from None
        except BaseException:
            response.close()
            raise

    # --- imports ---------------------------------------------------------------------------------

    def _import(self, fmt: Fmt, data: UploadData, length: int, vdi_id: str | None, sr_id: str | None,
                name_label: str | None) -> str:
        if (vdi_id is None) == (sr_id is None):
            raise XoError("import: give exactly one of vdi_id (overwrite a VDI) or sr_id (create a VDI)")
        if vdi_id is not None:
            method, path, params = "PUT", f"{API}/vdis/{self._id(vdi_id, 'VDI id')}.{fmt}", {}
        else:
            assert sr_id is not None
            method, path = "POST", f"{API}/srs/{self._id(sr_id, 'SR id')}/vdis"
            params = {"name_label": name_label or "imported by tapeconsole"} | ({"raw": "true"} if fmt == "raw" else {})
        body = _CountedBody(data, length, f"import to {path}", self.chunk_size)
        request = self._http.build_request(
            method, path, params=params, content=body,
            headers={"content-length": str(length), "content-type": "application/octet-stream"},
        )
        response = self._send(request, body=body)
        if vdi_id is not None:
            return vdi_id
        text = response.text.strip()
        try:
            answer = response.json()
        except ValueError:
            answer = text.strip('"')  # older XO answered the bare uuid as text
        new_id = answer.get("id") if isinstance(answer, dict) else answer
        if not isinstance(new_id, str) or not new_id:
            raise XoError(f"HTTP {response.status_code} on {method} {path}: no VDI id in the answer", path=path)
        return new_id

    def import_vdi_raw(self, data: UploadData, length: int, *, vdi_id: str | None = None,
                       sr_id: str | None = None, name_label: str | None = None) -> str:
        """Upload a raw disk into VDI `vdi_id`, or into a new VDI on SR `sr_id`; returns the VDI id."""
        return self._import("raw", data, length, vdi_id, sr_id, name_label)

    def import_vdi_vhd(self, data: UploadData, length: int, *, vdi_id: str | None = None,
                       sr_id: str | None = None, name_label: str | None = None) -> str:
        """Upload a VHD into VDI `vdi_id`, or into a new VDI on SR `sr_id`; returns the VDI id."""
        return self._import("vhd", data, length, vdi_id, sr_id, name_label)

    # --- snapshots -------------------------------------------------------------------------------

    def snapshot_vm(self, vm_id: str, name_label: str | None = None, *, wait_timeout: float = 1800.0) -> str:
        """Snapshot a VM, waiting for XO's task; returns the VM snapshot's id."""
        path = f"/vms/{self._id(vm_id, 'VM id')}/actions/snapshot"
        answer = self._json("POST", path, json={"name_label": name_label} if name_label else None)
        if isinstance(answer, dict) and isinstance(answer.get("id"), str):
            return answer["id"]
        if not isinstance(answer, dict) or not isinstance(answer.get("taskId"), str):
            raise XoError(f"POST {API + path}: no taskId in the answer", path=API + path)
        task_path = f"/tasks/{self._id(answer.get('taskId'), 'task id', uuid=False)}"
        deadline = time.monotonic() + wait_timeout
        while True:
            task = self._json("GET", task_path, {"wait": "true"})
            status = task.get("status") if isinstance(task, dict) else None
            if status != "pending":
                break
            if time.monotonic() > deadline:
                raise XoError(
                    f"snapshot of VM {vm_id}: task {answer['taskId']} still pending after {wait_timeout:.0f} s",
                    path=API + task_path,
                )
            time.sleep(0.5)
        result = task.get("result")
        if status != "success":
            message = result.get("message") or result.get("code") if isinstance(result, dict) else result
            raise XoError(f"snapshot of VM {vm_id} failed (task {answer['taskId']} {status}): {message}",
                          path=API + task_path)
        snap_id = result.get("id") if isinstance(result, dict) else result
        if not isinstance(snap_id, str) or not snap_id:
            raise XoError(f"snapshot of VM {vm_id}: task {answer['taskId']} gave no snapshot id", path=API + task_path)
        return snap_id


def create_token(url: str, user: str, password: str, *, description: str = "tapeconsole",
                 expires_in: str | int | None = None, ca_file: str | Path | None = None, verify: bool = True,
                 timeout: float = 30.0) -> str:
    """Make an XO authentication token with a Basic login (POST /rest/v0/users/me/authentication_tokens)."""
    path = f"{API}/users/me/authentication_tokens"
    body: dict[str, Any] = {"description": description}
    if expires_in is not None:
        body["expiresIn"] = expires_in
    try:
        with httpx.Client(verify=_tls(verify, ca_file), timeout=timeout) as http:
            response = http.post(url.rstrip("/") + path, auth=(user, password), json=body)
    except httpx.HTTPError as exc:
        raise XoError(f"POST {path} failed: {exc or type(exc).__name__}", path=path) from None
    if not response.is_success:
        raise XoError(f"HTTP {response.status_code} on POST {path}: {_body_excerpt(response.content)}",
                      status=response.status_code, path=path)
    try:
        return str(response.json()["token"]["id"])
    except (ValueError, KeyError, TypeError):
        raise XoError(f"POST {path}: no token in the answer", path=path) from None


def write_token_file(path: str | Path, token: str) -> Path:
    """Save a token for `XoClient(token_file=...)`, mode 0600."""
    path = Path(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (token + "\n").encode())
    finally:
        os.close(fd)
    return path
