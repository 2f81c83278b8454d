"""Who is on the other end of the Unix socket: the kernel's word (SO_PEERCRED), not the client's.

uvicorn runs the daemon's HTTP with PeerCredH11Protocol: when a connection is made it asks the socket for the
peer's uid, gid and pid and hands them to every request of that connection in the ASGI scope
(scope["extensions"]["tapeconsole.peer"]). The audit trail records that user; a header a client sends
cannot change it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from console.engine.unix_users import user_name

PEER_KEY = "tapeconsole.peer"
_CRED = struct.Struct("3i")  # struct ucred: pid, uid, gid
log = logging.getLogger("tapeconsole.daemon")


def peer_of(sock: socket.socket | None) -> dict[str, Any] | None:
    """{"uid", "gid", "pid", "user"} of the process at the other end of a Unix socket; None elsewhere."""
    if sock is None or getattr(sock, "family", None) != socket.AF_UNIX or not hasattr(socket, "SO_PEERCRED"):
        return None
    try:
        pid, uid, gid = _CRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CRED.size))
    except OSError as exc:
        log.warning("cannot read the peer's credentials: %s", exc)
        return None
    return {"uid": uid, "gid": gid, "pid": pid, "user": user_name(uid)}


def scope_peer(scope: dict[str, Any]) -> dict[str, Any] | None:
    extensions = scope.get("extensions") or {}
    peer = extensions.get(PEER_KEY)
    return peer if isinstance(peer, dict) else None


class _WithPeer:
    """The app, with the connection's peer in the scope of each of its requests."""

    def __init__(self, app: Any, peer: dict[str, Any]) -> None:
        self.app = app
        self.peer = peer

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        scope.setdefault("extensions", {})
        if scope["extensions"] is None:
            scope["extensions"] = {}
        scope["extensions"][PEER_KEY] = dict(self.peer)
        await self.app(scope, receive, send)


class PeerCredH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, adding the peer's credentials to each request (pass as http= to uvicorn.Config)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        peer = peer_of(transport.get_extra_info("socket"))
        if peer is not None:
            self.app = _WithPeer(self.app, peer)
