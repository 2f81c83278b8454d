"""The restore walkthrough: what, which night, which tapes and where they are, where to, restore, result.

What is a VM's disk, or files of a job's file tree (a path or glob inside it, found in the daemon's file
index). The night is one run of the job. The tapes needed are named with where they are now; i brings
them back and inserts them with the swap steps. Then where to (a folder on the backup server, or for a
disk a new VDI on a Xen Orchestra SR), a question when the folder already holds files, and the daemon
restores (POST /v1/restores): the run panel follows it, says which tape to insert when the run waits for
one, and at the end what each member came to and where it is.

The walk itself (steps, choices, words, the request) is console/client/restore_walk.py; each step is a
widget of restore_steps/. This screen fetches (one GET /v1/restore-catalog on opening, the file index while
a path is typed, the restore's start), routes the steps' messages to the walk and shows the step it is at.
"""

from __future__ import annotations

import asyncio

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Input

from console.client import restore_request as ask
from console.client.daemon_client import DaemonError, DaemonUnavailable
from console.client.poller import Snapshot
from console.client.restore_walk import RestoreWalk
from console.client.swap_list import SwapPlan
from console.tui import messages as m
from console.tui.screens.restore_steps.files import FilesStep
from console.tui.screens.restore_steps.night import NightStep
from console.tui.screens.restore_steps.step_bar import StepBar
from console.tui.screens.restore_steps.tapes import TapesStep
from console.tui.screens.restore_steps.target import TargetStep
from console.tui.screens.restore_steps.what import WhatStep
from console.tui.screens.swap import SwapScreen
from console.wire.restore_catalog import RestoreCatalog
from widgets.confirm import ConfirmScreen
from widgets.console_host import ConsoleHost, host_of
from widgets.restore_run import RestoreRunPanel, refusal

# what has the focus on each step: its list or field; elsewhere the page, so keys reach the screen
FOCUS = {"what": "#what-list", "files": "#files-input", "night": "#night-list", "target": "#target-input"}


class RestoreScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "back", "back"),
        Binding("escape", "leave", "close"),
        Binding("backspace,left", "back", "back", show=False),
        Binding("down", "to_matches", "the files found", show=False),
        Binding("i", "insert", "insert the tapes"),
        Binding("enter", "forward", "go on"),
        Binding("c", "cancel_run", "cancel the restore"),
        Binding("v", "verify", "verify the tape"),
        Binding("n", "again", "another restore"),
    ]

    def __init__(self, *, standalone: bool = False) -> None:
        super().__init__()
        self.standalone = standalone
        self.walk = RestoreWalk()

    @property
    def step(self) -> str:
        return self.walk.step

    @property
    def to_xo(self) -> bool:
        return self.walk.to_xo

    @property
    def console(self) -> ConsoleHost:
        return host_of(self.app)

    @property
    def panel(self) -> RestoreRunPanel:
        return self.query_one(RestoreRunPanel)

    def compose(self) -> ComposeResult:
        with Vertical(id="restore-box"):
            yield StepBar("", id="restore-steps")
            with ContentSwitcher(initial="what", id="restore-pages"):
                yield WhatStep(id="what")
                yield FilesStep(id="files")
                yield NightStep(id="night")
                yield TapesStep(id="tapes")
                yield TargetStep(id="target")
                yield RestoreRunPanel(id="run")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(WhatStep).show(self.walk)
        self._draw_steps()
        self.load_catalog()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        if self.walk.step == "tapes" and self.walk.night is not None:
            self._show_tapes()
        elif self.walk.step == "run":
            self.panel.draw()

    def _show_step(self) -> None:
        """The page of the walk's step, its name marked, its keys, its focus."""
        step = self.walk.step
        self.query_one(ContentSwitcher).current = step
        self._draw_steps()
        self.refresh_bindings()
        self.query_one(FOCUS.get(step, f"#{step}")).focus()

    def _draw_steps(self) -> None:
        self.query_one(StepBar).show(self.walk.step_index(self.panel.ended))

    # ---- opening: the catalog (and a restore already running, to follow it again)
    @work(exclusive=True, group="restore")
    async def load_catalog(self) -> None:
        try:
            answer = await self.console.link.get("/restore-catalog")
        except (DaemonError, DaemonUnavailable) as exc:
            self.walk.load_failed(str(exc))
            self.query_one(WhatStep).show(self.walk)
            return
        self.post_message(m.CatalogLoaded(RestoreCatalog.from_json(answer)))

    def on_catalog_loaded(self, message: m.CatalogLoaded) -> None:
        self.walk.load(message.catalog)
        self.query_one(WhatStep).show(self.walk)
        run = self.walk.follow_running()
        if run is not None:
            self._show_step()
            self.panel.follow(run)
            self.notify(f"A restore is running (run {run['id']}): following it.", timeout=6, markup=False)

    # ---- 1 What (and which files)
    def on_restore_what_chosen(self, message: m.RestoreWhatChosen) -> None:
        self.walk.choose_target(message.key)
        if self.walk.step != "files":
            self._show_nights()
            return
        files = self.query_one(FilesStep)
        files.show_question(self.walk)
        files.show_status(self.walk)
        self._show_step()
        self.find_files(files.typed)

    def on_restore_files_typed(self, message: m.RestoreFilesTyped) -> None:
        self.find_files(message.text)

    def on_restore_files_accepted(self, message: m.RestoreFilesAccepted) -> None:
        self.accept_paths(message.text)

    def on_restore_file_picked(self, message: m.RestoreFilePicked) -> None:
        self.walk.pick_file(message.index)
        self._show_nights()

    async def _find(self, text: str) -> tuple[list[dict], bool]:
        """Files of the target's job whose path holds `text` (or matches it as a glob), newest first."""
        return self.walk.rows_of(await self.console.link.get(self.walk.find_path(text)))

    @work(exclusive=True, group="restore-find")
    async def find_files(self, text: str) -> None:
        files = self.query_one(FilesStep)
        if not self.walk.find_pattern(text):
            self.walk.files_cleared()
        else:
            try:
                rows, more = await self._find(text)
            except (DaemonError, DaemonUnavailable) as exc:
                self.walk.files_unsearchable(refusal(exc))
                files.show_status(self.walk)
                return
            self.walk.files_listed(text, rows, more)
        files.show_rows(self.walk)
        files.show_status(self.walk)

    @work(exclusive=True, group="restore-find")
    async def accept_paths(self, text: str) -> None:
        rows, more = [], False
        if self.walk.wants_find(text):
            try:
                rows, more = await self._find(text)
            except (DaemonError, DaemonUnavailable) as exc:
                self.walk.files_unsearchable(refusal(exc))
                self.query_one(FilesStep).show_status(self.walk)
                return
        if self.walk.accept_paths(text, rows, more):
            self._show_nights()
        else:
            self.query_one(FilesStep).show_status(self.walk)

    def action_to_matches(self) -> None:
        self.query_one(FilesStep).to_matches()

    # ---- 2 Night, 3 Tapes
    def _show_nights(self) -> None:
        self.query_one(NightStep).show(self.walk)
        self._show_step()

    def on_restore_night_chosen(self, message: m.RestoreNightChosen) -> None:
        if self.walk.target is None:
            return
        self.walk.choose_night(message.run)
        self._show_step()
        self._show_tapes()

    def _show_tapes(self) -> None:
        snapshot = self.console.snapshot
        self.walk.see_tapes(snapshot.tapes, snapshot.drives)
        self.query_one(TapesStep).show(self.walk)

    def action_insert(self) -> None:
        put_in = self.walk.put_in()
        if not put_in:
            self._show_target()
            return

        def inserted(done: bool | None) -> None:
            self._show_tapes()
            if done:
                self._show_target()

        self.app.push_screen(SwapScreen(SwapPlan((), put_in, ()), title="Insert the tapes for the restore"),
                             inserted)

    def action_forward(self) -> None:
        if self.walk.step == "tapes" and self.walk.offsite_needs():  # the daemon would refuse: recall them first
            self.action_insert()
            return
        self._show_target()

    # ---- 4 Where to
    def _show_target(self) -> None:
        self.walk.to_target()
        self.query_one(TargetStep).show(self.walk)
        self._show_step()

    def on_restore_to_kind_chosen(self, message: m.RestoreToKindChosen) -> None:
        if self.walk.step == "target":
            self.walk.set_target_kind(message.to_xo)
            self.query_one(TargetStep).show_kind(self.walk)

    def on_restore_to_typed(self, message: m.RestoreToTyped) -> None:
        self.walk.type_target(message.text)
        target = self.query_one(TargetStep)
        target.show_problem(self.walk, focus=False)
        target.show_hint(self.walk)

    def on_restore_to_submitted(self, message: m.RestoreToSubmitted) -> None:
        self.start_restore(message.text)

    @work(exclusive=True, group="restore-start")
    async def start_restore(self, typed: str) -> None:
        walk, target = self.walk, self.query_one(TargetStep)
        if walk.step != "target" or walk.night is None:
            return
        try:
            to = walk.target_of(typed)
        except ask.TargetProblem:
            target.show_problem(walk)
            return
        force = False
        if not walk.to_xo:
            entries = await asyncio.to_thread(ask.folder_entries, to)
            if entries:
                title, body = walk.folder_question(to, entries)
                if not await self.app.push_screen_wait(ConfirmScreen(title, body, yes="Restore into it",
                                                                     no="Choose another")):
                    walk.not_started(to)
                    target.show_problem(walk)
                    return
                force = True
        request = walk.request(to, force)
        walk.starting()
        target.show_problem(walk, focus=False)
        try:
            run = await self.console.link.post("/restores", request)
        except (DaemonError, DaemonUnavailable) as exc:
            walk.refused(refusal(exc))
            target.show_problem(walk)
            return
        self.console.poller_soon()
        title = walk.started()
        self._show_step()
        self.panel.follow(run, title)

    # ---- 5 Restore, 6 Result
    def on_restore_run_panel_changed(self, message: RestoreRunPanel.Changed) -> None:
        self._draw_steps()
        self.refresh_bindings()
        if message.ended:
            self.console.poller_soon()

    @work(exclusive=True, group="restore-cancel")
    async def action_cancel_run(self) -> None:
        run = self.panel.current
        if run is None or not self.panel.running:
            return
        sure = await self.app.push_screen_wait(ConfirmScreen(
            f"Cancel run {run['id']}?",
            f"{run.get('title', 'The run')}. The daemon stops at the next block: members already restored stay, "
            "the one being read is dropped.", yes="Cancel it", no="Keep going"))
        if sure:
            await self.panel.cancel()

    def action_verify(self) -> None:
        self.panel.verify()

    def action_again(self) -> None:
        self.walk.again()
        self._show_step()

    # ---- keys
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        step = self.walk.step
        if action == "back":
            return self.walk.can_go_back
        if action == "leave":
            return not self.walk.can_go_back
        if action in ("insert", "forward"):
            return step == "tapes"
        if action == "to_matches":
            return step == "files" and isinstance(self.focused, Input)
        if action == "cancel_run":
            return step == "run" and self.panel.running
        if action == "verify":
            return step == "run" and self.panel.can_verify
        if action == "again":
            return step == "run" and self.panel.ended
        return True

    def action_back(self) -> None:
        if self.walk.back():
            self._show_step()

    def action_leave(self) -> None:
        if self.walk.step == "run" and self.panel.running and self.panel.current is not None:
            self.app.notify(f"The restore goes on in the daemon (run {self.panel.current['id']}): press r to "
                            "follow it again.", timeout=8, markup=False)
        if self.standalone:
            self.app.exit(0)
        else:
            self.dismiss(None)
