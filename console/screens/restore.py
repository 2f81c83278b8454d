"""The restore walkthrough: what, which night, which tapes and where they are, insert them, restore, verify.

The daemon cannot restore or verify yet. The walkthrough goes as far as the daemon allows (it finds the
sets, names the tapes and their places, has them inserted and checked with the swap steps) and then says
plainly what is not possible yet, with the commands that restore the set by hand today.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, OptionList, Static
from textual.widgets.option_list import Option

from console import restore_plan
from console.daemon_client import DaemonError, DaemonUnavailable
from console.messages import SetsLoaded
from console.poller import Snapshot
from console.restore_plan import Night, TapeNeed, Target
from console.rotation import PutIn, SwapPlan
from console.screens.swap import SwapScreen
from widgets import units

if TYPE_CHECKING:
    from console.app import TapeConsoleApp

Json = dict[str, Any]
STEPS = ("what", "night", "tapes", "restore")
STEP_NAMES = ("1 What", "2 Which night", "3 Tapes", "4 Insert", "5 Restore", "6 Verify")
DETAIL_LIMIT = 60  # member lists of the newest sets only: enough for two weeks of nightly runs

RESTORE_MISSING = (
    "The daemon restores and verifies, but this walkthrough does not start it yet: run "
    "`tapeconsole restore SET_ID --to DIR --wait` (or --to-xo SR_UUID) and `tapeconsole verify TAPE --wait`. "
    "Or restore by hand (each set is a plain tar, tar -b 512):"
)


class RestoreScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "leave", "close"),
        Binding("backspace,left", "back", "back"),
        Binding("i", "insert", "insert the tapes"),
        Binding("enter", "forward", "go on"),
    ]

    def __init__(self, *, standalone: bool = False) -> None:
        super().__init__()
        self.standalone = standalone
        self.sets: list[Json] = []
        self.details: dict[int, Json] = {}
        self.jobs: list[Json] = []
        self.target: Target | None = None
        self.night: Night | None = None
        self.needs: list[TapeNeed] = []
        self.step = "what"

    @property
    def console(self) -> TapeConsoleApp:
        return cast("TapeConsoleApp", self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="restore-box"):
            yield Static("", id="restore-steps")
            with ContentSwitcher(initial="what", id="restore-pages"):
                with Vertical(id="what"):
                    yield Static("What do you want to restore?", classes="question")
                    yield OptionList(id="what-list")
                with Vertical(id="night"):
                    yield Static("", classes="question", id="night-question")
                    yield OptionList(id="night-list")
                with VerticalScroll(id="tapes"):
                    yield Static("", classes="question", id="tapes-question")
                    yield Static("", id="tapes-list", markup=False)
                    yield Static("", id="tapes-next")
                with VerticalScroll(id="restore"):
                    yield Static("", classes="question", id="restore-question")
                    yield Static(RESTORE_MISSING, id="restore-missing", markup=False)
                    yield Static("", id="restore-commands", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#what-list", OptionList).add_option(Option("Looking for backup sets…", disabled=True))
        self._draw_steps()
        self.load_sets()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        if self.step == "tapes" and self.night is not None:
            self._show_tapes()

    # ---- fetching the sets
    @work(exclusive=True, group="restore")
    async def load_sets(self) -> None:
        link = self.console.link
        try:
            sets, jobs = await asyncio.gather(link.get("/sets"), link.get("/jobs"))
            wanted = [s for s in sorted(sets, key=lambda s: s["id"], reverse=True)
                      if s["state"] in restore_plan.RESTORABLE][:DETAIL_LIMIT]
            details = await asyncio.gather(*(link.get(f"/sets/{s['id']}") for s in wanted))
        except (DaemonError, DaemonUnavailable) as exc:
            self.query_one("#what-list", OptionList).clear_options().add_option(
                Option(f"Cannot list the backup sets: {exc}", disabled=True))
            return
        self.post_message(SetsLoaded(sets, jobs, {d["id"]: d for d in details}))

    def on_sets_loaded(self, message: SetsLoaded) -> None:
        self.sets, self.jobs, self.details = message.sets, message.jobs, message.details
        found = restore_plan.targets(self.sets, self.details, self.jobs)
        options = self.query_one("#what-list", OptionList)
        options.clear_options()
        if not found:
            options.add_option(Option("No backup set yet: run a backup first (b on the dashboard).", disabled=True))
            return
        self._targets = {t.key: t for t in found}
        options.add_options(Option(Content.from_markup("[b]$title[/b]  [$foreground-muted]$kind · job $job[/]",
                                                       title=t.title, kind=t.kind.replace("-", " "), job=t.job),
                                   id=t.key) for t in found)
        options.highlighted = 0
        options.focus()

    # ---- moving through the steps
    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option_list.id == "what-list" and event.option.id:
            self.target = self._targets[event.option.id]
            self._show_nights()
        elif event.option_list.id == "night-list" and event.option.id and self.target is not None:
            self.night = next(n for n in restore_plan.nights(self.target, self.sets, self.details)
                              if str(n.run) == event.option.id)
            self._go("tapes")
            self._show_tapes()

    def _go(self, step: str) -> None:
        self.step = step
        self.query_one(ContentSwitcher).current = step
        self._draw_steps()
        self.refresh_bindings()
        if step in ("what", "night"):
            self.query_one(f"#{step}-list", OptionList).focus()
        else:  # the page itself, so Enter reaches the screen and not a list on a hidden page
            self.query_one(f"#{step}").focus()

    def _show_nights(self) -> None:
        assert self.target is not None
        found = restore_plan.nights(self.target, self.sets, self.details)
        self.query_one("#night-question", Static).update(
            Content.from_markup("Which night of [b]$title[/b]?", title=self.target.title))
        options = self.query_one("#night-list", OptionList)
        options.clear_options()
        options.add_options(Option(
            f"{units.when(n.started)}  run {n.run}  {n.state}  {units.size(n.bytes)}  {len(n.sets)} set(s)",
            id=str(n.run)) for n in found)
        if found:
            options.highlighted = 0
        self._go("night")

    def _show_tapes(self) -> None:
        assert self.target is not None and self.night is not None
        snapshot = self.console.snapshot
        self.needs = restore_plan.tapes_needed(self.night, self.sets, snapshot.tapes, snapshot.drives)
        self.query_one("#tapes-question", Static).update(Content.from_markup(
            "[b]$title[/b], night of $night (run $run): these tapes are needed",
            title=self.target.title, night=units.when(self.night.started), run=str(self.night.run)))
        lines = []
        for need in self.needs:
            files = ", ".join(str(n) for n in need.tape_files)
            mark = "✔" if need.ready else "•"
            name = need.barcode if need.label in (None, need.barcode) else f"{need.label} ({need.barcode})"
            lines.append(f"{mark} {name}, tape file {files}: {need.todo}")
        self.query_one("#tapes-list", Static).update("\n".join(lines))
        missing = [n for n in self.needs if not n.ready]
        if not missing:
            hint = "Every tape is in its drive. Press Enter to see how to restore it."
        elif any(n.drive for n in missing):
            hint = "Press i to insert them (the swap steps: the console checks each label), Enter to go on."
        else:
            hint = "No drive here can take these tapes: ask the operator."
        self.query_one("#tapes-next", Static).update(Content.from_markup("[b]$hint[/b]", hint=hint))
        if self.night.state != "complete":
            self.query_one("#tapes-next", Static).update(Content.from_markup(
                "[$warning]This night's set is $state: only the members it finished can come back.[/]\n[b]$hint[/b]",
                state=self.night.state, hint=hint))

    def _show_restore(self) -> None:
        assert self.target is not None and self.night is not None
        self.query_one("#restore-question", Static).update(Content.from_markup(
            "Restore [b]$title[/b] from the night of $night", title=self.target.title,
            night=units.when(self.night.started)))
        commands = restore_plan.by_hand(self.target, self.night, self.needs, self.sets, self.details)
        self.query_one("#restore-commands", Static).update("\n".join(f"  {c}" for c in commands))
        self._go("restore")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("insert", "forward"):
            return self.step == "tapes"
        if action == "back":
            return self.step != "what"
        return True

    def action_forward(self) -> None:
        if self.step == "tapes":
            self._show_restore()

    def action_insert(self) -> None:
        if self.step != "tapes":
            return
        job = self.target.job if self.target else ""
        put_in = tuple(PutIn(barcode=n.barcode, label=n.label, drive=n.drive, job=job, pool="", why="restore",
                             location=n.location) for n in self.needs if not n.ready and n.drive is not None)
        if not put_in:
            self._show_restore()
            return

        def inserted(done: bool | None) -> None:
            self._show_tapes()
            if done:
                self._show_restore()

        self.app.push_screen(SwapScreen(SwapPlan((), put_in, ()), title="Insert the tapes for the restore"),
                             inserted)

    def action_back(self) -> None:
        index = STEPS.index(self.step)
        if index > 0:
            self._go(STEPS[index - 1])

    def action_leave(self) -> None:
        if self.standalone:
            self.app.exit(0)
        else:
            self.dismiss(None)

    def _draw_steps(self) -> None:
        current = {"what": 0, "night": 1, "tapes": 2, "restore": 4}[self.step]
        parts = []
        for index, name in enumerate(STEP_NAMES):
            style = "reverse b" if index == current else "$foreground-muted" if index > current else ""
            if index >= 4:
                style = (style + " strike").strip() if index != current else style
            parts.append(Content.from_markup(f"[{style}] $name [/]" if style else " $name ", name=name))
        self.query_one("#restore-steps", Static).update(Content(" › ").join(parts))
