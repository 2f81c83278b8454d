"""Conditional GETs: an ETag on the collections the console polls, and 304 Not Modified when it still holds.

Where the answer depends only on the inventory (and the day, for retention), the ETag is made from the
inventory's change counter before anything is computed, so an unchanged answer costs the daemon one
comparison. Elsewhere (jobs, runs, drives: live state) it is a hash of the answer itself, so the daemon still
computes it but sends 0 bytes of it and the client parses nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response


def matches(request: Request, etag: str) -> bool:
    """True when the client's If-None-Match names this ETag (or is *)."""
    header = request.headers.get("if-none-match")
    if not header:
        return False
    wanted = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return etag in wanted or "*" in wanted


def not_modified(etag: str) -> Response:
    return Response(status_code=304, headers={"ETag": etag})


def body_etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'


async def conditional_json(request: Request, answer: Callable[[], Any], *, etag: str | None = None) -> Response:
    """The JSON of answer() (run in a worker thread) with an ETag; 304 when the client has it already.

    `etag`, when given, must change whenever answer() would: it is compared before answer() runs."""
    if etag is not None and matches(request, etag):
        return not_modified(etag)
    body = JSONResponse(await run_in_threadpool(answer)).body
    tag = etag or body_etag(body)
    if etag is None and matches(request, tag):
        return not_modified(tag)
    return Response(body, media_type="application/json", headers={"ETag": tag})
