"""The operator console: a thin Textual client of the daemon.

It polls the daemon (console.client.poller), shows what it sees (console.tui.screens), and sends the operator's
actions (console.tui.actions). Closing it, or losing the SSH session, never touches a running job: the
daemon owns them. On SIGHUP, SIGTERM or a terminal that went away, it exits at once.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import termios
import threading
from datetime import date
from pathlib import Path
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.screen import ModalScreen, Screen
from textual.worker import Worker, WorkerState

from console.client.daemon_client import DaemonUnavailable, connect
from console.client.daemon_link import DaemonLink
from console.client.poller import BUSY_SECONDS, IDLE_SECONDS, Poller, Snapshot
from console.config.schema import Config
from console.tui.actions import Operator
from console.tui.messages import ActionFinished, DaemonUpdate
from console.tui.screens.commands import ConsoleCommands
from console.tui.screens.dashboard import DashboardScreen
from console.tui.screens.plan import PlanScreen
from console.tui.screens.restore import RestoreScreen
from console.tui.screens.swap import SwapScreen
from widgets.event_log import EventLog
from widgets.keys_help import KeysHelp, screen_keys

Json = dict[str, Any]
TERMINAL_CHECK_SECONDS = 1.0
HARD_EXIT_SECONDS = 5.0
POLL_RESTART_SECONDS = 5.0  # if a clean exit hangs on a dead terminal, leave anyway (the daemon keeps the jobs)


class TapeConsoleApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "tapeconsole"
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]
    BINDINGS = [
        Binding("ctrl+r", "refresh", "refresh", show=False),
        Binding("question_mark,f1", "keys_help", "keys help", show=False),
    ]

    def __init__(
        self,
        link: DaemonLink,
        *,
        start: str = "dashboard",
        busy_seconds: float = BUSY_SECONDS,
        idle_seconds: float = IDLE_SECONDS,
        rate_history: dict[str, list[float]] | None = None,
        today: date | None = None,
        cursor_blink: bool = True,
        watch_terminal: bool = True,
    ) -> None:
        super().__init__()
        self.link = link
        self.start_screen = start
        self.rate_history = rate_history
        self.fixed_today = today
        self.cursor_blink = cursor_blink
        self.watch_terminal = watch_terminal
        self.snapshot = Snapshot()
        self.poller = Poller(link, lambda snapshot: self.post_message(DaemonUpdate(snapshot)),
                             busy_seconds=busy_seconds, idle_seconds=idle_seconds)
        self.operator = Operator(self)

    def get_default_screen(self) -> Screen[Any]:
        if self.start_screen == "swap":
            return SwapScreen(standalone=True)
        if self.start_screen == "restore":
            return RestoreScreen(standalone=True)
        return DashboardScreen(self.rate_history)

    # ---- life cycle
    def on_mount(self) -> None:
        self._start_poller()
        if self.watch_terminal and not self.is_headless:
            self._watch_terminal()

    async def on_unmount(self) -> None:
        await self.link.aclose()

    def _watch_terminal(self) -> None:
        """Leave on SIGHUP/SIGTERM, and when the terminal is gone (Textual handles neither)."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGHUP, signal.SIGTERM):
            loop.add_signal_handler(sig, self.terminal_gone, sig.name)
        fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else -1
        if fd >= 0 and os.isatty(fd):
            self.set_interval(TERMINAL_CHECK_SECONDS, lambda: self._check_terminal(fd), name="terminal check")

    def _check_terminal(self, fd: int) -> None:
        try:
            termios.tcgetattr(fd)
        except (termios.error, OSError):
            self.terminal_gone("the terminal went away")

    def terminal_gone(self, why: str) -> None:
        """Exit now; the daemon and its jobs are not touched."""
        self.log.warning(f"leaving: {why}")
        timer = threading.Timer(HARD_EXIT_SECONDS, os._exit, args=(0,))
        timer.daemon = True
        timer.start()
        self.exit(0)

    # ---- the daemon's state
    def on_daemon_update(self, message: DaemonUpdate) -> None:
        if not self.is_running:  # shutting down: the screens are going away
            return
        before = self._footer_state()
        self.snapshot = message.snapshot
        if self._footer_state() != before:
            self.refresh_bindings()
        for screen in self.screen_stack:
            show = getattr(screen, "show_snapshot", None)
            if show is not None:
                show(message.snapshot)

    def _footer_state(self) -> tuple[bool, ...]:
        return tuple(self.action_applies(a) for a in ("demo", "cancel", "eject", "load"))

    def poller_soon(self) -> None:
        self.poller.soon()

    @property
    def demo_possible(self) -> bool:
        """The demo (start both nightly jobs) is offered on virtual drives only, never on a real site."""
        drives = self.snapshot.drives
        return bool(drives) and all(d.get("kind") == "virtual" for d in drives) and bool(self.snapshot.jobs)

    def demo_refusal(self) -> str | None:
        """Why `d` cannot start the demo now, in one line, or None when it can."""
        snapshot = self.snapshot
        if not snapshot.tick:
            return "the console has not heard from the daemon yet"
        if not snapshot.jobs:
            return "no job is configured (jobs in config.toml)"
        if not all(d.get("kind") == "virtual" for d in snapshot.drives):
            return "this site has real drives: the demo runs on virtual drives only (b runs a job)"
        running = snapshot.active_runs()
        if running:
            what = ", ".join(f"run {r['id']} ({r['job']}) on {r['drive']}" for r in running)
            return f"a job is under way ({what}): wait for it or cancel it (c)"
        loaded = [d for d in snapshot.drives if d.get("loaded")]
        if loaded:
            which = "both drives hold tapes" if len(loaded) == len(snapshot.drives) > 1 else (
                "drive " + ", ".join(d["name"] for d in loaded) + " holds a tape")
            tapes = ", ".join(f"{d['name']}: {d.get('label') or d['loaded']}" for d in loaded)
            return f"{which} ({tapes}): eject first (e); the demo loads and labels blank tapes itself"
        if snapshot.busy:
            return "a drive is busy: wait until both are idle"
        return None

    def action_demo_why(self) -> None:
        """`d` when the demo cannot start: say why (the footer hides the key then)."""
        why = self.demo_refusal()
        if why is not None:
            self.post_message(ActionFinished("demo", f"demo: {why}", ok=False))

    def today(self) -> date:
        return self.fixed_today or date.today()

    # ---- what the operator points at (on the dashboard)
    @property
    def dashboard(self) -> DashboardScreen | None:
        return next((s for s in self.screen_stack if isinstance(s, DashboardScreen)), None)

    def focused_drive(self) -> str | None:
        return self.dashboard.focused_drive() if self.dashboard is self.screen else None

    def selected_run(self) -> Json | None:
        return self.dashboard.selected_run() if self.dashboard is not None else None

    def selected_job(self) -> str | None:
        return self.dashboard.selected_job() if self.dashboard is not None else None

    def selected_tape(self) -> Json | None:
        return self.dashboard.selected_tape() if self.dashboard is not None else None

    # ---- actions (keys, the command palette and the screens)
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.action_applies(action)

    def action_applies(self, action: str) -> bool:
        """Keys that cannot do anything now are left out of the footer (they stay in the palette's reach)."""
        snapshot = self.snapshot
        if not snapshot.tick:
            return action not in ("demo", "cancel", "eject", "label", "load")
        loaded = [d for d in snapshot.drives if d.get("loaded")]
        if action == "demo":  # a first step: both drives empty and idle (the footer has room for it then)
            return self.demo_possible and not snapshot.busy and not loaded
        if action == "cancel":
            return bool(snapshot.active_runs())
        if action in ("eject", "label", "rewind"):
            return bool(loaded)
        if action == "load":
            return len(loaded) < len(snapshot.drives)
        return True

    def _act(self, name: str, work: Any) -> None:
        self.run_worker(work, name=name, group="actions", exit_on_error=False)

    def action_demo(self) -> None:
        self._act("demo", self.operator.demo())

    def action_run_job(self, name: str | None = None) -> None:
        self._act("run", self.operator.run_job(name))

    def action_cancel(self, run_id: int | None = None) -> None:
        self._act("cancel", self.operator.cancel(run_id))

    def action_eject(self, drive: str | None = None) -> None:
        self._act("eject", self.operator.eject(drive))

    def action_load(self, drive: str | None = None, barcode: str | None = None) -> None:
        self._act("load", self.operator.load(drive, barcode))

    def action_label(self, drive: str | None = None) -> None:
        self._act("label", self.operator.label(drive))

    def action_rewind(self, drive: str | None = None) -> None:
        self._act("rewind", self.operator.rewind(drive))

    def action_offsite(self, barcode: str | None = None) -> None:
        self._act("offsite", self.operator.move("offsite", barcode))

    def action_onsite(self, barcode: str | None = None) -> None:
        self._act("onsite", self.operator.move("onsite", barcode))

    def action_verify(self, barcode: str | None = None) -> None:
        self._act("verify", self.operator.verify(barcode))

    def action_swap(self) -> None:
        if not isinstance(self.screen, SwapScreen):
            self.push_screen(SwapScreen())

    def action_restore(self) -> None:
        if not isinstance(self.screen, RestoreScreen):
            self.push_screen(RestoreScreen())

    def action_plan(self) -> None:
        if not isinstance(self.screen, PlanScreen):
            self.push_screen(PlanScreen())

    def action_keys_help(self) -> None:
        """Every key of the screen in front (a modal question keeps its own keys: it is left alone)."""
        screen = self.screen
        if isinstance(screen, ModalScreen):
            return
        name = getattr(screen, "help_title", None) or screen.__class__.__name__.removesuffix("Screen").lower()
        self.push_screen(KeysHelp(f"Keys of the {name} screen", screen_keys(screen)))

    def action_refresh(self) -> None:
        self.poller.soon()

    def on_action_finished(self, message: ActionFinished) -> None:
        self.notify(message.text, title=message.action, severity="information" if message.ok else "error",
                    timeout=6 if message.ok else 12, markup=False)
        if self.dashboard is not None:
            self.dashboard.query_one(EventLog).note(message.text, warning=not message.ok)
        self.poller.soon()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A bug in an action must not kill the console: say what broke and carry on."""
        if event.state == WorkerState.ERROR and event.worker.group in ("actions", "poll"):
            error = event.worker.error
            self.notify(f"{event.worker.name}: internal error: {error.__class__.__name__}: {error}",
                        severity="error", timeout=15, markup=False)
            if event.worker.group == "poll":
                self.set_timer(POLL_RESTART_SECONDS, self._start_poller)

    def _start_poller(self) -> None:
        self.run_worker(self.poller.run(), name="poller", group="poll", exclusive=True, exit_on_error=False)


def daemon_listens(socket_path: Path) -> bool:
    """Something accepts connections on the daemon's socket (cheap: no HTTP client to build)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(str(socket_path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


def run_console(config: Config, *, start: str = "dashboard") -> int:
    """Open the console on the configured daemon, starting the daemon first when none answers."""
    if not daemon_listens(config.daemon.socket):
        try:
            connect(config, autostart=True).close()
        except DaemonUnavailable as exc:
            raise SystemExit(f"tapeconsole: {exc}") from None
    app = TapeConsoleApp(DaemonLink.over_socket(config.daemon.socket), start=start)
    return app.run() or 0
