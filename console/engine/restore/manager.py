"""RestoreManager: restores, verifies and scans in the daemon, each in a thread holding its drive.

Like the JobManager for backups: start returns a snapshot at once, the work runs in a thread, get() and
list() give live snapshots (bytes, rate, ETA, tape, member, what the run waits for), cancel() stops a run
at the next block. Everything is refused up front, in one line, when it cannot work: an unknown set, a
tape offsite, a busy drive, a folder that is not empty, an SR that does not exist.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from console.config.schema import Config
from console.engine.drives.base import Drive, DriveError
from console.engine.inventory import Inventory, InventoryError
from console.engine.inventory.file_index import FileIndex
from console.engine.inventory.frame_table import FrameTable
from console.engine.jobs.files_job import index_path
from console.engine.refusals import BadRequest, NotFound, Refused
from console.engine.restore import find as finder
from console.engine.restore.catalog import night_of, parse_night
from console.engine.restore.extract import FileTreeSink, FolderSink, check_folder
from console.engine.restore.frame_seek import ArchiveMatch, archive_start, start_at
from console.engine.restore.index_upkeep import drop_overwritten_later
from console.engine.restore.plan import Plan, RestoreRequest, build_plan, choose_drive
from console.engine.restore.progress import TapeRun
from console.engine.restore.reader import ReadOnlyDrive, RunCancelled
from console.engine.restore.rebuild import InventoryRebuild
from console.engine.restore.restore_run import RestoreRunner
from console.engine.restore.scan import TapeScanner
from console.engine.restore.sink import RestoreTarget
from console.engine.restore.tapes import Autoload, TapeHandler, WantedTape
from console.engine.restore.to_xo import XoConnect, XoSink, check_sr
from console.engine.restore.verify import VerifyRunner, live_sets
from console.engine.sources.xo_client import XoError
from console.engine.tape_handling.drive_handle import DriveHandle
from console.wire.lto import NATIVE_CAPACITY
from console.wire.restore_globs import inner_globs
from console.wire.states import FINISHED

if TYPE_CHECKING:
    from console.engine.jobs.manager import JobManager

log = logging.getLogger("tapeconsole.restore")
Json = dict[str, Any]
KEEP_FINISHED = 50
KEEP_STORED = 200  # finished runs whose record the inventory keeps (the audit trail keeps every one)
STORED_RESULTS = 50  # per-member results kept in a stored record (the counts stay whole)
Body = Callable[[Drive, TapeHandler], None]


class RestoreManager:
    def __init__(
        self,
        config: Config,
        inventory: Inventory,
        slots: dict[str, DriveHandle],
        *,
        autoload: Autoload | None = None,
        xo_client: XoConnect | None = None,
        jobs: JobManager | None = None,
        clock: Callable[[], float] = time.time,
        operator_poll_seconds: float = 2.0,
        operator_wait_seconds: float = 6 * 3600,
    ) -> None:
        self.config = config
        self.inventory = inventory
        self.slots = slots
        self.autoload = autoload
        self.xo_client = xo_client
        self.jobs = jobs
        self.clock = clock
        self.operator_poll_seconds = operator_poll_seconds
        self.operator_wait_seconds = operator_wait_seconds
        self.index_path = index_path(config)
        self._index: FileIndex | None = None
        self._runs: dict[int, TapeRun] = {}
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(self._interrupt_leftovers() + 1)

    def _interrupt_leftovers(self) -> int:
        """Runs the inventory shows unfinished were cut by a daemon stop or crash: say so. Returns the last id."""
        last = 0
        for record in self.inventory.tape_runs():
            last = max(last, record["id"])
            if record["state"] in FINISHED:
                continue
            why = f"the daemon stopped while this {record['kind']} was {record['state']}: start it again"
            self.inventory.save_tape_run({**record, "state": "interrupted", "ok": False, "error": why,
                                          "need": None, "rate": 0.0, "eta_seconds": None})
            self.inventory.audit(f"{record['kind']}-interrupted", "tapeconsole", run=record["id"],
                                 drive=record.get("drive"), was=record["state"])
            log.warning("%s run %d was interrupted by a daemon stop", record["kind"], record["id"])
        return last

    def _waiting(self, run: TapeRun, need: str | None, barcode: str | None = None) -> None:
        """The run waits for a tape (need, its barcode) or goes on (None); the record says so too."""
        was = run.state
        run.waiting(need, barcode)
        if run.state != was:
            self._save(run)

    def _save(self, run: TapeRun) -> None:
        """The run's record in the inventory, trimmed: its plan's tapes, the last results."""
        record = run.snapshot()
        record["plan"] = {"tapes": (run.plan or {}).get("tapes", [])} if run.plan else None
        record["results"] = record["results"][-STORED_RESULTS:]
        record["rate"], record["eta_seconds"] = 0.0, None
        try:
            self.inventory.save_tape_run(record)
        except Exception:  # the run goes on; only its history would be missing
            log.exception("could not record %s run %d in the inventory", run.kind, run.id)

    def close(self) -> None:
        with self._lock:
            if self._index is not None:
                self._index.close()
                self._index = None

    def drop_overwritten_from_index(self) -> threading.Thread | None:
        """Start dropping from the file index the archives whose tapes were all overwritten."""
        if not self.index_path.exists():
            return None
        return drop_overwritten_later(self.index_path, self.inventory.sets())

    def file_index(self) -> FileIndex:
        with self._lock:
            if self._index is None:
                self._index = FileIndex(self.index_path)
            return self._index

    # ---- questions
    def find(self, pattern: str | None = None, *, vm: str | None = None, vdi: str | None = None,
             night: str | None = None, limit: int = finder.DEFAULT_LIMIT) -> Json:
        if not (pattern or vm or vdi):
            raise BadRequest("find needs a path pattern, a VM or a VDI")
        if limit < 1:
            raise BadRequest("limit must be at least 1")
        return finder.find(self.inventory.sets(), self.file_index(), pattern=pattern or None, vm=vm, vdi=vdi,
                           night=parse_night(night), limit=limit)

    def plan(self, request: RestoreRequest) -> Json:
        return self._plan(request)[0].to_json()

    def _plan(self, request: RestoreRequest) -> tuple[Plan, ArchiveMatch | None]:
        """The plan, started at the frame holding the first file wanted when the frame table allows."""
        plan = build_plan(self.config, self.inventory, self.slots, request)
        match = self._archive_match(plan)
        if match is not None and match.start is not None:
            start_at(plan, match.start)
        return plan, match

    # ---- runs
    def start_restore(self, request: RestoreRequest, user: str) -> Json:
        plan, match = self._plan(request)
        if plan.problems:
            raise Refused("; ".join(plan.problems))
        slot = self._idle(plan.drive)
        target = self._target(plan, match)
        where = f"folder {request.to_folder}" if request.to_folder else f"XO SR {request.to_xo}"
        run = self._new_run("restore", f"restore set {request.set_id} to {where}", user, slot.name,
                            request=request.to_json(), plan=plan.to_json(), expected_bytes=plan.bytes)

        def body(drive: Drive, tapes: TapeHandler) -> None:
            RestoreRunner(plan, target, run, tapes, drive, slot.config.block_size).execute()
            done = [r for r in run.results if r.get("ok")]
            run.ok = len(done) == len(plan.members) == len(run.results) and not run.refused \
                and not plan.unrestorable
            for name, why in plan.unrestorable:
                run.problems.append(f"{name}: {why}")
            run.problems += [f"{r['name']}: {r.get('problem')}" for r in run.results if not r.get("ok")]
            run.problems += [f"{r['name']}: refused: {r['why']}" for r in run.refused]
            replaced = [p for r in run.results for p in r.get("replaced_paths") or []]
            count = sum(r.get("replaced", 0) for r in run.results)
            if count:
                shown = ", ".join(replaced[:10]) + (" ..." if count > 10 else "")
                run.note(f"{count} file(s) that were in {request.to_folder} replaced: {shown}")

        self.inventory.audit("restore", user, set=request.set_id, target=where, members=list(request.members),
                             drive=slot.name, run=run.id)
        return self._start(run, slot, f"restoring set {request.set_id}", body)

    def start_verify(self, tape: str, set_id: int | None, user: str, drive: str | None = None) -> Json:
        record = self.inventory.tape_by_label(tape) or self.inventory.tape(tape)
        if record is None:
            raise NotFound(f"no tape labelled {tape} in the inventory")
        sets = live_sets(self.inventory, record["barcode"])
        if set_id is not None:
            sets = [s for s in sets if s["id"] == set_id]
            if not sets:
                raise NotFound(f"set {set_id} is not on tape {tape}")
        if not sets:
            raise Refused(f"tape {tape} holds no set to verify")
        location = record.get("location") or ""
        if location.startswith("offsite"):
            raise Refused(f"tape {tape} is offsite ({location.split(':', 1)[-1]}): recall it first "
                          f"(tapeconsole onsite {record['barcode']})")
        slot = self._idle(choose_drive(self.slots, [record], drive).name)
        wanted = WantedTape(record["barcode"], record.get("label"), record.get("label_uuid"))
        title = f"verify tape {record.get('label') or record['barcode']}" + (f" set {set_id}" if set_id else "")
        run = self._new_run("verify", title, user, slot.name, request={"tape": tape, "set": set_id},
                            expected_bytes=sum(int(s.get("bytes") or 0) for s in sets))

        def body(drive: Drive, tapes: TapeHandler) -> None:
            VerifyRunner(sets, wanted, run, tapes, drive, slot.config.block_size, self.inventory).execute()
            for r in run.results:
                if not r["ok"]:
                    why = r.get("error") or (r["bad"][0]["why"] if r["bad"] else "")
                    run.problems.append(f"set {r['set']}: {r['state']}: {why}")

        return self._start(run, slot, f"verifying {record.get('label') or record['barcode']}", body)

    def start_scan(self, drive_name: str, user: str) -> Json:
        slot = self.slots.get(drive_name)
        if slot is None:
            raise NotFound(f"no drive named {drive_name!r} (drives: {', '.join(self.slots)})")
        slot = self._idle(drive_name)
        if not slot.drive.status().online:
            raise Refused(f"drive {drive_name} holds no tape: load the tape to scan first "
                          f"(tapeconsole load {drive_name} STICKER)")
        run = self._new_run("scan", f"scan the tape in drive {drive_name}", user, drive_name,
                            request={"drive": drive_name})

        def body(drive: Drive, tapes: TapeHandler) -> None:
            scanner = TapeScanner(drive, slot.config.block_size, run)
            label = scanner.label()
            run.tape = label.label
            found = []
            for item in scanner.sets():
                found.append(item)
                run.results.append({"file": item.file, "how": item.how, "bytes": item.bytes,
                                    "set": (item.manifest or {}).get("set"), "job": (item.manifest or {}).get("job"),
                                    "state": (item.manifest or {}).get("state"), "problem": item.problem,
                                    "ok": item.manifest is not None and item.problem is None})
                run.add_bytes(item.bytes)
            status = drive.status()
            barcode = status.barcode or (slot.loaded.barcode if slot.loaded else None) or label.barcode
            generation = status.media_generation or label.generation
            run.summary = InventoryRebuild(self.inventory, self._index_created).record(
                label, barcode, f"drive:{slot.name}", self._capacity_for(generation), found)
            tapes.identify(barcode)
            run.notes += run.summary["notes"]
            run.problems += [f"tape file {r['file']}: {r['problem']}" for r in run.results if not r["ok"]]
            run.ok = all(r["ok"] for r in run.results)
            self.inventory.audit("scan", user, drive=slot.name, barcode=barcode, label=label.label,
                                 sets=run.summary["sets"])

        return self._start(run, slot, "scanning", body)

    def held_tapes(self) -> dict[str, str]:
        """barcode -> the run that needs it, for every tape a restore or verify not yet finished reads:
        no backup writes over it and it stays onsite until the run ends."""
        held: dict[str, str] = {}
        for run in sorted(list(self._runs.values()), key=lambda r: r.id):
            if run.finished or run.kind == "scan":
                continue
            barcodes = [t["barcode"] for t in (run.plan or {}).get("tapes", [])]
            if run.kind == "verify" and run.request.get("tape"):
                tape = self.inventory.tape_by_label(run.request["tape"]) or self.inventory.tape(run.request["tape"])
                barcodes += [tape["barcode"]] if tape else []
            for barcode in barcodes:
                held.setdefault(barcode, f"{run.kind} run {run.id}")
        return held

    def get(self, run_id: int) -> Json:
        run = self._runs.get(run_id)
        if run is not None:
            return run.snapshot()
        record = self.inventory.tape_run(run_id)
        if record is None:
            raise NotFound(f"no restore, verify or scan run {run_id}")
        return record

    def list(self, limit: int = 50) -> list[Json]:
        """The last runs, live ones as they are now, earlier ones (also from before a restart) as recorded."""
        rows = {r["id"]: r for r in self.inventory.tape_runs(limit)}
        rows.update((run.id, run.snapshot()) for run in list(self._runs.values()))
        return [rows[i] for i in sorted(rows)][-limit:]

    def cancel(self, run_id: int, user: str) -> Json:
        run = self._runs.get(run_id)
        if run is None or run.finished:
            raise Refused(f"run {run_id} is not running")
        run.cancel.set()
        self.inventory.audit("cancel", user, restore_run=run_id, kind=run.kind)
        return run.snapshot()

    def wait(self, run_id: int, timeout: float | None = None) -> None:
        thread = self._threads.get(run_id)
        if thread is not None:
            thread.join(timeout)

    # ---- internals
    def _target(self, plan: Plan, match: ArchiveMatch | None = None) -> RestoreTarget:
        request = plan.request
        if request.to_xo is not None:
            check_sr(self.xo_client, request.to_xo)
            assert self.xo_client is not None
            night = night_of(plan.record.get("started"))
            return XoSink(self.xo_client, request.to_xo, tape=plan.tapes[0].label or plan.tapes[0].barcode,
                          night=night.isoformat() if night else None)
        assert request.to_folder is not None
        forbidden = [self.config.daemon.state_dir] + ([self.config.shelf.path] if self.config.shelf else [])
        root = check_folder(request.to_folder, force=request.force, forbidden=forbidden)
        try:
            root.mkdir(exist_ok=True)
        except OSError as exc:
            raise Refused(f"cannot create restore folder {root}: {exc.strerror}") from None
        if plan.kind == "files":
            start = match.start if match is not None else None
            return FileTreeSink(root, globs=request.members, expected_files=match.files if match else None,
                                inner_skip=start.inner_skip if start is not None else 0, forbidden=forbidden)
        return FolderSink(root, forbidden)

    def _archive_match(self, plan: Plan) -> ArchiveMatch | None:
        """How many files of the archive match the globs and where reading can start, when the file index
        knows the archive whole; None otherwise (the archive is then read until its end)."""
        globs = plan.request.members
        if plan.kind != "files" or not globs:
            return None
        key = next((p.entry["index"] for m in plan.members for p in m.pieces if p.entry.get("index")), None)
        if key is None:
            return None
        index = self.file_index()
        known = next((s for s in index.sets() if s.set_id == key), None)
        if known is None or not known.complete:
            return None
        offsets: dict[str, int] = {}
        for glob in inner_globs(globs):
            offsets.update((f.path, f.offset) for f in index.search(glob, set_id=key, limit=None))
        start = None
        if offsets:
            with FrameTable(self.index_path) as frames:
                start = archive_start(plan.members[0], frames, key, min(offsets.values()))
        return ArchiveMatch(len(offsets), start)

    def _index_created(self, key: str) -> float | None:
        found = next((s for s in self.file_index().sets() if s.set_id == key), None)
        return found.created if found else None

    def _capacity_for(self, generation: str | None) -> int:
        if self.config.shelf and generation in self.config.shelf.capacity_bytes:
            return self.config.shelf.capacity_bytes[generation]
        return NATIVE_CAPACITY.get(generation or "", 0)

    def _idle(self, name: str) -> DriveHandle:
        slot = self.slots[name]
        if slot.busy:
            raise Refused(f"drive {name} is busy: {slot.activity or 'another operation'}")
        if self.jobs is not None:
            job = self.jobs.active_on(name)
            if job is not None:
                raise Refused(f"drive {name} is running job {job.job.name} (run {job.id})")
        for run in list(self._runs.values()):
            if run.drive == name and not run.finished:
                raise Refused(f"drive {name} is busy: {run.title} (run {run.id})")
        return slot

    def _new_run(self, kind: str, title: str, user: str, drive: str, **fields: Any) -> TapeRun:
        with self._lock:
            run = TapeRun(id=next(self._ids), kind=kind, title=title, user=user, drive=drive, **fields)
            self._runs[run.id] = run
        return run  # recorded in the inventory once its thread starts it (_execute)

    def _start(self, run: TapeRun, slot: DriveHandle, activity: str, body: Body) -> Json:
        thread = threading.Thread(target=self._execute, args=(run, slot, activity, body),
                                  name=f"{run.kind}-{run.id}", daemon=True)
        self._threads[run.id] = thread
        thread.start()
        log.info("%s run %d started by %s on %s: %s", run.kind, run.id, run.user, slot.name, run.title)
        return run.snapshot()

    def _execute(self, run: TapeRun, slot: DriveHandle, activity: str, body: Body) -> None:
        run.state, run.started = "running", self.clock()
        self._save(run)
        try:
            with slot.hold(activity) as drive:
                tapes = TapeHandler(slot, self.slots, self.inventory, self.autoload, run.cancel,
                                    on_wait=lambda need, barcode: self._waiting(run, need, barcode),
                                    on_wrong=run.wrong_tape_found, note=run.note, moved=run.tape_moved,
                                    poll_seconds=self.operator_poll_seconds, wait_seconds=self.operator_wait_seconds)
                body(ReadOnlyDrive(drive), tapes)  # type: ignore[arg-type]
            run.state = "done"
        except RunCancelled as exc:
            run.state, run.error = "cancelled", str(exc)
        except (Refused, DriveError, InventoryError, XoError) as exc:
            run.state, run.error = "failed", str(exc)
        except Exception as exc:  # the daemon keeps running; the run says what broke
            log.exception("%s run %d failed", run.kind, run.id)
            run.state, run.error = "failed", f"{exc.__class__.__name__}: {exc}"
        finally:
            if run.state != "done":
                run.ok = False
            run.need = None
            run.ended = self.clock()
            run.member = None
            self._save(run)
            self.inventory.audit(f"{run.kind}-end", run.user, run=run.id, state=run.state, ok=run.ok,
                                 error=run.error)
            log.info("%s run %d %s%s", run.kind, run.id, run.state, f": {run.error}" if run.error else "")
            self._forget_old()

    def _forget_old(self) -> None:
        with self._lock:
            finished = sorted((r for r in self._runs.values() if r.finished), key=lambda r: r.id)
            for run in finished[:-KEEP_FINISHED]:
                self._runs.pop(run.id, None)
                self._threads.pop(run.id, None)
        self.inventory.forget_tape_runs(KEEP_STORED)
