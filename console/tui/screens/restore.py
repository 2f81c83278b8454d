"""The restore walkthrough: what, which night, which tapes and where they are, where to, restore, result.

What is a VM's disk, or files of a job's file tree (a path or glob inside it, found in the daemon's file
index). The night is one run of the job. The tapes needed are named with where they are now; i brings
them back and inserts them with the swap steps. Then where to (a folder on the backup server, or for a
disk a new VDI on a Xen Orchestra SR), a question when the folder already holds files, and the daemon
restores (POST /v1/restores): the run panel follows it, says which tape to insert when the run waits for
one, and at the end what each member came to and where it is.
"""

from __future__ import annotations

import asyncio
import glob
import os
from typing import Any
from urllib.parse import urlencode

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import ContentSwitcher, Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from console.client import restore_plan
from console.client import restore_request as ask
from console.client.daemon_client import DaemonError, DaemonUnavailable
from console.client.poller import Snapshot
from console.client.restore_follow import finished
from console.client.restore_plan import Night, TapeNeed, Target
from console.client.swap_list import SwapPlan
from console.tui.messages import SetsLoaded
from console.tui.screens.swap import SwapScreen
from console.wire import units
from console.wire.swap_list import PutIn
from widgets.confirm import ConfirmScreen
from widgets.console_host import ConsoleHost, host_of
from widgets.restore_run import RestoreRunPanel, refusal

Json = dict[str, Any]
STEP_NAMES = ("1 What", "2 Night", "3 Tapes", "4 Where to", "5 Restore", "6 Result")
STEP_OF = {"what": 0, "files": 0, "night": 1, "tapes": 2, "target": 3, "run": 4}
GOING_BACK = ("files", "night", "tapes", "target")
DETAIL_LIMIT = 60  # member lists of the newest sets only: enough for two weeks of nightly runs
FIND_LIMIT = 200  # files listed while typing a path
FIND_DELAY = 0.3  # seconds after the last key before asking the file index


