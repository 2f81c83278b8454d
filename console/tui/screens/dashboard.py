"""The dashboard: both drives side by side, then the job queue, the tape inventory and the daemon's log.

In a small terminal (80x24 and up) the three lower panes are tabs (1, 2, 3); from 110x34 they are all on
screen at once. Every widget is fed from one Snapshot per poll and redraws only what changed.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Container, Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static, Tab, Tabs

from console.client.live_tape import with_used_now
from console.client.poller import Snapshot
from widgets.console_host import ConsoleHost, host_of
from widgets.drive_panel import DrivePanel
from widgets.event_log import EventLog
from widgets.job_queue import JobQueue
from widgets.system_strip import SystemStrip
from widgets.tape_table import TapeInventory

Json = dict[str, Any]
PANES = ("jobs", "tapes", "log")
QUEUE_PROGRESS_SECONDS = 3.0
FIRST_RUN_HINT = ("New here? Press d (or ctrl+p, \"demo\") to load, label and start both nightly jobs: "
                  "the drives stream within a minute.")


class DashboardScreen(Screen[None]):
    AUTO_FOCUS = "#jobs"
    BINDINGS = [
        Binding("d", "app.demo", "demo: start both jobs"),
        Binding("d", "app.demo_why", show=False),  # when the demo cannot start: why
        Binding("b", "app.run_job", "run"),
        Binding("l", "app.load", "load"),
        Binding("e", "app.eject", "eject"),
        Binding("L", "app.label", "label"),
        Binding("c", "app.cancel", "cancel"),
        Binding("o", "app.offsite", "offsite", show=False),
        Binding("n", "app.onsite", "onsite", show=False),
        Binding("v", "app.verify", "verify", show=False),
        Binding("w", "app.swap", "swap"),
        Binding("r", "app.restore", "restore"),
        Binding("p", "app.plan", "capacity plan", show=False),
        Binding("1", "show_pane('jobs')", "jobs", show=False),
        Binding("2", "show_pane('tapes')", "tapes", show=False),
        Binding("3", "show_pane('log')", "log", show=False),
        Binding("q", "app.quit", "quit", show=False),
    ]

    def __init__(self, history: dict[str, list[float]] | None = None) -> None:
        super().__init__()
        self.history = history or {}
        self.panels: dict[str, DrivePanel] = {}
        self._shown: dict[str, Any] = {}
        self._queue_shown = 0.0

    @property
    def console(self) -> ConsoleHost:
        return host_of(self.app)

    def compose(self) -> ComposeResult:
        with Horizontal(id="top-bar"):
            yield Static("tapeconsole", id="app-name")
            yield SystemStrip(id="system")
        yield Static("", id="stale", classes="-hidden", markup=False)
        yield Horizontal(id="drives")
        yield Tabs(Tab("1 Jobs", id="tab-jobs"), Tab("2 Tapes", id="tab-tapes"), Tab("3 Log", id="tab-log"),
                   id="pane-tabs")
        with Container(id="panes"):
            with Vertical(id="pane-jobs", classes="pane -active") as jobs:
                jobs.border_title = "job queue"
                yield JobQueue(id="jobs")
            with Vertical(id="pane-tapes", classes="pane") as tapes:
                tapes.border_title = "tapes"
                yield TapeInventory(id="inventory")
            with Vertical(id="pane-log", classes="pane") as log:
                log.border_title = "log"
                yield EventLog(id="log")
        yield Static(FIRST_RUN_HINT, id="hint", classes="-hidden")
        yield Footer(compact=True)

    # ---- feeding the widgets
    def show_snapshot(self, snapshot: Snapshot) -> None:
        self.query_one(SystemStrip).show(snapshot.system, snapshot.health, snapshot.error)
        self._show_stale(snapshot)
        now = time.monotonic()
        tapes = with_used_now(snapshot.tapes, snapshot.runs)  # the tapes being written: their fill as it is now
        by_barcode = {t["barcode"]: t for t in tapes}
        for drive in snapshot.drives:
            panel = self.panels.get(drive["name"])
            if panel is None:
                panel = DrivePanel(drive["name"], history=self.history.get(drive["name"]))
                self.panels[drive["name"]] = panel
                self.query_one("#drives").mount(panel)
            panel.show(drive, by_barcode.get(drive.get("loaded") or ""), snapshot.active_run(drive["name"]), now)
        shape = (id(snapshot.jobs), tuple((r["id"], r.get("state"), r.get("tape")) for r in snapshot.runs))
        running = any(r.get("state") == "running" for r in snapshot.runs)  # its rate: the drive pane's, same tick
        if self._changed("queue", shape) or running or now - self._queue_shown >= QUEUE_PROGRESS_SECONDS:
            self._queue_shown = now  # progress alone is shown every few seconds: the drives show it live
            self.query_one(JobQueue).show(snapshot.jobs, snapshot.runs)
        live = tuple((t["barcode"], t["bytes_used"]) for t, seen in zip(tapes, snapshot.tapes, strict=True)
                     if t is not seen)
        if self._changed("tapes", (id(snapshot.tapes), id(snapshot.pools), live)):
            self.query_one(TapeInventory).show(tapes, snapshot.pools)
        if self._changed("events", len(snapshot.events) and snapshot.events[-1]["seq"]):
            self.query_one(EventLog).show(snapshot.events)
        first_run = self.console.demo_possible and not snapshot.runs and not snapshot.error
        self.query_one("#hint").set_class(not first_run, "-hidden")

    def _show_stale(self, snapshot: Snapshot) -> None:
        """While the daemon does not answer: the panes dimmed, and since when their figures are."""
        stale = snapshot.error is not None
        for part in ("#drives", "#panes"):
            self.query_one(part).set_class(stale, "-stale")
        banner = self.query_one("#stale", Static)
        banner.set_class(not stale, "-hidden")
        if stale:
            since = datetime.fromtimestamp(snapshot.error_since or time.time()).strftime("%H:%M:%S")
            banner.update(f"The daemon has not answered since {since}: what is below is as it was then. "
                          f"({snapshot.error})")

    def _changed(self, what: str, signature: Any) -> bool:
        if self._shown.get(what) == signature:
            return False
        self._shown[what] = signature
        return True

    # ---- what the operator points at
    def focused_drive(self) -> str | None:
        focused = self.focused
        return focused.drive_name if isinstance(focused, DrivePanel) else None

    def selected_run(self) -> Json | None:
        table = self.query_one(JobQueue)
        return table.selected_run() if self._pane_visible("jobs") else None

    def selected_job(self) -> str | None:
        table = self.query_one(JobQueue)
        return table.selected_job() if self._pane_visible("jobs") else None

    def selected_tape(self) -> Json | None:
        inventory = self.query_one(TapeInventory)
        return inventory.table.selected_tape() if self._pane_visible("tapes") else None

    def _pane_visible(self, pane: str) -> bool:
        return self.query_one(f"#pane-{pane}").display and (
            self.has_class("-wide") and self.has_class("-tall") or self.query_one(f"#pane-{pane}").has_class("-active")
        )

    # ---- panes
    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        event.stop()
        if event.tab is None or event.tab.id is None:
            return
        active = event.tab.id.removeprefix("tab-")
        for pane in PANES:
            self.query_one(f"#pane-{pane}").set_class(pane == active, "-active")

    def action_show_pane(self, pane: str) -> None:
        self.query_one(Tabs).active = f"tab-{pane}"
        target = {"jobs": JobQueue, "tapes": TapeInventory, "log": EventLog}[pane]
        widget = self.query_one(target)
        (widget.table if isinstance(widget, TapeInventory) else widget).focus()
