"""The API bounds what a client sends: 413 for a body too large, 400 for JSON nested too deep or a bad
number in the query; never a 500, never the memory of a 1 GiB body."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from console.engine.daemon.api import build_app
from console.engine.daemon.request_limits import MAX_BODY_BYTES, MAX_JSON_DEPTH, RequestLimits, json_depth
from console.engine.daemon.routes.requests import answering_errors, json_body
from tests.restore.conftest import make_site, restore_site  # noqa: F401 - fixtures


def echo_app() -> Starlette:
    async def echo(request: Request) -> JSONResponse:
        return JSONResponse(await json_body(request))

    from starlette.middleware import Middleware

    return Starlette(routes=[Route("/echo", answering_errors(echo), methods=["POST"])],
                     middleware=[Middleware(RequestLimits)])


async def post(app: Starlette, content: bytes | None = None, **kw: object) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        return await client.post("/echo", content=content, **kw)  # type: ignore[arg-type]


async def test_a_body_over_the_limit_is_413_and_not_read() -> None:
    sent = 0

    async def endless():  # noqa: ANN202 - no length announced: the limit counts what arrives
        nonlocal sent
        while sent < 64 * MAX_BODY_BYTES:
            sent += 65536
            yield b" " * 65536

    answer = await post(echo_app(), endless())
    assert answer.status_code == 413 and "over the limit" in answer.json()["error"]
    assert sent <= MAX_BODY_BYTES + 2 * 65536
    answer = await post(echo_app(), b"{}", headers={"content-length": str(10**12)})
    assert answer.status_code == 413 and "POST /echo" in answer.json()["error"]


async def test_json_nested_too_deep_is_400() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    answer = await post(echo_app(), deep)
    assert answer.status_code == 400 and f"deeper than {MAX_JSON_DEPTH}" in answer.json()["error"]
    ok = await post(echo_app(), b'{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}')
    assert ok.status_code == 200  # brackets inside a string do not count
    assert json_depth(b'{"a": [{"b": "\\"["}]}') == 3


@pytest.mark.parametrize("query", ["/v1/events?after=%C2%B2", "/v1/audit?limit=%C2%B2", "/v1/find?limit=%C2%B2",
                                   "/v1/events?after=99999999999999999999999"])
async def test_a_number_that_is_not_plain_digits_is_400(restore_site, query: str) -> None:  # noqa: F811
    rs = restore_site()
    app = build_app(rs.service)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        answer = await client.get(query)
    assert answer.status_code == 400, answer.text
    assert "whole number" in answer.json()["error"]
