"""Run one backup job on its drive: pick and ready the tape, write sets until the source is done,
change tapes when one fills, record every set, eject when done.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.config.schema import DriveConfig, JobConfig
from console.engine.drives.base import Drive, DriveError
from console.engine.inventory import Inventory
from console.engine.jobs.drive_record import DriveRecord, drive_floor
from console.engine.jobs.stream_watch import StreamWatch
from console.engine.jobs.tape_choice import TapeChoice, candidates, describe_need
from console.engine.jobs.tape_records import record_labelled, record_written
from console.engine.pipeline.buffer import RATE_WINDOW, Rate, TapeBuffer
from console.engine.pipeline.drive_writer import DriveWriter
from console.engine.pipeline.parts import MemberCursor, SourceMember
from console.engine.pipeline.set_writer import SetOutcome, SetProgress, first_block_of_set, write_set
from console.engine.redaction import redact
from console.engine.refusals import Refused
from console.engine.tape_handling import tape_ops
from console.engine.tape_handling.drive_handle import DriveHandle, LoadedTape
from console.engine.tape_handling.tape_moves import eject_and_record, load_and_record
from console.engine.tapeformat.label import TapeLabel
from console.wire.runs import JobRun

log = logging.getLogger("tapeconsole.jobs")
ESTIMATE_CAP = 0.99  # a run whose size is an estimate never reads 100% before it is done



@dataclass
class BackupRun:
    """One run of a job: its live progress and its outcome."""

    id: int
    job: JobConfig
    user: str
    state: str = "queued"  # queued, running, done, failed, cancelled
    error: str | None = None
    started: float | None = None
    ended: float | None = None
    sets: list[int] = field(default_factory=list)
    tapes: list[str] = field(default_factory=list)
    bytes_done: int = 0  # on tape, in finished sets
    source_bytes: int | None = None  # what the source read (files: the tree), for the compression ratio
    expected_bytes: int | None = None
    expected_is_estimate: bool = False  # a source that cannot know its size before it is read (files: compressed)
    input_bytes: int | None = None  # what the source will read (files: the tree), when known before
    input_done: Callable[[], int] | None = None  # what it has read so far
    tape: str | None = None
    set_id: int | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    progress: SetProgress = field(default_factory=SetProgress)
    buffer: TapeBuffer | None = None
    writer: DriveWriter | None = None
    notes: list[str] = field(default_factory=list)
    waiting: str | None = None  # what the job waits for (state waiting-for-tape)
    waiting_since: float | None = None
    settled: threading.Event = field(default_factory=threading.Event)  # finished, its tape ejected and recorded
    stream_risk: str | None = None  # set while the source feeds the drive slower than its floor
    drive_record: DriveRecord | None = None  # how the drive did, once the run is over
    cpu_shared_with: list[int] = field(default_factory=list)  # runs at the same time: cpu_seconds covers them too
    _tape_rate: Rate = field(default_factory=lambda: Rate(time.monotonic))
    _rate_lock: threading.Lock = field(default_factory=threading.Lock)  # snapshots come from several threads

    def snapshot(self) -> JobRun:
        """A JSON view (console/wire/runs.py says what each key means), safe to build from any thread."""
        writer, buffer = self.writer, self.buffer
        in_set = writer.bytes_written if writer is not None else 0
        done = self.bytes_done + in_set
        stats = buffer.stats().to_json() if buffer is not None and self.state == "running" else None
        rates = self._rates(stats)
        rate = rates["onto_tape"] if rates["onto_tape"] is not None else rates["to_drive"]
        fraction, eta = self._progress(done, rate)
        return {
            "id": self.id,
            "name": self.job.name,
            "job": self.job.name,
            "source": self.job.source,
            "drive": self.job.drive,
            "pool": self.job.pool,
            "state": self.state,
            "error": self.error,
            "user": self.user,
            "started": _iso_or_none(self.started),
            "ended": _iso_or_none(self.ended),
            "bytes": done,
            "set_bytes": in_set if writer is not None else None,  # on the tape in the set being written
            "expected_bytes": self.expected_bytes,
            "expected_is_estimate": self.expected_is_estimate,
            "input_bytes": self.input_bytes,
            "input_done": self._input_done(),
            "fraction": fraction,
            "rate": rate,  # the run's one rate: onto the tape when the drive can tell, else to the drive
            "rate_is": "onto tape" if rates["onto_tape"] is not None else "to drive",
            "rates": rates,
            "eta_seconds": eta,
            "tape": self.tape,
            "set": self.set_id,
            "sets": list(self.sets),
            "tapes": list(self.tapes),
            "member": self.progress.member,
            "member_bytes": self.progress.member_bytes,
            "member_length": self.progress.member_length,
            "buffer": stats,
            "underruns": stats["underruns"] if stats else None,
            "notes": list(self.notes),
            "waiting": self.waiting,
            "waiting_since": _iso_or_none(self.waiting_since),
            "stream_risk": self.stream_risk,
            **(self.drive_record.to_json() if self.drive_record is not None and self.ended is not None else {}),
            "cpu_shared_with": list(self.cpu_shared_with),
            "cancelling": self.cancel.is_set() and self.state in ("queued", "waiting-for-tape", "running"),
        }

    def _rates(self, stats: dict[str, Any] | None) -> dict[str, Any]:
        """Into the memory buffer, out of it to the drive, and onto the tape (past the drive's own buffer, when
        the drive can tell), each in bytes/s over the same window."""
        onto_tape = None
        writer = self.writer
        if writer is not None and stats is not None:
            on_tape = writer.drive.counters().bytes_on_tape
            if on_tape is not None:
                with self._rate_lock:
                    self._tape_rate.add(on_tape)
                    onto_tape = self._tape_rate.value()
        return {"into_buffer": stats["in_rate"] if stats else 0.0, "to_drive": stats["out_rate"] if stats else 0.0,
                "onto_tape": onto_tape, "window_seconds": RATE_WINDOW}

    def _input_done(self) -> int | None:
        return self.input_done() if self.input_done is not None else None

    def _progress(self, done: int, rate: float) -> tuple[float | None, float | None]:
        """(fraction done, seconds left) while running. A known size: bytes on tape against it. An estimate:
        what is left of the input (the tree still to read), at the output's ratio to the input so far; never
        1.0 before the run ends."""
        if self.state != "running":
            return (1.0 if self.state == "done" else None), None
        read, total = self._input_done(), self.input_bytes
        if self.expected_is_estimate:
            if read and total:
                left_out = (total - min(read, total)) * done / read  # output still to come, at the ratio so far
                fraction = min(ESTIMATE_CAP, read / total)
            elif self.expected_bytes:
                left_out = max(0, self.expected_bytes - done)
                fraction = min(ESTIMATE_CAP, done / self.expected_bytes)
            else:
                return None, None
        elif self.expected_bytes:
            left_out = max(0, self.expected_bytes - done)
            fraction = min(1.0, done / self.expected_bytes)
        else:
            return None, None
        return fraction, (left_out / rate if rate > 0 else None)

    def request_cancel(self, why: str = "cancelled by the operator") -> None:
        """Stop at the next record: what the buffer holds and the rest of the member are not written (the
        set ends there, cut short, and is recorded as cancelled; the sets before it stay whole)."""
        self.cancel.set()
        buffer = self.buffer
        if buffer is not None:
            buffer.cancel(why)


def _iso_or_none(moment: float | None) -> str | None:
    return None if moment is None else datetime.fromtimestamp(moment).astimezone().isoformat(timespec="seconds")


@dataclass
class JobContext:
    inventory: Inventory
    slot: DriveHandle
    drive_config: DriveConfig
    autoload: Callable[[Drive, str], None] | None  # virtual drives load from the shelf; None for real ones
    clock: Callable[[], float] = time.time
    recheck_seconds: float = 5.0  # how often a waiting job looks at the drive again
    on_event: Callable[[str, BackupRun], None] | None = None  # notifications: waiting-for-tape, tape-full, ...
    held_tapes: Callable[[], Collection[str]] = tuple  # tapes a restore or verify needs: never written


class RunCancelled(Exception):
    pass


class BackupJob:
    def __init__(self, run: BackupRun, members: Iterable[SourceMember], ctx: JobContext) -> None:
        self.run = run
        self.ctx = ctx
        self.cursor = MemberCursor(members)
        self.full_tapes: set[str] = set()
        self.record = DriveRecord(drive_floor(ctx.drive_config))

    # ---- tape handling
    def _ready_tape(self, drive: Drive) -> dict[str, Any]:
        """Have a suitable tape of the job's pool loaded and labelled; wait for one when there is none,
        re-checking every few seconds, until it comes or the run is cancelled."""
        run, inv = self.run, self.ctx.inventory
        announced: str | None = None
        waiting_since = 0.0
        while True:
            tape_or_need = self._try_ready_tape(drive)
            if isinstance(tape_or_need, dict):
                if announced is not None:
                    run.state, run.waiting = "running", None
                    inv.update_run(run.id, state="running", waiting=None)
                    log.info("job %s run %d: tape found, writing", run.job.name, run.id)
                return tape_or_need
            if announced != tape_or_need:
                announced = tape_or_need
                if not waiting_since:
                    waiting_since = self.ctx.clock()
                run.state, run.waiting, run.waiting_since = "waiting-for-tape", tape_or_need, waiting_since
                inv.update_run(run.id, state="waiting-for-tape", waiting=tape_or_need)
                log.warning("job %s run %d waiting: %s", run.job.name, run.id, tape_or_need)
                if self.ctx.on_event is not None:
                    self.ctx.on_event("waiting-for-tape", run)
            if run.cancel.wait(self.ctx.recheck_seconds):
                raise RunCancelled(f"cancelled while waiting: {tape_or_need}")

    def _try_ready_tape(self, drive: Drive) -> dict[str, Any] | str:
        """The tape record when a suitable tape is ready, else what the onsite person must do."""
        job, inv, slot = self.run.job, self.ctx.inventory, self.ctx.slot
        status = drive.status()
        if status.online and (slot.loaded is None or slot.loaded.barcode is None):
            # a tape inserted by hand into a real drive: read its label first
            slot.loaded = tape_ops.identify(drive, self.ctx.drive_config.block_size, status.barcode, inv)
            if slot.loaded.barcode and inv.tape(slot.loaded.barcode):
                inv.move_tape(slot.loaded.barcode, f"drive:{slot.name}")
        choices = candidates(inv, job.pool, slot.name, self.ctx.drive_config.generation, exclude=self.full_tapes,
                             held=self.ctx.held_tapes())
        loaded = slot.loaded if status.online else None
        choice: TapeChoice | None = None
        if loaded is not None and not (loaded.foreign or loaded.warning):
            choice = next((c for c in choices if c.barcode == loaded.barcode), None)
        if choice is None:
            pool = inv.pool(job.pool) or {"generation": "?"}
            need = describe_need(job.pool, slot.name, pool["generation"], choices)
            if loaded is not None:
                need += f" ({self._why_not(loaded)})"
            if self.ctx.autoload is None:
                return need
            on_shelf = [c for c in choices if c.tape.get("location") == "shelf"]
            if not on_shelf:
                return f"no tape for pool {job.pool} on the shelf: {need}"
            choice = on_shelf[0]
            if status.online:
                eject_and_record(slot, drive, inv, "tapeconsole", job=job.name)
            load_and_record(slot, drive, inv, choice.barcode, "tapeconsole", self.ctx.autoload, job=job.name)
            self.run.notes.append(f"loaded {choice.barcode} ({choice.reason})")
        if choice.needs_label:
            self._label(drive, choice)
        tape = inv.tape(choice.barcode)
        assert tape is not None
        return tape

    def _why_not(self, loaded: LoadedTape) -> str:
        """Why the tape in the drive cannot take this job, in the onsite person's words."""
        inv, job = self.ctx.inventory, self.run.job
        if loaded.foreign:
            return f"the drive holds a tape that is not ours: {loaded.foreign}"
        if loaded.warning:
            return f"the drive holds a tape that does not match the inventory: {loaded.warning}"
        tape = inv.tape(loaded.barcode) if loaded.barcode else None
        if tape is None:
            if loaded.blank:
                return (f"the drive holds a blank tape with no known sticker: "
                        f"tell me its barcode with `tapeconsole load {self.ctx.slot.name} STICKER`")
            return f"the drive holds tape {loaded.label or '?'}, unknown to the inventory"
        name = tape.get("label") or tape["barcode"]
        if tape["barcode"] in self.full_tapes or tape["status"] == "full":
            return f"the drive holds {name}, which is full"
        if tape.get("write_protected"):
            return f"the drive holds {name}, which is write-protected"
        if tape.get("pool") and tape["pool"] != job.pool:
            return f"the drive holds {name} of pool {tape['pool']}"
        protected, why = inv.is_protected(tape)
        if protected:
            return f"the drive holds {name}: {why}"
        return f"the drive holds {name}, which this job cannot use"

    def _label(self, drive: Drive, choice: TapeChoice) -> None:
        inv, slot, job = self.ctx.inventory, self.ctx.slot, self.run.job
        tape = choice.tape
        protected, why = inv.is_protected(tape)
        if protected:  # checked again right before writing: never overwrite unexpired data
            raise Refused(f"refused: {why}")
        text = tape.get("label") or choice.barcode
        now = datetime.fromtimestamp(self.ctx.clock()).astimezone()
        label = TapeLabel.new(text, choice.barcode, job.pool, tape["generation"], now)
        tape_ops.write_label(drive, label, self.ctx.drive_config.block_size)
        record_labelled(inv, choice, text=text, label_uuid=label.uuid, created=label.created, pool=job.pool,
                        user=self.run.user, drive=slot.name, job=job.name, label_bytes=self.ctx.drive_config.block_size)
        slot.loaded = LoadedTape(barcode=choice.barcode, label=text, label_uuid=label.uuid, pool=job.pool)

    # ---- the run
    def execute(self) -> None:
        run, inv, slot = self.run, self.ctx.inventory, self.ctx.slot
        run.state, run.started = "running", self.ctx.clock()
        inv.update_run(run.id, state="running", started=_iso_or_none(run.started))
        previous_set: int | None = None
        floor = drive_floor(self.ctx.drive_config)
        self.record = DriveRecord(floor)
        watch = StreamWatch(run, run.job.name, slot.name, floor).start() if floor else None
        try:
            with slot.hold(f"writing {run.job.name}") as drive:
                while True:
                    tape = self._ready_tape(drive)
                    outcome, set_id = self._write_one_set(drive, tape, previous_set)
                    previous_set = set_id
                    if outcome.state in ("failed", "cancelled"):
                        run.state = outcome.state
                        run.error = outcome.error
                        if outcome.at_physical_end:  # never again the same failure on the same tape
                            self._mark_full(slot.name, tape, "physical end of tape")
                            run.error = f"{outcome.error}; tape {tape['label']} marked full, the next run takes " \
                                        "another tape"
                        break
                    if outcome.state == "complete":
                        run.state = "done"
                        break
                    # the tape is full: the next one continues the job
                    self._mark_full(slot.name, tape, "early warning")
                    log.info("tape full job=%s tape=%s: changing tape", run.job.name, tape["barcode"])
                    if self.ctx.on_event is not None:
                        self.ctx.on_event("tape-full", run)
                    if self.ctx.autoload is None:  # a real drive: the onsite person takes it out
                        eject_and_record(slot, drive, inv, "tapeconsole", job=run.job.name, reason="tape full")
                if run.job.eject_when_done and run.state == "done" and drive.status().online:
                    eject_and_record(slot, drive, inv, "tapeconsole", job=run.job.name)
        except RunCancelled as exc:
            run.state, run.error = "cancelled", redact(str(exc))
            self.cursor.abandon()
        except (Refused, DriveError) as exc:
            run.state, run.error = "failed", redact(str(exc))
            self.cursor.abandon()
        except Exception as exc:  # the daemon keeps running; the run says what broke
            log.exception("job %s failed", run.job.name)
            run.state, run.error = "failed", redact(f"{exc.__class__.__name__}: {exc}")
            self.cursor.abandon()
        finally:
            slot.writing_position = None
            if watch is not None:
                watch.stop()
            self.record.finish()
            run.drive_record = self.record
            run.ended = self.ctx.clock()
            run.buffer = None
            inv.update_run(run.id, state=run.state, error=run.error, ended=_iso_or_none(run.ended),
                           bytes=run.bytes_done, sets=run.sets, tapes=run.tapes, source_bytes=run.source_bytes,
                           stream_risk_warnings=watch.warnings if watch is not None else 0, **self.record.to_json())
            log.info("job %s run %d %s%s", run.job.name, run.id, run.state, f": {run.error}" if run.error else "")

    def _write_one_set(self, drive: Drive, tape: dict[str, Any], previous_set: int | None) -> tuple[SetOutcome, int]:
        run, inv, cfg = self.run, self.ctx.inventory, self.ctx.drive_config
        drive.set_block_size(0)
        live = [s for s in inv.sets(barcode=tape["barcode"]) if s["state"] != "overwritten"]
        if live and live[-1].get("cut") and not live[-1].get("closed"):
            tape_ops.close_cut_file(drive)  # the set a crash cut short gets its filemark first
            inv.update_set(live[-1]["id"], closed=True)
            run.notes.append(f"tape {tape['label']}: closed tape file {live[-1]['file']}, cut short by an interruption")
            log.warning("tape %s: set %d (file %d) was cut short: wrote its filemark", tape["label"], live[-1]["id"],
                        live[-1]["file"])
        else:
            drive.end_of_data()
        file_number = len(live) + 1
        status = drive.status()
        if 0 < status.file_number < 1_000_000 and status.file_number != file_number:
            run.notes.append(f"tape {tape['barcode']}: drive reports file {status.file_number}, "
                             f"inventory expects {file_number}; using the drive's")
            file_number = status.file_number
        first_block = first_block_of_set(drive)
        tape = self._count_cut_data(tape, live, first_block, file_number)
        now = self.ctx.clock()
        set_id = inv.add_set({
            "job": run.job.name, "run": run.id, "source": run.job.source, "barcode": tape["barcode"],
            "tape": tape["label"], "pool": run.job.pool, "file": file_number, "first_block": first_block,
            "record_size": cfg.block_size, "started": _iso_or_none(now), "ended": None, "bytes": 0,
            "members": [], "member_count": 0, "state": "writing", "continues": previous_set, "error": None,
        })
        run.set_id, run.tape = set_id, tape["label"]
        if tape["label"] not in run.tapes:
            run.tapes.append(tape["label"])
        run.sets.append(set_id)
        space_left = max(0, tape["capacity"] - tape["bytes_used"] - self._early_warning_reserve(tape))

        def attach(buffer: TapeBuffer, writer: DriveWriter) -> None:
            run.buffer, run.writer = buffer, writer
            if first_block is not None:  # each record is one block (variable block mode)
                self.ctx.slot.writing_position = lambda: (file_number, first_block + writer.records_written)

        outcome = write_set(
            drive, self.cursor, record_size=cfg.block_size, buffer_bytes=cfg.buffer_bytes, space_left=space_left,
            part_bytes=run.job.part_bytes, progress=run.progress, cancel=run.cancel, on_buffer=attach,
            manifest_fields={
                "set": set_id, "job": run.job.name,
                "run": run.id, "source": run.job.source, "tape": tape["label"], "barcode": tape["barcode"],
                "tape_file": file_number, "pool": run.job.pool, "started": _iso_or_none(now),
                "continues_set": previous_set,
            },
            clock=self.ctx.clock,
        )
        run.writer = None
        self.ctx.slot.writing_position = None
        self.record.add_set(outcome)
        run.bytes_done += outcome.bytes_on_tape
        ended = _iso_or_none(outcome.ended)
        inv.update_set(set_id, ended=ended, bytes=outcome.bytes_on_tape, members=outcome.members,
                       member_count=len(outcome.members), state=outcome.state, error=outcome.error)
        record_written(inv, tape["barcode"], bytes_used=tape["bytes_used"] + outcome.bytes_on_tape,
                       ended=datetime.fromtimestamp(outcome.ended).astimezone())
        log.info("set %d job=%s tape=%s file=%d state=%s bytes=%d members=%d", set_id, run.job.name,
                 tape["label"], file_number, outcome.state, outcome.bytes_on_tape, len(outcome.members))
        return outcome, set_id

    def _mark_full(self, drive_name: str, tape: dict[str, Any], why: str) -> None:
        self.full_tapes.add(tape["barcode"])
        self.ctx.inventory.update_tape(tape["barcode"], status="full")
        self.ctx.inventory.audit("tape-full", "tapeconsole", drive=drive_name, barcode=tape["barcode"],
                                 job=self.run.job.name, why=why)

    def _count_cut_data(self, tape: dict[str, Any], live: list[dict[str, Any]], first_block: int | None,
                        file_number: int) -> dict[str, Any]:
        """What a cut set left on the tape, counted from where end of data is: every block before it is a
        record (the label's included), every filemark one object. The cut set gets its bytes, the tape its
        fill and, when data did reach it, its last write (the retention clock starts only then)."""
        if first_block is None or not live or not live[-1].get("cut"):
            return tape
        on_tape = (first_block - file_number) * self.ctx.drive_config.block_size
        uncounted = on_tape - int(tape.get("bytes_used") or 0)
        if uncounted <= 0:
            return tape
        inv, cut = self.ctx.inventory, live[-1]
        inv.update_set(cut["id"], bytes=int(cut.get("bytes") or 0) + uncounted)
        fields: dict[str, Any] = {"bytes_used": on_tape}
        if cut.get("started"):
            fields["last_written"] = cut["started"]
        inv.update_tape(tape["barcode"], **fields)
        self.run.notes.append(f"tape {tape['label']}: {uncounted} bytes of set {cut['id']}, cut short by an "
                              "interruption, counted from end of data")
        log.warning("tape %s: set %d left %d uncounted bytes: counted", tape["label"], cut["id"], uncounted)
        return {**tape, **fields}

    def _early_warning_reserve(self, tape: dict[str, Any]) -> int:
        """Space kept before the physical end: the early-warning zone (2% of the tape, at most 4 GiB)."""
        return int(tape.get("early_warning_bytes") or min(tape["capacity"] // 50, 4 << 30))
