"""Run the fake Xen Orchestra over real HTTP: in a thread (tests, the embedded demo) or in the foreground
(the `tapeconsole xosim` command).
"""

from __future__ import annotations

import logging
import secrets
import socket
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import uvicorn

from console.demo.xo_simulator.app import SimulatedDrop, create_app
from console.demo.xo_simulator.inventory import InventoryOptions
from console.demo.xo_simulator.sim import SimSettings, XoSim
from console.engine.sources.xo_client import write_token_file


class _HideSimulatedDrops(logging.Filter):
    """uvicorn logs an exception raised inside a body; a drop the simulator was asked for is not one."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        while exc is not None:
            if isinstance(exc, SimulatedDrop):
                return False
            if isinstance(exc, BaseExceptionGroup) and any(isinstance(e, SimulatedDrop) for e in exc.exceptions):
                return False
            exc = exc.__cause__ or exc.__context__
        return True


def _quiet_drops() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideSimulatedDrops) for f in logger.filters):
        logger.addFilter(_HideSimulatedDrops())


def _build(seed: int, scale: float, token: str | None, settings: SimSettings | None,
           inventory_options: InventoryOptions | None, host: str, port: int,
           tls: tuple[str | Path, str | Path] | None = None,
           ) -> tuple[XoSim, str, uvicorn.Server, socket.socket]:
    sim = XoSim(seed, scale, settings=settings, inventory_options=inventory_options)
    token = sim.create_token(description="xosim", token=token or secrets.token_urlsafe(32))["id"]
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    certfile, keyfile = (str(tls[0]), str(tls[1])) if tls else (None, None)
    config = uvicorn.Config(create_app(sim), http="h11", lifespan="off", access_log=False, log_level="warning",
                            ssl_certfile=certfile, ssl_keyfile=keyfile)
    _quiet_drops()
    return sim, token, uvicorn.Server(config), sock


def _url(host: str, sock: socket.socket, tls: bool = False) -> str:
    port = sock.getsockname()[1]
    scheme = "https" if tls else "http"
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


@dataclass
class XoSimHandle:
    """A fake XO serving in a background thread: `.url`, `.token` (for the authenticationToken cookie),
    `.sim` (its state: received imports, faults, inventory), `.stop()`."""

    url: str
    token: str
    sim: XoSim
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self) -> XoSimHandle:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def start_xosim_in_thread(
    seed: int = 0,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    scale: float = 1.0,
    token: str | None = None,
    settings: SimSettings | None = None,
    inventory_options: InventoryOptions | None = None,
    tls: tuple[str | Path, str | Path] | None = None,
    startup_timeout: float = 10.0,
) -> XoSimHandle:
    """Start a fake XO on host:port (0: any free port) in a daemon thread; returns once it listens.

    `tls` = (certificate file, key file) serves HTTPS, e.g. with a self-signed certificate.
    """
    sim, token, server, sock = _build(seed, scale, token, settings, inventory_options, host, port, tls)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="xosim", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the fake XO did not start on {host}:{port}")
        time.sleep(0.01)
    return XoSimHandle(_url(host, sock, tls is not None), token, sim, server, thread)


def run_xosim(
    host: str = "127.0.0.1",
    port: int = 8480,
    seed: int = 0,
    token_file: str | Path | None = None,
    *,
    scale: float = 1.0,
    token: str | None = None,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve a fake XO in the foreground until interrupted (SIGINT/SIGTERM).

    The token is written to `token_file` with mode 0600, for `XoClient(url, token_file=...)`.
    """
    sim, token, server, sock = _build(seed, scale, token, None, None, host, port)
    say = announce or (lambda line: print(line, file=sys.stderr))
    if token_file is not None:
        write_token_file(token_file, token)
        say(f"xosim: token written to {token_file}")
    say(f"xosim: fake Xen Orchestra (seed {seed}, scale {scale}) on {_url(host, sock)}/rest/v0, "
        f"Basic login {sim.settings.user}")
    server.run(sockets=[sock])
