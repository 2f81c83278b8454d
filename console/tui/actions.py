"""What the operator can do from the console: run a job now, cancel it, load, eject, label, rewind, move a
tape offsite or back, start the demo. Keys, the command palette and the screens all come here.

Each action picks its target (the focused drive, the selected row, the only candidate, or asks), asks for
confirmation when it destroys something (naming the tape), calls the daemon, and reports the outcome as
an ActionFinished message: the daemon's one-line reason when it refused, never a traceback.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any, TypeVar

from textual.app import App

from console.client.daemon_client import DaemonError, DaemonUnavailable
from console.client.poller import Snapshot
from console.client.tape_rules import label_refusal, offsite_refusal, tape_name, writable_by
from console.tui.messages import ActionFinished, DaemonUpdate
from console.tui.screens.label_form import LabelForm
from console.wire.states import ACTIVE
from widgets.confirm import ConfirmScreen
from widgets.console_host import host_of
from widgets.picker import PickerScreen

Json = dict[str, Any]
T = TypeVar("T")
IDLE = ("idle", "no-tape", "error")



def describe_drive(drive: Json) -> str:
    tape = drive.get("loaded")
    what = "no tape"
    if tape:
        what = f"{drive.get('label') or tape} ({drive.get('pool') or ('blank' if drive.get('blank') else '?')})"
    return f"{drive['name']} · {drive.get('generation', '?')} · {what} · {drive.get('activity') or drive['state']}"


def describe_tape(tape: Json) -> str:
    parts = [tape["barcode"], tape.get("label") or "no label", tape.get("pool") or "no pool", tape["status"]]
    if tape.get("expires"):
        parts.append(f"expires {tape['expires']}")
    if tape.get("write_protected"):
        parts.append("write-protected")
    parts.append(tape.get("location") or "?")
    return " · ".join(parts)


def generation_number(generation: str | None) -> int:
    try:
        return int((generation or "").split("-")[1])
    except (IndexError, ValueError):
        return 0


class Operator:
    """The operator's actions: pick, confirm, ask the daemon, tell the outcome (ActionFinished)."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self.host = host_of(app)

    @property
    def snapshot(self) -> Snapshot:
        return self.host.snapshot

    # ---- helpers
    def tell(self, action: str, text: str, ok: bool = True) -> None:
        self.app.post_message(ActionFinished(action, text, ok))

    async def call(self, action: str, request: Awaitable[T]) -> T | None:
        """Await a daemon call; a refusal or a lost daemon becomes a notice."""
        try:
            return await request
        except DaemonError as exc:
            self.tell(action, f"{action}: {exc}", ok=False)
        except DaemonUnavailable as exc:
            self.tell(action, f"{action}: {exc}", ok=False)
        return None

    async def pick(self, title: str, choices: list[tuple[str, str]], *, chosen: str | None = None,
                   help: str = "") -> str | None:
        return await self.app.push_screen_wait(PickerScreen(title, choices, chosen=chosen, help=help))

    async def confirm(self, title: str, body: str, yes: str) -> bool:
        return bool(await self.app.push_screen_wait(ConfirmScreen(title, body, yes=yes)))

    async def choose_drive(self, verb: str, candidates: list[Json], wanted: str | None) -> str | None:
        """The drive named, else the focused drive panel, else the only candidate, else ask."""
        if wanted:
            return wanted
        focused = self.host.focused_drive()
        if focused:
            return focused
        if not candidates:
            self.tell(verb, f"{verb}: no drive can do that now", ok=False)
            return None
        if len(candidates) == 1:
            return str(candidates[0]["name"])
        choices = [(d["name"], describe_drive(d)) for d in candidates]
        return await self.pick(f"{verb.capitalize()}: which drive?", choices)

    # ---- jobs
    async def run_job(self, name: str | None = None) -> None:
        jobs = self.snapshot.jobs
        if name is None:
            if not jobs:
                self.tell("run", "run: no job is configured (jobs in config.toml)", ok=False)
                return
            choices = [(j["name"], f"{j['name']} → drive {j['drive']} · pool {j['pool']} · {j['source']}"
                        + (f" · running (run {j['running']})" if j.get("running") else "")) for j in jobs]
            name = await self.pick("Run which job now?", choices, chosen=self.host.selected_job())
            if name is None:
                return
        run = await self.call(f"run {name}", self.host.link.post(f"/jobs/{name}/run"))
        if run is not None:
            self.tell("run", f"{name}: started run {run['id']} on drive {run['drive']}")

    async def cancel(self, run_id: int | None = None) -> None:
        active = self.snapshot.active_runs()
        run = next((r for r in active if r["id"] == run_id), None) if run_id is not None else None
        if run is None:
            selected = self.host.selected_run()
            if selected is not None and selected.get("state") in ACTIVE:
                run = selected
            elif len(active) == 1:
                run = active[0]
            elif not active:
                self.tell("cancel", "cancel: no job is running", ok=False)
                return
            else:
                chosen = await self.pick("Cancel which run?", [
                    (str(r["id"]), f"run {r['id']} · {r['job']} on {r['drive']} · {r['state']} · "
                                   f"tape {r.get('tape') or '-'}") for r in active])
                run = next((r for r in active if str(r["id"]) == chosen), None)
                if run is None:
                    return
        tape = run.get("tape") or "no tape yet"
        body = (f"Cancel job {run['job']} (run {run['id']}) on drive {run['drive']}?\n"
                f"It is writing tape {tape}. The set being written ends there and is recorded as cancelled; "
                "the sets already complete stay restorable.")
        if not await self.confirm(f"Cancel {run['job']} writing {tape}?", body, yes="Cancel the job"):
            return
        done = await self.call(f"cancel run {run['id']}", self.host.link.post(f"/runs/{run['id']}/cancel"))
        if done is not None:
            self.app.post_message(DaemonUpdate(self.snapshot.with_run(done)))  # `cancelling` at once
            self.tell("cancel", f"{run['job']}: cancelling run {run['id']} (tape {tape}): it stops at the next "
                                "record")

    async def demo(self) -> None:
        """Start the first job of each drive (on the embedded default: both nightly jobs), so both drives
        stream; the jobs load and label blank tapes themselves."""
        started, refused = [], []
        first_per_drive: dict[str, Json] = {}
        for job in self.snapshot.jobs:
            first_per_drive.setdefault(job["drive"], job)
        for job in first_per_drive.values():
            if job.get("running") is not None or self.snapshot.active_run(job["drive"]) is not None:
                refused.append(f"{job['name']} already runs")
                continue
            try:
                run = await self.host.link.post(f"/jobs/{job['name']}/run")
            except (DaemonError, DaemonUnavailable) as exc:
                refused.append(f"{job['name']}: {exc}")
                continue
            started.append(f"{job['name']} on {run['drive']} (run {run['id']})")
        if started:
            text = "demo: started " + ", ".join(started) + ". The jobs load and label blank tapes themselves."
            if refused:
                text += " Not started: " + "; ".join(refused)
            self.tell("demo", text)
        else:
            self.tell("demo", "demo: nothing started: " + ("; ".join(refused) or "no job is configured"), ok=False)

    # ---- drives
    async def eject(self, drive: str | None = None) -> None:
        loaded = [d for d in self.snapshot.drives if d.get("loaded")]
        name = await self.choose_drive("eject", loaded, drive)
        if name is None:
            return
        result = await self.call(f"eject {name}", self.host.link.post(f"/drives/{name}/eject"))
        if result is not None:
            self.tell("eject", f"{name}: ejected {result.get('ejected') or 'the tape'}")

    async def rewind(self, drive: str | None = None) -> None:
        loaded = [d for d in self.snapshot.drives if d.get("loaded") and d["state"] in IDLE]
        name = await self.choose_drive("rewind", loaded, drive)
        if name is None:
            return
        if await self.call(f"rewind {name}", self.host.link.post(f"/drives/{name}/rewind")) is not None:
            self.tell("rewind", f"{name}: rewound")

    def shelf_choices(self, drive: Json | None) -> list[tuple[str, str]]:
        """Tapes on the shelf the drive can write (its generation, then one back)."""
        gen = generation_number((drive or {}).get("generation"))
        shelf = [t for t in self.snapshot.tapes if t.get("location") == "shelf" and writable_by(drive or {}, t)]
        shelf.sort(key=lambda t: (abs(gen - generation_number(t.get("generation"))) if gen else 0, t["barcode"]))
        return [(t["barcode"], describe_tape(t)) for t in shelf]

    async def load(self, drive: str | None = None, barcode: str | None = None) -> None:
        empty = [d for d in self.snapshot.drives if not d.get("loaded")]
        name = await self.choose_drive("load", empty, drive)
        if name is None:
            return
        if barcode is None:
            selected = self.host.selected_tape()
            choices = self.shelf_choices(self.snapshot.drive(name))
            chosen = selected["barcode"] if selected and selected["barcode"] in dict(choices) else None
            if not choices:
                gen = (self.snapshot.drive(name) or {}).get("generation") or "?"
                self.tell("load", f"load: no tape on the shelf that {name} ({gen}) can write", ok=False)
                return
            barcode = await self.pick(f"Load which tape into {name}?", choices, chosen=chosen)
            if barcode is None:
                return
        self.tell("load", f"{name}: loading {barcode} and reading its label…")
        result = await self.call(f"load {barcode} into {name}",
                                 self.host.link.post(f"/drives/{name}/load", {"barcode": barcode}))
        if result is not None:
            what = (f"label {result['label']} (pool {result.get('pool')})" if result.get("label")
                    else "blank" if result.get("blank") else "no tapeconsole label")
            warning = f"; warning: {result['warning']}" if result.get("warning") else ""
            self.tell("load", f"{name}: loaded {result.get('loaded') or barcode}, {what}{warning}",
                      ok=not result.get("warning"))

    async def label(self, drive: str | None = None) -> None:
        loaded = [d for d in self.snapshot.drives if d.get("loaded") and d["state"] in IDLE]
        name = await self.choose_drive("label", loaded, drive)
        if name is None:
            return
        current = self.snapshot.drive(name)
        if current is None or not current.get("loaded"):
            self.tell("label", f"label: drive {name} holds no tape: load one first", ok=False)
            return
        tape = self.snapshot.tape(current["loaded"])
        refusal = label_refusal(tape, self.snapshot.pool((tape or {}).get("pool")), self.host.today())
        if refusal:  # before any question: the daemon would refuse it after them
            self.tell("label", f"label: {refusal}", ok=False)
            return
        record = await self.app.push_screen_wait(LabelForm(current, tape, self.snapshot.pools))
        if record:
            self.tell("label", f"{name}: tape {record['barcode']} labelled {record['label']} in pool {record['pool']}")

    # ---- tapes
    async def move(self, where: str, barcode: str | None = None) -> None:
        """Record a tape going offsite (to its pool's vault; asks first) or coming back to the shelf."""
        offsite = where == "offsite"
        if offsite:
            on_shelf = [t for t in self.snapshot.tapes if t.get("location") == "shelf"]
            candidates = [t for t in on_shelf if offsite_refusal(t) is None]
        else:
            on_shelf = []
            candidates = [t for t in self.snapshot.tapes if (t.get("location") or "").startswith("offsite")]
        if barcode is None:
            selected = self.host.selected_tape()
            if selected is not None and selected in candidates:
                barcode = selected["barcode"]
            elif offsite and selected is not None and selected in on_shelf:
                self.tell(where, f"offsite: {offsite_refusal(selected)}", ok=False)
                return
            elif not candidates:
                self.tell(where, f"{where}: no tape " + ("on the shelf holds backups to keep offsite" if offsite
                                                        else "is offsite"), ok=False)
                return
            else:
                title = "Which tape goes offsite?" if offsite else "Which tape is back on the shelf?"
                barcode = await self.pick(title, [(t["barcode"], describe_tape(t)) for t in candidates])
                if barcode is None:
                    return
        tape = self.snapshot.tape(barcode)
        if offsite and tape is not None and tape.get("location") == "shelf":  # elsewhere: the daemon says why not
            refusal = offsite_refusal(tape)
            if refusal:
                self.tell(where, f"offsite: {refusal}", ok=False)
                return
            pool = self.snapshot.pool(tape.get("pool"))
            vault = (pool or {}).get("vault") or "the vault"
            body = (f"Record that {tape_name(tape)} leaves the site for {vault}?\n"
                    f"{describe_tape(tape)}\nNo job writes to it, and a restore asks for it back, until it is "
                    "marked back onsite (n).")
            if not await self.confirm(f"Move {tape_name(tape)} offsite?", body, yes="It goes offsite"):
                return
        moved = await self.call(f"{where} {barcode}", self.host.link.post(
            f"/tapes/{barcode}/location", {"location": "offsite" if offsite else "shelf"}))
        if moved is not None:
            self.tell(where, f"{tape_name(moved)} is now at {moved['location']}")

    async def verify(self, barcode: str | None = None) -> None:
        """Read a tape's sets back and check every member's sha256 (the daemon runs it on a free drive)."""
        candidates = [t for t in self.snapshot.tapes if t.get("label") and t.get("location") != "offsite"
                      and not (t.get("location") or "").startswith("offsite")]
        if barcode is None:
            selected = self.host.selected_tape()
            if selected is not None and selected["barcode"] in {t["barcode"] for t in candidates}:
                barcode = selected["barcode"]
            elif not candidates:
                self.tell("verify", "verify: no labelled tape on site", ok=False)
                return
            else:
                barcode = await self.pick("Verify which tape?", [(t["barcode"], describe_tape(t)) for t in candidates])
                if barcode is None:
                    return
        tape = self.snapshot.tape(barcode)
        label = (tape or {}).get("label") or barcode
        run = await self.call(f"verify {label}", self.host.link.post("/verify", {"tape": label}))
        if run is not None:
            self.tell("verify", f"verify of tape {label} started (run {run.get('id', '?')}): "
                                f"follow it with tapeconsole verify {label} --wait")
