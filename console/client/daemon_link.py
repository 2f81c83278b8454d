"""The console's asynchronous client of the daemon: HTTP/JSON over its Unix socket, never blocking the UI.

It raises the same errors as the command line's client (console.client.daemon_client): DaemonError with the
daemon's one-line reason, DaemonUnavailable when nothing answers. Tests give it an httpx.MockTransport
serving recorded answers instead of the socket.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import httpx

from console.client.answer_cache import AnswerCache
from console.client.daemon_client import (
    BASE_URL,
    TRANSPORT_ERRORS,
    USER_HEADER,
    answer_of,
    client_user,
    unavailable,
)

# httpcore asks sniffio which event loop runs for every lock it makes (several per request). When sniffio is
# not installed, each ask is a failed import that searches all of sys.path: ~2 ms, a few % of a core at one
# poll a second. Recording it as absent once makes the ask fail at once (httpcore then assumes asyncio).
if "sniffio" not in sys.modules and importlib.util.find_spec("sniffio") is None:
    sys.modules["sniffio"] = None  # type: ignore[assignment]

STATUS_TIMEOUT = 10.0  # a status request; drive operations (load, label, eject) wait as long as the drive needs


class DaemonLink:
    def __init__(self, transport: httpx.AsyncBaseTransport, *, where: str, user: str | None = None) -> None:
        self.where = where
        self._http = httpx.AsyncClient(
            transport=transport,
            base_url=BASE_URL,
            headers={USER_HEADER: user or client_user()},
            timeout=httpx.Timeout(STATUS_TIMEOUT, connect=5.0),
        )
        self.answers = AnswerCache()

    @classmethod
    def over_socket(cls, socket_path: Path) -> DaemonLink:
        # plain HTTP on a Unix socket: no TLS, so no certificate bundle to load (that alone takes 0.2-0.7 s)
        return cls(httpx.AsyncHTTPTransport(uds=str(socket_path), verify=False), where=str(socket_path))

    async def aclose(self) -> None:
        await self._http.aclose()

    async def request(self, method: str, path: str, body: Any = None, timeout: float | None = STATUS_TIMEOUT) -> Any:
        conditional = method == "GET"
        headers = self.answers.headers(path) if conditional else {}
        try:
            response = await self._http.request(method, path, json=body, timeout=timeout, headers=headers)
        except TRANSPORT_ERRORS as exc:
            raise unavailable(exc, self.where) from None
        if response.status_code == 304 and headers:
            return self.answers.held(path)  # unchanged since the last answer: nothing sent, nothing parsed
        answer = answer_of(response, path)
        if conditional:
            self.answers.keep(path, response.headers.get("etag"), answer)
        return answer

    async def get(self, path: str) -> Any:
        """A GET, conditional when an earlier answer to it came with an ETag (304: that answer again)."""
        return await self.request("GET", path)

    async def post(self, path: str, body: dict[str, Any] | None = None, *, timeout: float | None = None) -> Any:
        """A change: no time limit by default, a tape operation takes as long as the drive needs."""
        return await self.request("POST", path, body if body is not None else {}, timeout=timeout)
