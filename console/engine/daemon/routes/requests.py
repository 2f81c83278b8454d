"""What every route of the API shares: the client's user, the JSON body and its fields, one-line errors.

Errors come back as {"error": "<one line>"} with 400, 404, 409 or 500.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from console.engine.daemon.peer import scope_peer
from console.engine.drives.base import DriveError
from console.engine.inventory import InventoryError
from console.engine.refusals import BadRequest, Refused

API_VERSION = "v1"
PREFIX = f"/{API_VERSION}"
USER_HEADER = "x-tapeconsole-user"
log = logging.getLogger("tapeconsole.api")

Handler = Callable[[Request], Awaitable[Response]]


def user_of(request: Request) -> str:
    """The Unix user of the client, from the socket (SO_PEERCRED); the header only without a socket (tests)."""
    peer = scope_peer(request.scope)
    return peer["user"] if peer is not None else request.headers.get(USER_HEADER, "unknown")[:64]


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadRequest("request body is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("request body must be a JSON object")
    return body


MAX_WHOLE_NUMBER = 10**12  # a limit, an event number: nothing larger is meaningful


def whole_number(request: Request, name: str, default: int | None = None) -> int | None:
    """Query parameter `name` as a whole number (ASCII digits only, at most 10^12), or `default`."""
    text = request.query_params.get(name)
    if text is None or text == "" and default is not None:
        return default
    if not (text.isascii() and text.isdigit()) or len(text) > 13 or int(text) > MAX_WHOLE_NUMBER:
        raise BadRequest(f"{request.method} {request.url.path}: query parameter {name!r} must be a whole number "
                         f"from 0 to {MAX_WHOLE_NUMBER}, got {text[:40]!r}")
    return int(text)


def field(body: dict[str, Any], name: str, kind: type, required: bool = True) -> Any:
    value = body.get(name)
    if value is None:
        if required:
            raise BadRequest(f"missing field {name!r}")
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise BadRequest(f"field {name!r} must be {kind.__name__}")
    return value


def answering_errors(handler: Handler) -> Handler:
    """The handler's refusals and faults as one-line JSON answers; the traceback of a real fault in the log."""

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
