"""Run the daemon: bind the Unix socket (0660, configured group), serve the API, clean up on exit."""

from __future__ import annotations

import contextlib
import fcntl
import grp
import logging
import os
import shutil
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import uvicorn

from console.config.errors import ConfigError, find_line
from console.config.schema import Config
from console.engine.daemon.api import build_app
from console.engine.daemon.config_audit import audit_config_change
from console.engine.daemon.events import EventLog
from console.engine.daemon.peer import PeerCredH11Protocol
from console.engine.daemon.routes.plan import planner_for
from console.engine.daemon.routes.rotation import swap_list
from console.engine.daemon.service import TapeService
from console.engine.jobs.schedule import Scheduler
from console.engine.jobs.sources import JobSources, XoConnector
from console.engine.notify import Notifier
from console.engine.planning.day_ahead import DayAheadCheck
from console.engine.redaction import RedactingFilter
from console.engine.sources.xo_client import XoClient
from console.engine.state_folder import DAEMON_UMASK, private_folder

log = logging.getLogger("tapeconsole.daemon")


class DaemonAlreadyRunning(Exception):
    pass


def setup_logging(level: str) -> EventLog:
    """One line per event on stderr (journald adds the time and unit under systemd), and the recent
    events in memory for the console."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    events = EventLog()
    for each in (handler, events):
        each.addFilter(RedactingFilter())  # no token in the log or the events, whatever is logged
    root = logging.getLogger("tapeconsole")
    root.handlers[:] = [handler, events]
    root.setLevel(level.upper())
    root.propagate = False
    return events


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
    events = setup_logging(config.daemon.log_level)
    os.umask(DAEMON_UMASK)  # whatever the daemon creates (SQLite's -wal and -shm too) is its own
    private_folder(config.daemon.state_dir, group=config.daemon.group)
    lock_path = config.daemon.state_dir / "daemon.lock"
    lock = open(lock_path, "a+")  # noqa: SIM115 - held for the daemon's whole life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise DaemonAlreadyRunning(f"another daemon holds {lock_path}") from None
    try:
        return _serve_locked(config, events)
    finally:
        lock.close()


class DaemonExtras:
    """What the daemon runs beside the drives: the XO connection (or the built-in XO simulator of the
    embedded default) and, for the demo, the generated file tree of nightly-files."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.simulator: Any = None
        self.sources = JobSources(config, self._xo_connector())
        self.notifier: Notifier | None = None
        self.scheduler: Scheduler | None = None

    def on_run_event(self, kind: str, run: Any) -> None:
        if self.notifier is not None:
            self.notifier.on_run_event(kind, run)

    def attach(self, service: TapeService) -> None:
        """Once the service is up: notifications and the schedule."""
        notify = self.config.notify
        if notify is not None:
            self.notifier = Notifier(notify, service.inventory, swap_list=lambda: swap_list(service))
        self.scheduler = Scheduler(
            self.config.jobs,
            lambda name, user: service.jobs.start(name, user, reason="schedule"),
            service.inventory,
            on_missed=self.notifier.on_missed if self.notifier else None,
            summary_at=notify.summary_at if notify and "morning-summary" in notify.events else None,
            on_summary=self.notifier.morning_summary if self.notifier else None,
            verify_schedule=self.config.verify.schedule if self.config.verify else None,
            on_verify=lambda: self._scheduled_verify(service),
            capacity_at=notify.summary_at if notify else "07:00",
            on_capacity=DayAheadCheck(planner_for(service), self.notifier.send if self.notifier else None).run,
        )
        self.scheduler.start()
        service.scheduler = self.scheduler

    def _xo_connector(self) -> XoConnector | None:
        xo = self.config.xo
        if xo is None:
            return None
        if xo.simulator:
            return lambda: XoClient(self.simulator.url, token=self.simulator.token)
        assert xo.url is not None
        return lambda: XoClient(xo.url, token_file=xo.token_file, ca_file=xo.ca_file, verify=xo.verify_tls)

    def start(self) -> None:
        xo = self.config.xo
        if xo is not None and xo.simulator:
            from console.demo.xo_simulator.server import start_xosim_in_thread

            self.simulator = start_xosim_in_thread(seed=xo.simulator_seed, scale=xo.simulator_scale)
            log.info("built-in Xen Orchestra simulator on %s (seed %d)", self.simulator.url, xo.simulator_seed)
        demo = self.config.demo
        if demo is not None and not (demo.files_folder / ".complete").exists():
            threading.Thread(target=self._make_demo_files, name="demo-data", daemon=True).start()

    def _make_demo_files(self) -> None:
        """Generate the demo tree beside its folder, then rename it into place: an interrupted run never
        leaves a half tree where the job would read it, and nothing of the user's is ever removed."""
        demo = self.config.demo
        assert demo is not None
        from console.demo.file_tree import generate_demo_tree

        target = demo.files_folder
        if target.exists() and any(target.iterdir()):
            log.warning("demo folder %s is not empty and was not made by tapeconsole: left as it is", target)
            return
        scratch = target.with_name(target.name + ".generating")
        if scratch.exists():
            shutil.rmtree(scratch)
        log.info("generating the demo file tree in %s (%d MiB)", target, demo.files_mib)
        tree = generate_demo_tree(scratch, size=demo.files_mib * 1024 * 1024, seed=demo.seed)
        (scratch / ".complete").write_text("generated by tapeconsole for the demo\n")
        if target.exists():
            target.rmdir()
        scratch.rename(target)
        log.info("demo file tree ready in %s: %d files, %d MiB", target, tree.files, tree.bytes >> 20)

    def _scheduled_verify(self, service: TapeService) -> None:
        verify = self.config.verify
        assert verify is not None
        from console.engine.restore.verify_schedule import verify_on_schedule

        try:
            for run in verify_on_schedule(service.restores, pool=verify.pool, tapes=verify.tapes):
                log.info("scheduled verify %s: %s", run.get("title") or run.get("id"), run.get("state"))
        except Exception as exc:  # reported, never fatal to the daemon
            log.error("scheduled verify failed: %s", exc)

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.notifier is not None:
            self.notifier.close()
        self.sources.close()
        if self.simulator is not None:
            self.simulator.stop()


def _serve_locked(config: Config, events: EventLog) -> int:
    sock = bind_socket(config)
    pid_file = config.daemon.state_dir / "daemon.pid"
    service: TapeService | None = None
    extras = DaemonExtras(config)
    try:
        extras.start()
        service = TapeService(config, members_for=extras.sources, on_event=extras.on_run_event)
        audit_config_change(config.path, config.daemon.state_dir, service.inventory)
        extras.attach(service)
        server: uvicorn.Server | None = None

        def stop() -> None:
            log.info("stop requested through the API")
            if server is not None:
                server.should_exit = True

        app = build_app(service, on_stop=stop, events=events)
        server = uvicorn.Server(
            uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5,
                           http=PeerCredH11Protocol)  # each request knows its client's Unix user (SO_PEERCRED)
        )
        pid_file.write_text(f"{os.getpid()}\n")
        threading.Thread(target=service.identify_loaded, name="identify", daemon=True).start()
        log.info("daemon pid=%d listening on %s (config %s)", os.getpid(), config.daemon.socket, config.path)
        server.run(sockets=[sock])
        log.info("daemon stopped")
        return 0
    finally:
        sock.close()
        try:
            if service is not None:  # before the socket goes: "stopped" means the inventory is at rest
                service.close()
        finally:
            with contextlib.suppress(FileNotFoundError):
                config.daemon.socket.unlink()
            with contextlib.suppress(FileNotFoundError):
                pid_file.unlink()
            extras.stop()