class RestoreScreen(Screen[None]):
    DEFAULT_CSS = """
    RestoreScreen {
        #files-input, #target-input { margin-bottom: 1; }
        #files-status { margin-bottom: 1; }
        #files-status.-problem, #target-problem { color: $error; text-style: bold; }
        #files-list { height: 1fr; border: round $foreground-muted; }
        #target-kind { height: 2; border: none; padding: 0; margin-bottom: 1; }
        #target-label { text-style: bold; }
        #target-keys { text-style: bold; color: $accent; margin-top: 1; }
        #target-hint { color: $foreground-muted; margin-top: 1; }
    }
    """
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
        self.sets: list[Json] = []
        self.details: dict[int, Json] = {}
        self.jobs: list[Json] = []
        self._targets: dict[str, Target] = {}
        self.target: Target | None = None
        self.night: Night | None = None
        self.needs: list[TapeNeed] = []
        self.paths: list[str] = []  # globs inside a file tree; none: all of it
        self.path_text = ""  # the path as the operator chose it
        self.found: list[Json] = []  # the file index's rows for `paths`
        self.found_all = True  # `found` is every match (the search was not cut at its limit)
        self.to_xo = False
        self.typed = {"folder": "", "xo": ""}
        self.step = "what"
        self.history: list[str] = []
        self._rows: list[Json] = []  # the files listed under the path being typed
        self._find_timer: Timer | None = None
        self._found_running: Json | None = None

    @property
    def console(self) -> ConsoleHost:
        return host_of(self.app)

    @property
    def panel(self) -> RestoreRunPanel:
        return self.query_one(RestoreRunPanel)

    def compose(self) -> ComposeResult:
        with Vertical(id="restore-box"):
            yield Static("", id="restore-steps")
            with ContentSwitcher(initial="what", id="restore-pages"):
                with Vertical(id="what"):
                    yield Static("What do you want to restore?", classes="question")
                    yield OptionList(id="what-list")
                with Vertical(id="files"):
                    yield Static("", classes="question", id="files-question")
                    yield Input(placeholder="a path inside the backup, e.g. mail/box0 or *.eml; empty: all of it",
                                id="files-input")
                    yield Static("", id="files-status", markup=False)
                    yield OptionList(id="files-list")
                with Vertical(id="night"):
                    yield Static("", classes="question", id="night-question")
                    yield OptionList(id="night-list")
                with VerticalScroll(id="tapes"):
                    yield Static("", classes="question", id="tapes-question")
                    yield Static("", id="tapes-list", markup=False)
                    yield Static("", id="tapes-next")
                with Vertical(id="target"):
                    yield Static("", classes="question", id="target-question", markup=False)
                    yield OptionList(Option("Into a folder on the backup server", id="folder"),
                                     Option("Into Xen Orchestra, as a new VDI on an SR", id="xo"), id="target-kind")
                    yield Static("", id="target-label", markup=False)
                    yield Input(id="target-input")
                    yield Static("", id="target-problem", markup=False)
                    yield Static("", id="target-about", markup=False)
                    yield Static("Enter: start the restore   Tab: next field   Esc: back", id="target-keys")
                    yield Static("", id="target-hint", markup=False)
                yield RestoreRunPanel(id="run")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#what-list", OptionList).add_option(Option("Looking for backup sets…", disabled=True))
        self._draw_steps()
        self.load_sets()

    def show_snapshot(self, snapshot: Snapshot) -> None:
        if self.step == "tapes" and self.night is not None:
            self._show_tapes()
        elif self.step == "run":
            self.panel.draw()

    # ---- fetching the sets (and a restore already running, to follow it again)
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
        try:
            runs = await link.get("/restores")
        except (DaemonError, DaemonUnavailable):
            runs = []  # only the following of a restore already running is lost
        active = [r for r in runs if r.get("kind") == "restore" and not finished(r)]
        self._found_running = max(active, key=lambda r: r["id"]) if active else None
        self.post_message(SetsLoaded(sets, jobs, {d["id"]: d for d in details}))

    def on_sets_loaded(self, message: SetsLoaded) -> None:
        self.sets, self.jobs, self.details = message.sets, message.jobs, message.details
        found = restore_plan.targets(self.sets, self.details, self.jobs)
        options = self.query_one("#what-list", OptionList)
        options.clear_options()
        if not found:
            options.add_option(Option("No backup set yet: run a backup first (b on the dashboard).", disabled=True))
        else:
            self._targets = {t.key: t for t in found}
            options.add_options(Option(Content.from_markup(
                "[b]$title[/b]  [$foreground-muted]$kind · job $job[/]", title=t.title,
                kind=t.kind.replace("-", " "), job=t.job), id=t.key) for t in found)
            options.highlighted = 0
            options.focus()
        if self._found_running is not None and self.step == "what":
            run, self._found_running = self._found_running, None
            self._go("run", remember=False)
            self.panel.follow(run)
            self.notify(f"A restore is running (run {run['id']}): following it.", timeout=6, markup=False)

    # ---- moving through the steps
    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        list_id, option_id = event.option_list.id, event.option.id
        if list_id == "what-list" and option_id:
            self.target = self._targets[option_id]
            self.paths, self.path_text, self.found, self.found_all = [], "", [], True
            if self.target.kind == "file-tree":
                self._show_files()
            else:
                self._show_nights()
        elif list_id == "files-list" and option_id:
            path = self._rows[int(option_id)]["path"]
            self._take_paths(path, [glob.escape(path)], [r for r in self._rows if r["path"] == path], True)
        elif list_id == "night-list" and option_id and self.target is not None:
            self.night = next(n for n in restore_plan.nights(self.target, self.sets, self.details)
                              if str(n.run) == option_id)
            self._go("tapes")
            self._show_tapes()
        elif list_id == "target-kind":
            self.query_one("#target-input", Input).focus()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_list.id == "target-kind" and self.step == "target":
            event.stop()
            self._set_target_kind(event.option.id == "xo")

    def _go(self, step: str, *, remember: bool = True) -> None:
        if remember and step != self.step:
            self.history.append(self.step)
        self.step = step
        self.query_one(ContentSwitcher).current = step
        self._draw_steps()
        self.refresh_bindings()
        focus = {"what": "#what-list", "files": "#files-input", "night": "#night-list",
                 "target": "#target-input"}.get(step, f"#{step}")  # tapes, run: the page, so keys reach the screen
        self.query_one(focus).focus()

    # ---- 1 What: which files of a file tree
    def _show_files(self) -> None:
        assert self.target is not None
        self.query_one("#files-question", Static).update(Content.from_markup(
            "Which files of the file tree of job [b]$job[/b]? Type a path or a glob inside the backup, Enter to "
            "go on (empty: the whole tree). ↓ picks one of the files found.", job=self.target.job))
        self._files_status("")
        self._go("files")
        self.find_files(self.query_one("#files-input", Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.input.id == "files-input":
            if self._find_timer is not None:
                self._find_timer.stop()
            value = event.value
            self._find_timer = self.set_timer(FIND_DELAY, lambda: self.find_files(value))
        elif event.input.id == "target-input":
            self.typed["xo" if self.to_xo else "folder"] = event.value
            self._target_problem("", focus=False)
            self._draw_hint()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "files-input":
            if self._find_timer is not None:
                self._find_timer.stop()
            self.accept_paths(event.value)
        elif event.input.id == "target-input":
            self.start_restore()

    async def _find(self, text: str) -> tuple[list[Json], bool]:
        """Files of the target's job whose path holds `text` (or matches it as a glob), newest first."""
        assert self.target is not None
        query = urlencode({"pattern": text.strip().lstrip("/"), "limit": FIND_LIMIT})
        found = await self.console.link.get(f"/find?{query}")
        rows = [r for r in found.get("files") or [] if r.get("job") == self.target.job]
        return rows, bool(found.get("truncated"))

    @work(exclusive=True, group="restore-find")
    async def find_files(self, text: str) -> None:
        listed = self.query_one("#files-list", OptionList)
        if not text.strip().lstrip("/"):
            self._rows = []
            listed.clear_options()
            self._files_status("Empty: the whole file tree is restored.")
            return
        try:
            rows, more = await self._find(text)
        except (DaemonError, DaemonUnavailable) as exc:
            self._files_status(f"Cannot search the file index: {refusal(exc)}", problem=True)
            return
        newest: dict[str, Json] = {}
        for row in rows:
            newest.setdefault(row["path"], row)
        self._rows = list(newest.values())
        listed.clear_options()
        listed.add_options(Option(Content.from_markup(
            "$path  [$foreground-muted]$size · night of $night[/]", path=r["path"], size=units.size(r["size"]),
            night=r.get("night") or "?"), id=str(i)) for i, r in enumerate(self._rows))
        if not self._rows:
            self._files_status(f"No file of job {self.target.job if self.target else ''} holds {text.strip()!r} "
                               "in its path.", problem=True)
        else:
            self._files_status(f"{len(self._rows)}{'+' if more else ''} file(s) found.")

    @work(exclusive=True, group="restore-find")
    async def accept_paths(self, text: str) -> None:
        globs = ask.path_globs(text)
        if not globs:
            self._take_paths("", [], [], True)
            return
        try:
            rows, more = await self._find(text)
        except (DaemonError, DaemonUnavailable) as exc:
            self._files_status(f"Cannot search the file index: {refusal(exc)}", problem=True)
            return
        chosen = [r for r in rows if ask.selects(globs, r["path"])]
        if not chosen:
            self._files_status(f"Nothing in the backups of job {self.target.job if self.target else ''} is "
                               f"{text.strip()!r} (a file, or a folder of files): pick a file found (↓) or type "
                               "its whole path, such as mail/box0.", problem=True)
            return
        self._take_paths(text.strip().lstrip("/"), globs, chosen, not more)

    def _take_paths(self, text: str, globs: list[str], rows: list[Json], complete: bool) -> None:
        self.path_text, self.paths, self.found, self.found_all = text, globs, rows, complete
        self._show_nights()

    def _files_status(self, text: str, *, problem: bool = False) -> None:
        status = self.query_one("#files-status", Static)
        status.update(text)
        status.set_class(problem, "-problem")

    def action_to_matches(self) -> None:
        listed = self.query_one("#files-list", OptionList)
        if listed.option_count:
            listed.focus()
            listed.highlighted = 0

    # ---- 2 Which night
    def _what(self) -> str:
        assert self.target is not None
        if self.target.kind != "file-tree":
            return self.target.title
        if not self.paths:
            return f"the whole file tree of job {self.target.job}"
        return f"{self.path_text} (job {self.target.job})"

    def _show_nights(self) -> None:
        assert self.target is not None
        found = restore_plan.nights(self.target, self.sets, self.details)
        self.query_one("#night-question", Static).update(
            Content.from_markup("Which night of [b]$what[/b]?", what=self._what()))
        options = self.query_one("#night-list", OptionList)
        options.clear_options()
        for n in found:
            text = f"{units.when(n.started)}  run {n.run}  {n.state}  {units.size(n.bytes)}  {len(n.sets)} set(s)"
            matching = len({r["path"] for r in self.found if r.get("run") == n.run})
            if self.paths and matching:
                text += f"  · {matching}{'' if self.found_all else '+'} file(s) match"
            elif self.paths and self.found_all:
                options.add_option(Option(f"{text}  · no file matches", id=str(n.run), disabled=True))
                continue
            options.add_option(Option(text, id=str(n.run)))
        first = next((i for i in range(options.option_count) if not options.get_option_at_index(i).disabled), None)
        options.highlighted = first
        self._go("night")

    # ---- 3 Tapes
    def _show_tapes(self) -> None:
        assert self.target is not None and self.night is not None
        snapshot = self.console.snapshot
        self.needs = restore_plan.tapes_needed(self.night, self.sets, snapshot.tapes, snapshot.drives)
        self.query_one("#tapes-question", Static).update(Content.from_markup(
            "[b]$what[/b], night of $night (run $run): these tapes are needed",
            what=self._what(), night=units.when(self.night.started), run=str(self.night.run)))
        lines = []
        for need in self.needs:
            files = ", ".join(str(n) for n in need.tape_files)
            mark = "✔" if need.ready else "•"
            name = need.barcode if need.label in (None, need.barcode) else f"{need.label} ({need.barcode})"
            lines.append(f"{mark} {name}, tape file {files}: {need.todo}")
        self.query_one("#tapes-list", Static).update("\n".join(lines))
        missing = [n for n in self.needs if not n.ready]
        if not missing:
            hint = "Every tape is in its drive. Press Enter to choose where the restore goes."
        elif any(n.drive for n in missing):
            hint = ("Press i to insert them now (the swap steps: the console checks each label), or Enter to go "
                    "on: the restore asks for each tape when it needs it.")
        else:
            hint = "No drive here can take these tapes: ask the operator."
        warning = "" if self.night.state == "complete" else \
            f"[$warning]This night's set is {self.night.state}: only the members it finished can come back.[/]\n"
        self.query_one("#tapes-next", Static).update(Content.from_markup(f"{warning}[b]$hint[/b]", hint=hint))

    def action_insert(self) -> None:
        job = self.target.job if self.target else ""
        put_in = tuple(PutIn(barcode=n.barcode, label=n.label, drive=n.drive, job=job, pool="", reason="restore",
                             location=n.location, needs_label=False)
                       for n in self.needs if not n.ready and n.drive is not None)
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
        self._show_target()

    # ---- 4 Where to
    def _default_folder(self) -> str:
        assert self.target is not None and self.night is not None
        home = os.path.expanduser("~")
        name = self.target.job if self.target.kind == "file-tree" else self.target.key.removeprefix("vm:")
        slug = "".join(c if c.isalnum() or c in "-_." else "-" for c in name.split("/")[0])
        return os.path.join(home if home != "~" else "/var/tmp", f"restore-{slug}-run{self.night.run}")

    def _members(self) -> list[str]:
        assert self.target is not None and self.night is not None
        if self.target.kind == "file-tree":
            return list(self.paths)
        return ask.disk_globs(restore_plan.disk_members(self.target, self.night, self.details))

    def _show_target(self) -> None:
        assert self.target is not None and self.night is not None
        disk = self.target.kind == "vm-disk"
        self.query_one("#target-question", Static).update(
            f"Where should {self._what()}, night of {units.when(self.night.started)}, go?")
        kind = self.query_one("#target-kind", OptionList)
        kind.display = disk
        if not disk:
            self.to_xo = False
        kind.highlighted = 1 if self.to_xo else 0
        self.typed["folder"] = self.typed["folder"] or self._default_folder()
        self._set_target_kind(self.to_xo)
        tapes = ", ".join(n.label or n.barcode for n in self.needs) or "?"
        scope = "the disk's members" if disk else (f"only {self.path_text}" if self.paths else "every file")
        self.query_one("#target-about", Static).update(
            f"From set {self.night.sets[0]} (run {self.night.run}, on tape {tapes}): {scope}. "
            "Each piece read back is checked against the sha256 in the inventory.")
        self._target_problem("", focus=False)
        self._go("target")

    def _set_target_kind(self, to_xo: bool) -> None:
        self.to_xo = to_xo
        label = "The SR's uuid (in Xen Orchestra: Home → Storage):" if to_xo else \
            "The folder on the backup server (new or empty; it is made if needed):"
        self.query_one("#target-label", Static).update(label)
        field = self.query_one("#target-input", Input)
        field.placeholder = "e.g. 8c2f7d7e-1b4a-4c3e-9f00-5d6e7f8a9b0c" if to_xo else "e.g. /srv/restore/mail01"
        field.value = self.typed["xo" if to_xo else "folder"]
        self._target_problem("", focus=False)
        self._draw_hint()

    def _request(self, to: str, force: bool = False) -> Json:
        assert self.night is not None
        if self.to_xo:
            return ask.body(self.night.sets[0], self._members(), to_xo=to)
        return ask.body(self.night.sets[0], self._members(), to=to, force=force)

    def _draw_hint(self) -> None:
        if self.night is None or self.target is None:
            return
        typed = self.query_one("#target-input", Input).value.strip() or ("SR_UUID" if self.to_xo else "DIR")
        self.query_one("#target-hint", Static).update(
            f"From the command line: {ask.command(self._request(os.path.expanduser(typed)))}")

    def _target_problem(self, text: str, *, focus: bool = True) -> None:
        problem = self.query_one("#target-problem", Static)
        problem.update(text)
        problem.display = bool(text)
        if focus:
            self.query_one("#target-input", Input).focus()

    @work(exclusive=True, group="restore-start")
    async def start_restore(self) -> None:
        if self.step != "target" or self.night is None:
            return
        typed = self.query_one("#target-input", Input).value
        try:
            to = ask.sr_of(typed) if self.to_xo else ask.folder_of(typed)
        except ask.TargetProblem as exc:
            self._target_problem(str(exc))
            return
        force = False
        if not self.to_xo:
            entries = await asyncio.to_thread(ask.folder_entries, to)
            if entries:
                many = f"more than {ask.LOOKED_AT}" if entries > ask.LOOKED_AT else str(entries)
                sure = await self.app.push_screen_wait(ConfirmScreen(
                    f"Restore into {to}?",
                    f"Folder {to} already holds {many} file(s) or folder(s). What the backup holds under the same "
                    "names replaces them; every file replaced is listed at the end.",
                    yes="Restore into it", no="Choose another"))
                if not sure:
                    self._target_problem(f"Not started: {to} is not empty. Type a new or empty folder.")
                    return
                force = True
        request = self._request(to, force)
        self._target_problem("Starting…", focus=False)
        try:
            run = await self.console.link.post("/restores", request)
        except (DaemonError, DaemonUnavailable) as exc:
            self._target_problem(refusal(exc))
            return
        self.console.poller_soon()
        self._go("run")
        self.panel.follow(run, f"{self._what()}, night of {units.when(self.night.started)}")

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
        self.history, self.night, self.needs = [], None, []
        self._go("what", remember=False)

    # ---- keys
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return self.step in GOING_BACK and bool(self.history)
        if action == "leave":
            return not (self.step in GOING_BACK and self.history)
        if action in ("insert", "forward"):
            return self.step == "tapes"
        if action == "to_matches":
            return self.step == "files" and isinstance(self.focused, Input)
        if action == "cancel_run":
            return self.step == "run" and self.panel.running
        if action == "verify":
            return self.step == "run" and self.panel.can_verify
        if action == "again":
            return self.step == "run" and self.panel.ended
        return True

    def action_back(self) -> None:
        if self.history:
            self._go(self.history.pop(), remember=False)

    def action_leave(self) -> None:
        if self.step == "run" and self.panel.running and self.panel.current is not None:
            self.app.notify(f"The restore goes on in the daemon (run {self.panel.current['id']}): press r to "
                            "follow it again.", timeout=8, markup=False)
        if self.standalone:
            self.app.exit(0)
        else:
            self.dismiss(None)

    def _draw_steps(self) -> None:
        current = STEP_OF[self.step]
        if self.step == "run" and self.panel.ended:
            current = 5
        parts = []
        for index, name in enumerate(STEP_NAMES):
            style = "reverse b" if index == current else "$foreground-muted" if index > current else ""
            parts.append(Content.from_markup(f"[{style}] $name [/]" if style else " $name ", name=name))
        self.query_one("#restore-steps", Static).update(Content(" › ").join(parts))
