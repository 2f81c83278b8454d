"""The tape swap as a plain state model: the steps of a swap list, where each one is (its phase), doing
it, skipping it, and what the onsite person reads for it.

Out: take last night's tapes out of the drives (ejected already, or ejected here: eject, take) and put
them in the offsite box. Bring back: the tapes the courier brought from the vault go on the shelf (recall).
In: insert the tape each drive needs next (fetch it from offsite first, clear the drive of another tape,
insert, reading, then correct or wrong from the label read back). Each confirmed step is reported to the
daemon (POST /v1/swaps). The model asks nothing itself: `do_step` is handed the screen's way of posting to
the daemon, and `look` says how the daemon looks now (the poller's last snapshot). No Textual here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from console.client.daemon_client import DaemonError, DaemonUnavailable
from console.client.poller import Snapshot
from console.client.swap_list import BringBack, SwapPlan, check_inserted, plan_from_answer
from console.wire.swap_list import PutIn, TakeOut
from console.wire.tape_names import sticker_first

Json = dict[str, Any]
Post = Callable[[str, Json | None], Awaitable[Any]]  # POST path (body): the daemon's answer, or it raises


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
            return item.tapes[0].barcode if len(item.tapes) == 1 else f"{len(item.tapes)} TAPES"
        return item.barcode  # the sticker: what the onsite person reads on the cartridge

    @property
    def label_note(self) -> str:
        """`Sticker X, label Y.` when the tape's label says otherwise than its sticker (a relabelled tape)."""
        item = self.item
        if isinstance(item, BringBack) or not item.label or item.label == item.barcode:
            return ""
        return f"Sticker {item.barcode}, label {item.label}.\n"


@dataclass(frozen=True)
class SwapView:
    """What the swap screen shows: a line of progress, a big verb and tape name, the plain words, the last
    outcome, the keys and the checklist of every step."""

    progress: str
    verb: str
    tape: str = ""
    where: str = ""
    result: str = ""
    keys: str = ""
    checklist: str = ""
    verdict: str | None = None  # the verb's colour: 'correct' or 'wrong' after a label read back, '' neither;
    # None: the colour of the step shown last stays (at the end, and while there are no steps)


