"""The tape swap, for the onsite person: one step at a time, in big plain words.

The daemon says what to swap (GET /v1/swap-list, asked off the event loop). Out: take last night's tapes out
of the drives (ejected already, or ejected here) and put them in the offsite box. Bring back: the tapes the
courier brought from the vault for the coming nights go on the shelf. In: insert the tape each drive needs
next; the console loads it and reads the label back, then says "correct" or names the tape it found. Each
confirmed step is reported to the daemon (POST /v1/swaps), which records the move and audits it with the
user and the time. Enter does the step, s skips it, r asks for the list again, Esc stops. The restore
walkthrough reuses this screen with its own list of tapes to insert.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static

from console.client.daemon_client import DaemonError, DaemonUnavailable
from console.client.poller import Snapshot
from console.client.swap_list import BringBack, SwapPlan, check_inserted, plan_from_answer
from console.wire.swap_list import PutIn, TakeOut
from widgets.big_text import BigText
from widgets.console_host import ConsoleHost, host_of

Json = dict[str, Any]


@dataclass
class Step:
    item: TakeOut | BringBack | PutIn
    phase: str = "start"  # out: eject, take; back: recall; in: fetch, clear, insert, reading, correct, wrong; done
    result: str = ""  # the last outcome, in plain words
    found: str | None = None  # out: the tape in the way; in: the wrong tape read
    skipped: bool = False
    reported: set[str] = field(default_factory=set)  # barcodes whose confirmation the daemon has

    @property
    def finished(self) -> bool:
        return self.phase == "done" or self.skipped

    @property
    def going_out(self) -> bool:
        return isinstance(self.item, TakeOut)

    @property
    def name(self) -> str:
        item = self.item
        if isinstance(item, BringBack):
            return item.tapes[0].label or item.tapes[0].barcode if len(item.tapes) == 1 else f"{len(item.tapes)} TAPES"
        return item.label or item.barcode


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
        self.plan = plan
        self.own_plan = plan is not None  # the restore walkthrough's list: never asked of the daemon
        self.heading = title
        self.standalone = standalone
        self.steps: list[Step] = []
        self.current = 0
        self.plan_error: str | None = None  # why the daemon's swap list could not be had
        self._asking = False
        self._busy = False

    @property
    def console(self) -> ConsoleHost:
        return host_of(self.app)

    def compose(self) -> ComposeResult:
        with Vertical(id="swap-box"):
            yield Static("", id="swap-progress", markup=False)
            yield BigText("", id="swap-verb")
            yield BigText("", id="swap-tape")
            yield Static("", id="swap-where", markup=False)
            yield Static("", id="swap-result", markup=False)
            yield Static("", id="swap-keys", markup=False)
            yield Static("", id="swap-list", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        if self.plan is None:
            self.ask_for_plan()
        self.show_snapshot(self.console.snapshot)

    # ---- the plan
    @work(exclusive=True, group="swap-plan")
    async def ask_for_plan(self) -> None:
        """The daemon's swap list (it reads the inventory, the runs and the schedules: off the event loop)."""
        self._asking, self.plan_error = True, None
        self._draw()
        try:
            self.plan = plan_from_answer(await self.console.link.get("/swap-list"))
        except (DaemonError, DaemonUnavailable) as exc:
            self.plan_error = str(exc)
        finally:
            self._asking = False
        self.show_snapshot(self.console.snapshot)

    def show_snapshot(self, snapshot: Snapshot) -> None:
        if not self.steps and self.plan is not None and snapshot.tick and not snapshot.error:
            plan = self.plan
            self.steps = [Step(item) for item in (*plan.take_out, *plan.recall, *plan.put_in)]
            self.current = 0
            if self.steps:
                self._begin(self.steps[0])
            self._draw()
        elif not self.steps:
            self._draw()

    def _begin(self, step: Step) -> None:
        """The first phase of a step, from where the tapes are now."""
        snapshot = self.console.snapshot
        item = step.item
        if isinstance(item, BringBack):
            step.phase = "recall"
            return
        drive = (snapshot.drive(item.drive) if item.drive else None) or {}
        if isinstance(item, TakeOut):
            step.phase = "eject" if drive.get("loaded") == item.barcode else "take"
            return
        tape = snapshot.tape(item.barcode) or {}
        if (tape.get("location") or item.location).startswith("offsite"):
            step.phase = "fetch"
        elif drive.get("loaded") == item.barcode:
            self._judge(step, drive)
        elif drive.get("loaded"):
            step.phase, step.found = "clear", drive.get("label") or drive["loaded"]
        else:
            step.phase = "insert"

    def _judge(self, step: Step, drive: Json) -> None:
        item = step.item
        assert isinstance(item, PutIn)
        expected = self.console.snapshot.tape(item.barcode) or {"barcode": item.barcode, "label": item.label}
        verdict = check_inserted(expected, drive)
        step.phase = "correct" if verdict.correct else "wrong"
        step.result, step.found = verdict.text, verdict.found

    # ---- keys
    def action_next(self) -> None:
        if self._busy:
            return
        if self.current >= len(self.steps):
            self.action_leave()
            return
        self.do_step(self.steps[self.current])

    def action_skip(self) -> None:
        if self._busy or self.current >= len(self.steps):
            return
        self.steps[self.current].skipped = True
        self._advance()

    def action_start_over(self) -> None:
        if self._busy:
            return
        self.steps, self.current = [], 0
        if not self.own_plan:
            self.plan = None
            self.ask_for_plan()
        self.console.poller_soon()
        self.show_snapshot(self.console.snapshot)

    def action_leave(self) -> None:
        complete = bool(self.steps) and all(s.phase == "done" for s in self.steps)
        if self.standalone:
            self.app.exit(0)
        else:
            self.dismiss(complete)

    def _advance(self) -> None:
        self.current += 1
        while self.current < len(self.steps) and self.steps[self.current].finished:
            self.current += 1
        if self.current < len(self.steps):
            self._begin(self.steps[self.current])
        self._draw()

    # ---- doing a step
    async def _post(self, step: Step, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            return await self.console.link.post(path, body)
        except (DaemonError, DaemonUnavailable) as exc:
            step.result = f"That did not work: {exc}. Press Enter to try again, or ask the operator."
            return None

    async def _report(self, step: Step, barcode: str, direction: str, verdict: str, *, drive: str | None = None,
                      found: str | None = None) -> bool:
        """Tell the daemon the step is confirmed (it records the move and audits it); False when it refused."""
        body: dict[str, Any] = {"barcode": barcode, "direction": direction, "verdict": verdict}
        if drive:
            body["drive"] = drive
        if found:
            body["found"] = found
        if await self._post(step, "/swaps", body) is None:
            return False
        if verdict != "wrong":
            step.reported.add(barcode)
        return True

    @work(exclusive=True, group="swap")
    async def do_step(self, step: Step) -> None:
        item = step.item
        self._busy = True
        step.result = "Working…"
        self._draw()
        try:
            if isinstance(item, BringBack):
                missing = [t for t in item.tapes if t.barcode not in step.reported]
                for tape in missing:
                    if not await self._report(step, tape.barcode, "back", "moved"):
                        break
                else:
                    step.phase, step.result = "done", ""
                    self._advance()
            elif step.phase == "eject" or step.phase == "clear":
                if await self._post(step, f"/drives/{item.drive}/eject") is not None:
                    step.result = "Ejected."
                    step.phase = "take" if step.going_out else "insert"
            elif step.phase == "take":
                if await self._report(step, item.barcode, "out", "moved", drive=item.drive):
                    step.phase, step.result = "done", ""
                    self._advance()
            elif isinstance(item, PutIn):
                await self._do_insert(step, item)
        finally:
            self._busy = False
            self.console.poller_soon()
            self._draw()

    async def _do_insert(self, step: Step, item: PutIn) -> None:
        if step.phase == "fetch":
            if await self._report(step, item.barcode, "back", "moved"):
                drive = self.console.snapshot.drive(item.drive) or {}
                step.phase = "clear" if drive.get("loaded") else "insert"
                step.found = drive.get("label") or drive.get("loaded")
                step.result = "Recorded: it is back on the shelf."
        elif step.phase == "insert":
            step.phase = "reading"
            self._draw()
            drive = await self._post(step, f"/drives/{item.drive}/load", {"barcode": item.barcode})
            if drive is None:
                step.phase = "insert"
                return
            self._judge(step, drive)
            verdict = "correct" if step.phase == "correct" else "wrong"
            text = step.result
            if not await self._report(step, item.barcode, "in", verdict, drive=item.drive, found=step.found):
                step.result = f"{text}\n{step.result}" if verdict == "wrong" else step.result
                if verdict == "correct":
                    step.phase = "insert"  # not recorded: load it again to confirm
            else:
                step.result = text
        elif step.phase == "wrong":
            if await self._post(step, f"/drives/{item.drive}/eject") is not None:
                step.phase, step.result = "insert", f"Ejected {step.found}. Put it back on the shelf."
        elif step.phase == "correct":
            confirmed = item.barcode in step.reported or await self._report(
                step, item.barcode, "in", "correct", drive=item.drive, found=step.found)
            if confirmed:
                step.phase, step.result = "done", ""
                self._advance()

    # ---- drawing
    def _words(self, step: Step) -> tuple[str, str, str]:
        """(big verb, big tape name, where) for the step's phase."""
        item = step.item
        name = step.name
        if isinstance(item, BringBack):
            tapes = "\n".join(f"  {t.label or t.barcode}, for the night of {t.night} ({t.job})" for t in item.tapes)
            return ("BRING BACK", name, f"Bring these back from {item.vault} and put them on the shelf:\n{tapes}\n"
                    "Press Enter when they are here (s: not yet).")
        drive = (self.console.snapshot.drive(item.drive) if item.drive else None) or {}
        generation = drive.get("generation", "")
        if isinstance(item, TakeOut):
            if step.phase == "eject":
                return "EJECT", name, f"Drive {item.drive} ({generation}) still holds it. Press Enter: it comes out."
            source = f"drive {item.drive} ({generation}); it has been ejected" if item.drive else "the shelf"
            return ("TAKE OUT", name, f"Take it from {source}.\n"
                    f"Put it in the offsite box for {item.vault}.\nPress Enter when it is in the box.")
        if step.phase == "fetch":
            where = (self.console.snapshot.tape(item.barcode) or {}).get("location", item.location)
            return ("BRING BACK", name, f"It is offsite ({where.split(':', 1)[-1]}). Bring it back to the "
                    "shelf.\nPress Enter when you have it here.")
        if step.phase == "clear":
            return ("EJECT", step.found or "?", f"Drive {item.drive} holds {step.found}, not the tape needed.\n"
                    "Press Enter: it comes out. Put it on the shelf.")
        if step.phase == "reading":
            return "READING", name, f"The console loads it in drive {item.drive} and reads its label…"
        if step.phase == "correct":
            return "CORRECT", name, f"{step.result}\nPress Enter for the next step."
        if step.phase == "wrong":
            return ("WRONG TAPE", step.found or "?", f"{step.result}\nPress Enter: it comes out. "
                    f"Then insert {name}.")
        return ("INSERT", name, f"Put it in drive {item.drive} ({generation}). Take it from the shelf.\n"
                "Press Enter when it is in the drive.")

    def _checklist(self) -> str:
        marks = []
        for index, step in enumerate(self.steps):
            mark = "✔" if step.phase == "done" else "–" if step.skipped else "▶" if index == self.current else "·"
            item = step.item
            if isinstance(item, BringBack):
                marks.append(f"{mark} {len(item.tapes)} from {item.vault} → shelf")
                continue
            target = "offsite" if step.going_out else f"drive {item.drive}"
            marks.append(f"{mark} {step.name} → {target}")
        return "   ".join(marks)

    def _draw(self) -> None:
        progress = self.query_one("#swap-progress", Static)
        verb, tape = self.query_one("#swap-verb", BigText), self.query_one("#swap-tape", BigText)
        where, result = self.query_one("#swap-where", Static), self.query_one("#swap-result", Static)
        keys, checklist = self.query_one("#swap-keys", Static), self.query_one("#swap-list", Static)
        snapshot = self.console.snapshot
        if not self.steps:
            tape.text = ""
            if self.plan is None:
                progress.update(self.heading)
                verb.text = "WAIT"
                if self.plan_error and not self._asking:
                    where.update(f"The daemon could not say which tapes to swap: {self.plan_error}")
                    result.update("Press r to ask again, or tell the operator.")
                    keys.update("r: ask again   Esc: close")
                    checklist.update("")
                    return
                where.update(snapshot.error or "Asking the daemon which tapes to swap…")
                result.update("")
            else:
                progress.update(f"{self.heading}: nothing to do")
                verb.text = "NOTHING TO SWAP"
                where.update("\n".join(self.plan.notes) or "No tape has to go offsite and every drive has its tape.")
                result.update("")
            keys.update("Esc: close")
            checklist.update("")
            return
        checklist.update(self._checklist())
        if self.current >= len(self.steps):
            done = [s for s in self.steps if s.phase == "done"]
            out = sum(1 for s in done if s.going_out)
            back = sum(len(s.item.tapes) for s in done if isinstance(s.item, BringBack))
            inserted = sum(1 for s in done if isinstance(s.item, PutIn))
            progress.update(f"{self.heading}: finished")
            verb.text, tape.text = "ALL DONE", ""
            came_back = f", {back} came back to the shelf" if back else ""
            where.update(f"{out} tape(s) went to the offsite box{came_back}, {inserted} tape(s) are in their "
                         "drives.\nEvery step is in the audit log with the time (tapeconsole audit).")
            skipped = [s.name for s in self.steps if s.skipped]
            result.update(f"Skipped: {', '.join(skipped)}. Tell the operator." if skipped else "")
            keys.update("Enter or Esc: close")
            return
        step = self.steps[self.current]
        big_verb, big_tape, words = self._words(step)
        progress.update(f"{self.heading}: step {self.current + 1} of {len(self.steps)}"
                        + ("" if not self.plan or not self.plan.notes else "   (" + " ".join(self.plan.notes) + ")"))
        verb.text, tape.text = big_verb, big_tape
        verb.set_class(step.phase == "correct", "-correct")
        verb.set_class(step.phase == "wrong", "-wrong")
        where.update(words)
        result.update(step.result if step.phase not in ("correct", "wrong") else "")
        keys.update("Enter: done   s: skip this step   Esc: stop")
