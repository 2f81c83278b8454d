"""Run the daemon: bind the Unix socket (0660, configured group), serve the API, clean up on exit."""

from __future__ import annotations

import contextlib
import fcntl
import grp
import logging
import os
import socket
import sys
import threading
from pathlib import Path

import uvicorn

from console.engine.config import Config
from console.engine.config_errors import ConfigError, find_line
from console.engine.daemon.api import build_app
from console.engine.daemon.service import TapeService

log = logging.getLogger("tapeconsole.daemon")


class DaemonAlreadyRunning(Exception):
    pass


def setup_logging(level: str) -> None:
    """One line per event on stderr: journald adds the time and unit under systemd."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("tapeconsole")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False


def socket_answers(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def bind_socket(config: Config) -> socket.socket:
    """Create the listening socket with mode 0660 and the configured group, replacing a stale one."""
    path = config.daemon.socket
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        if socket_answers(path):
            raise DaemonAlreadyRunning(f"a daemon already answers on {path}")
        path.unlink()
    gid = -1
    if config.daemon.group:
        try:
            gid = grp.getgrnam(config.daemon.group).gr_gid
        except KeyError:
            text = config.path.read_text(encoding="utf-8")
            raise ConfigError(config.path, "daemon.group", f"no such Unix group {config.daemon.group!r}",
                              find_line(text, "daemon.group")) from None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o117)
    try:
        sock.bind(str(path))
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o660)
    if gid != -1:
        os.chown(path, -1, gid)
    sock.listen(64)
    return sock


def serve(config: Config) -> int:
    """Run in the foreground until SIGTERM/SIGINT or POST /v1/daemon/stop. Returns the exit code."""
    setup_logging(config.daemon.log_level)
    config.daemon.state_dir.mkdir(parents=True, exist_ok=True)
    lock_path = config.daemon.state_dir / "daemon.lock"
    lock = open(lock_path, "a+")  # noqa: SIM115 - held for the daemon's whole life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise DaemonAlreadyRunning(f"another daemon holds {lock_path}") from None
    try:
        return _serve_locked(config)
    finally:
        lock.close()


def _serve_locked(config: Config) -> int:
    sock = bind_socket(config)
    pid_file = config.daemon.state_dir / "daemon.pid"
    service: TapeService | None = None
    try:
        service = TapeService(config)
        server: uvicorn.Server | None = None

        def stop() -> None:
            log.info("stop requested through the API")
            if server is not None:
                server.should_exit = True

        app = build_app(service, on_stop=stop)
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5)
        )
        pid_file.write_text(f"{os.getpid()}\n")
        threading.Thread(target=service.identify_loaded, name="identify", daemon=True).start()
        log.info("daemon pid=%d listening on %s (config %s)", os.getpid(), config.daemon.socket, config.path)
        server.run(sockets=[sock])
        log.info("daemon stopped")
        return 0
    finally:
        sock.close()
        with contextlib.suppress(FileNotFoundError):
            config.daemon.socket.unlink()
        with contextlib.suppress(FileNotFoundError):
            pid_file.unlink()
        if service is not None:
            service.close()
