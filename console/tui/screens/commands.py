"""Every console action in the command palette (ctrl+p), named with its target: "Eject DEM001L5 from lto5"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from console.client.tape_rules import offsite_refusal
from widgets.console_host import ConsoleHost, host_of

Command = tuple[str, str, Callable[[], Awaitable[None]]]


class ConsoleCommands(Provider):
    @property
    def console(self) -> ConsoleHost:
        return host_of(self.app)

    async def run(self, action: str, *args: object) -> None:
        """Run the app's action by name (the palette knows the actions, not the app class)."""
        await self.app.run_action(f"{action}({', '.join(repr(a) for a in args)})")

    def commands(self) -> Iterator[Command]:
        app = self.console
        snapshot = app.snapshot
        if app.demo_possible:
            yield ("Demo: load, label and start both nightly jobs",
                   "starts every job whose drive is free; the jobs load and label blank tapes themselves",
                   partial(self.run, "demo"))
        for job in snapshot.jobs:
            yield (f"Run job {job['name']} now", f"drive {job['drive']}, pool {job['pool']}, source {job['source']}",
                   partial(self.run, "run_job", job["name"]))
        for run in snapshot.active_runs():
            doing = f"writing {run['tape']}" if run.get("tape") else run["state"]
            yield (f"Cancel job {run['job']} (run {run['id']})", f"{doing} on drive {run['drive']}; asks first",
                   partial(self.run, "cancel", run["id"]))
        for drive in snapshot.drives:
            name, tape = drive["name"], drive.get("label") or drive.get("loaded")
            if tape:
                yield (f"Eject {tape} from {name}", "rewind and eject to the shelf", partial(self.run, "eject", name))
                yield (f"Label the tape in {name} ({tape})", "a form; asks before writing",
                       partial(self.run, "label", name))
                yield (f"Rewind {name} ({tape})", "", partial(self.run, "rewind", name))
            else:
                yield (f"Load a tape into {name}", "pick one from the shelf", partial(self.run, "load", name))
        for tape in snapshot.tapes:
            location = tape.get("location") or ""
            name = tape.get("label") or tape["barcode"]
            if location == "shelf" and offsite_refusal(tape) is None:
                yield (f"Mark {name} offsite", f"{tape['barcode']} goes to its pool's vault; asks first",
                       partial(self.run, "offsite", tape["barcode"]))
            elif location.startswith("offsite"):
                yield (f"Mark {name} back onsite", f"{tape['barcode']} is back on the shelf",
                       partial(self.run, "onsite", tape["barcode"]))
        yield ("Verify a tape", "read its sets back and check every member's sha256", partial(self.run, "verify"))
        yield ("Tape swap", "step by step for the onsite person: tapes out, tapes in, labels checked",
               partial(self.run, "swap"))
        yield ("Restore walkthrough", "what, which night, the tapes, where to; then runs and verifies it",
               partial(self.run, "restore"))
        yield ("Capacity plan", "tonight's size of each job against its tape; when the nights outgrow a tape",
               partial(self.run, "plan"))

    async def discover(self) -> Hits:
        for name, help_text, callback in self.commands():
            yield DiscoveryHit(name, callback, help=help_text or None)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self.commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, text=name, help=help_text or None)
