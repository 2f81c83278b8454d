"""The tape swap, for the onsite person: one step at a time, in big plain words.

The daemon says what to swap (GET /v1/swap-list, asked off the event loop). Out: take last night's tapes out
of the drives (ejected already, or ejected here) and put them in the offsite box. Bring back: the tapes the
courier brought from the vault for the coming nights go on the shelf. In: insert the tape each drive needs
next; the console loads it and reads the label back, then says "correct" or names the tape it found. Each
confirmed step is reported to the daemon (POST /v1/swaps), which records the move and audits it with the
user and the time. Enter does the step, s skips it, r asks for the list again, Esc stops. The restore
walkthrough reuses this screen with its own list of tapes to insert.

The walk (steps, phases, words) is console/client/swap_walk.py; widgets/swap_card.py shows its step. This
screen asks the daemon, hands the walk its answers and the keys, and draws.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from console.client.daemon_client import DaemonError, DaemonUnavailable
from console.client.poller import Snapshot
from console.client.swap_list import SwapPlan
from console.client.swap_walk import Step, SwapWalk
from widgets.console_host import ConsoleHost, host_of
from widgets.swap_card import SwapCard


class SwapScreen(Screen[bool]):
    """Dismisses True when every step was done (none skipped)."""

    BINDINGS = [
        Binding("enter", "next", "do this step", priority=True),
        Binding("s", "skip", "skip this step"),
        Binding("r", "start_over", "start over"),
        Binding("escape", "leave", "stop"),
    ]

    def __init__(self, plan: SwapPlan | None = None, *, title: str = "Tape swap", standalone: bool = False) -> None:
        super().__init__()
        self.walk = SwapWalk(plan, lambda: self.console.snapshot, title=title)
        self.standalone = standalone

    @property
    def console(self) -> ConsoleHost:
        return host_of(self.app)

    @property
    def plan(self) -> SwapPlan | None:
        return self.walk.plan

    @property
    def steps(self) -> list[Step]:
        return self.walk.steps

    @property
    def current(self) -> int:
        return self.walk.current

    def compose(self) -> ComposeResult:
        yield SwapCard(id="swap-box")
        yield Footer()

    def on_mount(self) -> None:
        if self.walk.plan is None:
            self.ask_for_plan()
        self.show_snapshot(self.console.snapshot)

    @work(exclusive=True, group="swap-plan")
    async def ask_for_plan(self) -> None:
        """The daemon's swap list (it reads the inventory, the runs and the schedules: off the event loop)."""
        self.walk.asking_for_plan()
        self._draw()
        try:
            self.walk.plan_answered(await self.console.link.get("/swap-list"))
        except (DaemonError, DaemonUnavailable) as exc:
            self.walk.plan_refused(str(exc))
        self.show_snapshot(self.console.snapshot)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        if self.walk.start() or not self.walk.steps:
            self._draw()

    def _draw(self) -> None:
        self.query_one(SwapCard).show(self.walk.view())

    # ---- keys
    def action_next(self) -> None:
        if self.walk.busy:
            return
        if self.walk.at_end:
            self.action_leave()
            return
        self.do_step(self.walk.steps[self.walk.current])

    def action_skip(self) -> None:
        if self.walk.skip():
            self._draw()

    def action_start_over(self) -> None:
        if self.walk.busy:
            return
        if self.walk.start_over():
            self.ask_for_plan()
        self.console.poller_soon()
        self.show_snapshot(self.console.snapshot)

    def action_leave(self) -> None:
        if self.standalone:
            self.app.exit(0)
        else:
            self.dismiss(self.walk.complete)

    @work(exclusive=True, group="swap")
    async def do_step(self, step: Step) -> None:
        async def post(path: str, body: dict[str, Any] | None) -> Any:
            return await self.console.link.post(path, body)

        try:
            await self.walk.do_step(step, post, self._draw)
        finally:
            self.console.poller_soon()
            self._draw()
