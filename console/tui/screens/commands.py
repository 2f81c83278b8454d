"""Every console action in the command palette (ctrl+p), named with its target: "Eject DEM001L5 from lto5"."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from console.tui.app import TapeConsoleApp

Command = tuple[str, str, Callable[[], object]]


class ConsoleCommands(Provider):
    @property
    def console(self) -> TapeConsoleApp:
        return cast("TapeConsoleApp", self.app)

    def commands(self) -> Iterator[Command]:
        app = self.console
        snapshot = app.snapshot
        if app.demo_possible:
            yield ("Demo: load, label and start both nightly jobs",
                   "starts every job whose drive is free; the jobs load and label blank tapes themselves",
                   app.action_demo)
        for job in snapshot.jobs:
            yield (f"Run job {job['name']} now", f"drive {job['drive']}, pool {job['pool']}, source {job['source']}",
                   partial(app.action_run_job, job["name"]))
        for run in snapshot.active_runs():
            doing = f"writing {run['tape']}" if run.get("tape") else run["state"]
            yield (f"Cancel job {run['job']} (run {run['id']})", f"{doing} on drive {run['drive']}; asks first",
                   partial(app.action_cancel, run["id"]))
        for drive in snapshot.drives:
            name, tape = drive["name"], drive.get("label") or drive.get("loaded")
            if tape:
                yield (f"Eject {tape} from {name}", "rewind and eject to the shelf", partial(app.action_eject, name))
                yield (f"Label the tape in {name} ({tape})", "a form; asks before writing",
                       partial(app.action_label, name))
                yield (f"Rewind {name} ({tape})", "", partial(app.action_rewind, name))
            else:
                yield (f"Load a tape into {name}", "pick one from the shelf", partial(app.action_load, name))
        for tape in snapshot.tapes:
            location = tape.get("location") or ""
            name = tape.get("label") or tape["barcode"]
            if location == "shelf":
                yield (f"Mark {name} offsite", f"{tape['barcode']} goes to its pool's vault",
                       partial(app.action_offsite, tape["barcode"]))
            elif location.startswith("offsite"):
                yield (f"Mark {name} back onsite", f"{tape['barcode']} is back on the shelf",
                       partial(app.action_onsite, tape["barcode"]))
        yield ("Verify a tape", "read its sets back and check every member's sha256", app.action_verify)
        yield ("Tape swap", "step by step for the onsite person: tapes out, tapes in, labels checked", app.action_swap)
        yield ("Restore walkthrough", "what, which night, the tapes, where to; then runs and verifies it",
               app.action_restore)
        yield ("Capacity plan", "tonight's size of each job against its tape; when the nights outgrow a tape",
               app.action_plan)

    async def discover(self) -> Hits:
        for name, help_text, callback in self.commands():
            yield DiscoveryHit(name, callback, help=help_text or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text or None)
