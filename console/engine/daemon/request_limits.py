"""Bounds on what a client may send: the API's requests are small JSON objects.

An ASGI middleware in front of every route: a body larger than MAX_BODY_BYTES is answered 413 without
being read further (the Content-Length alone is enough when it is given); a JSON body nested deeper than
MAX_JSON_DEPTH is answered 400 before any parser sees it (Python's json recurses). Either answer is one
line naming the request, like every refusal of the API.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32


class BodyTooLarge(Exception):
    pass


def json_depth(data: bytes, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep the arrays and objects of JSON text `data` nest (strings skipped), stopping past `limit`."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    return deepest
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


async def _answer(send: Send, status: int, error: str) -> None:
    body = json.dumps({"error": error}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class RequestLimits:
    def __init__(self, app: ASGIApp, *, max_body: int = MAX_BODY_BYTES, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_body = max_body
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        what = f"{scope['method']} {scope['path']}"
        length = _content_length(scope)
        if length is not None and length > self.max_body:
            await _answer(send, 413, f"{what}: request body of {length} bytes is over the limit of "
                                     f"{self.max_body} bytes")
            return
        try:
            body = await self._read(receive)
        except BodyTooLarge:
            await _answer(send, 413, f"{what}: request body is over the limit of {self.max_body} bytes")
            return
        if json_depth(body, self.max_depth) > self.max_depth:
            await _answer(send, 400, f"{what}: request body nests deeper than {self.max_depth} levels")
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _read(self, receive: Receive) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            message: Any = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > self.max_body:
                raise BodyTooLarge
            parts.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(parts)


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