class SwapWalk:
    def __init__(self, plan: SwapPlan | None, look: Callable[[], Snapshot], *, title: str = "Tape swap") -> None:
        self.plan = plan
        self.own_plan = plan is not None  # the restore walkthrough's list: never asked of the daemon
        self.look = look
        self.heading = title
        self.steps: list[Step] = []
        self.current = 0
        self.plan_error: str | None = None  # why the daemon's swap list could not be had
        self.asking = False
        self.busy = False

    # ---- the plan
    def asking_for_plan(self) -> None:
        self.asking, self.plan_error = True, None

    def plan_answered(self, answer: Json) -> None:
        self.asking = False
        self.plan = plan_from_answer(answer)

    def plan_refused(self, why: str) -> None:
        self.plan_error, self.asking = why, False

    def start(self) -> bool:
        """The steps of the plan, once it is had and the daemon was seen: False when there is nothing new."""
        snapshot = self.look()
        if self.steps or self.plan is None or not snapshot.tick or snapshot.error:
            return False
        plan = self.plan
        self.steps = [Step(item) for item in (*plan.take_out, *plan.recall, *plan.put_in)]
        self.current = 0
        if self.steps:
            self.begin(self.steps[0])
        return True

    def start_over(self) -> bool:
        """Forget the steps; True when the daemon's swap list has to be asked for again."""
        self.steps, self.current = [], 0
        if self.own_plan:
            return False
        self.plan = None
        return True

    @property
    def at_end(self) -> bool:
        return self.current >= len(self.steps)

    @property
    def complete(self) -> bool:
        """Every step done (none skipped)."""
        return bool(self.steps) and all(s.phase == "done" for s in self.steps)

    # ---- the phases
    def begin(self, step: Step) -> None:
        """The first phase of a step, from where the tapes are now."""
        snapshot = self.look()
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
            self.judge(step, drive)
        elif drive.get("loaded"):
            step.phase, step.found = "clear", drive.get("label") or drive["loaded"]
        else:
            step.phase = "insert"

    def judge(self, step: Step, drive: Json) -> None:
        """Correct or wrong, from the label the drive read back."""
        item = step.item
        assert isinstance(item, PutIn)
        expected = self.look().tape(item.barcode) or {"barcode": item.barcode, "label": item.label}
        verdict = check_inserted(expected, drive)
        step.phase = "correct" if verdict.correct else "wrong"
        step.result, step.found = verdict.text, verdict.found

    def skip(self) -> bool:
        if self.busy or self.at_end:
            return False
        self.steps[self.current].skipped = True
        self.advance()
        return True

    def advance(self) -> None:
        self.current += 1
        while self.current < len(self.steps) and self.steps[self.current].finished:
            self.current += 1
        if self.current < len(self.steps):
            self.begin(self.steps[self.current])

    # ---- doing a step
    async def do_step(self, step: Step, post: Post, changed: Callable[[], None] = lambda: None) -> None:
        """Do the step's phase (the current one when Enter was pressed) with the daemon; `changed` is called
        whenever there is news to show."""
        item = step.item
        self.busy = True
        step.result = "Working…"
        changed()
        try:
            if isinstance(item, BringBack):
                missing = [t for t in item.tapes if t.barcode not in step.reported]
                for tape in missing:
                    if not await self._report(post, step, tape.barcode, "back", "moved"):
                        break
                else:
                    step.phase, step.result = "done", ""
                    self.advance()
            elif step.phase == "eject" or step.phase == "clear":
                if await self._post(post, step, f"/drives/{item.drive}/eject") is not None:
                    step.result = "Ejected."
                    step.phase = "take" if step.going_out else "insert"
            elif step.phase == "take":
                if await self._report(post, step, item.barcode, "out", "moved", drive=item.drive):
                    step.phase, step.result = "done", ""
                    self.advance()
            elif isinstance(item, PutIn):
                await self._do_insert(post, step, item, changed)
        finally:
            self.busy = False

    async def _post(self, post: Post, step: Step, path: str, body: Json | None = None) -> Any:
        try:
            return await post(path, body)
        except (DaemonError, DaemonUnavailable) as exc:
            step.result = f"That did not work: {exc}. Press Enter to try again, or ask the operator."
            return None

    async def _report(self, post: Post, step: Step, barcode: str, direction: str, verdict: str, *,
                      drive: str | None = None, found: str | None = None) -> bool:
        """Tell the daemon the step is confirmed (it records the move and audits it); False when it refused."""
        body: Json = {"barcode": barcode, "direction": direction, "verdict": verdict}
        if drive:
            body["drive"] = drive
        if found:
            body["found"] = found
        if await self._post(post, step, "/swaps", body) is None:
            return False
        if verdict != "wrong":
            step.reported.add(barcode)
        return True

    async def _do_insert(self, post: Post, step: Step, item: PutIn, changed: Callable[[], None]) -> None:
        if step.phase == "fetch":
            if await self._report(post, step, item.barcode, "back", "moved"):
                drive = self.look().drive(item.drive) or {}
                step.phase = "clear" if drive.get("loaded") else "insert"
                step.found = drive.get("label") or drive.get("loaded")
                step.result = "Recorded: it is back on the shelf."
        elif step.phase == "insert":
            step.phase = "reading"
            changed()
            drive = await self._post(post, step, f"/drives/{item.drive}/load", {"barcode": item.barcode})
            if drive is None:
                step.phase = "insert"
                return
            self.judge(step, drive)
            verdict = "correct" if step.phase == "correct" else "wrong"
            text = step.result
            if not await self._report(post, step, item.barcode, "in", verdict, drive=item.drive, found=step.found):
                step.result = f"{text}\n{step.result}" if verdict == "wrong" else step.result
                if verdict == "correct":
                    step.phase = "insert"  # not recorded: load it again to confirm
            else:
                step.result = text
        elif step.phase == "wrong":
            if await self._post(post, step, f"/drives/{item.drive}/eject") is not None:
                step.phase, step.result = "insert", f"Ejected {step.found}. Put it back on the shelf."
        elif step.phase == "correct":
            confirmed = item.barcode in step.reported or await self._report(
                post, step, item.barcode, "in", "correct", drive=item.drive, found=step.found)
            if confirmed:
                step.phase, step.result = "done", ""
                self.advance()

    # ---- what the onsite person reads
    def words(self, step: Step) -> tuple[str, str, str]:
        """(big verb, big tape name, where) for the step's phase."""
        snapshot = self.look()
        item = step.item
        name = step.name
        if isinstance(item, BringBack):
            tapes = "\n".join(f"  {sticker_first(t.barcode, t.label)}, for the night of {t.night} ({t.job})"
                              for t in item.tapes)
            return ("BRING BACK", name, f"Bring these back from {item.vault} and put them on the shelf:\n{tapes}\n"
                    "Press Enter when they are here (s: not yet).")
        drive = (snapshot.drive(item.drive) if item.drive else None) or {}
        generation = drive.get("generation", "")
        if isinstance(item, TakeOut):
            if step.phase == "eject":
                return "EJECT", name, f"Drive {item.drive} ({generation}) still holds it. Press Enter: it comes out."
            source = f"drive {item.drive} ({generation}); it has been ejected" if item.drive else "the shelf"
            return ("TAKE OUT", name, f"Take it from {source}.\n"
                    f"Put it in the offsite box for {item.vault}.\nPress Enter when it is in the box.")
        if step.phase == "fetch":
            where = (snapshot.tape(item.barcode) or {}).get("location", item.location)
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

    def checklist(self) -> str:
        marks = []
        for index, step in enumerate(self.steps):
            mark = "✔" if step.phase == "done" else "–" if step.skipped else "▶" if index == self.current else "·"
            item = step.item
            if isinstance(item, BringBack):
                marks.append(f"{mark} {len(item.tapes)} from {item.vault} → shelf")
                continue
            target = "offsite" if step.going_out else f"drive {item.drive}"
            marks.append(f"{mark} {sticker_first(item.barcode, item.label)} → {target}")
        return "   ".join(marks)

    def view(self) -> SwapView:
        if not self.steps:
            return self._view_without_steps()
        checklist = self.checklist()
        if self.at_end:
            done = [s for s in self.steps if s.phase == "done"]
            out = sum(1 for s in done if s.going_out)
            back = sum(len(s.item.tapes) for s in done if isinstance(s.item, BringBack))
            inserted = sum(1 for s in done if isinstance(s.item, PutIn))
            came_back = f", {back} came back to the shelf" if back else ""
            skipped = [s.name for s in self.steps if s.skipped]
            return SwapView(
                f"{self.heading}: finished", "ALL DONE", "",
                f"{out} tape(s) went to the offsite box{came_back}, {inserted} tape(s) are in their drives.\n"
                "Every step is in the audit log with the time (tapeconsole audit).",
                f"Skipped: {', '.join(skipped)}. Tell the operator." if skipped else "", "Enter or Esc: close",
                checklist)
        step = self.steps[self.current]
        verb, tape, where = self.words(step)
        if tape == step.name and step.label_note:
            where = step.label_note + where
        notes = "" if not self.plan or not self.plan.notes else "   (" + " ".join(self.plan.notes) + ")"
        verdict = step.phase if step.phase in ("correct", "wrong") else ""
        return SwapView(f"{self.heading}: step {self.current + 1} of {len(self.steps)}{notes}", verb, tape, where,
                        "" if verdict else step.result, "Enter: done   s: skip this step   Esc: stop",
                        checklist, verdict)

    def _view_without_steps(self) -> SwapView:
        if self.plan is None:
            if self.plan_error and not self.asking:
                return SwapView(self.heading, "WAIT", "",
                                f"The daemon could not say which tapes to swap: {self.plan_error}",
                                "Press r to ask again, or tell the operator.", "r: ask again   Esc: close")
            return SwapView(self.heading, "WAIT", "", self.look().error or "Asking the daemon which tapes to swap…",
                            "", "Esc: close")
        return SwapView(f"{self.heading}: nothing to do", "NOTHING TO SWAP", "",
                        "\n".join(self.plan.notes) or "No tape has to go offsite and every drive has its tape.", "",
                        "Esc: close")
