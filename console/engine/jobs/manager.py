"""The job queue of the daemon: one queue and one worker per drive, so a drive runs one job at a time
and a job never takes a drive that another operation holds. Runs are queued, wait for a tape, run,
and end done, failed or cancelled; runs that a crash or power loss cut short become interrupted.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable
from typing import Any

from console.config.schema import Config, JobConfig
from console.engine.drives.base import Drive
from console.engine.inventory import Inventory
from console.engine.jobs.backup import BackupJob, BackupRun, JobContext, _iso_or_none
from console.engine.pipeline.parts import SourceMember
from console.engine.redaction import redact
from console.engine.refusals import NotFound, Refused
from console.engine.tape_handling.drive_handle import DriveHandle
from console.wire.states import ACTIVE, FINISHED

log = logging.getLogger("tapeconsole.jobs")

MemberBuilder = Callable[[JobConfig, BackupRun], Iterable[SourceMember]]
EventHook = Callable[[str, BackupRun], None]
KEEP_FINISHED = 50


class JobManager:
    def __init__(
        self,
        config: Config,
        inventory: Inventory,
        slots: dict[str, DriveHandle],
        members_for: MemberBuilder,
        autoload: Callable[[Drive, str], None] | None,
        clock: Callable[[], float] = time.time,
        *,
        recheck_seconds: float = 5.0,
        on_event: EventHook | None = None,
    ) -> None:
        self.config = config
        self.inventory = inventory
        self.slots = slots
        self.members_for = members_for
        self.autoload = autoload
        self.clock = clock
        self.recheck_seconds = recheck_seconds
        self.on_event = on_event
        self.held_tapes: Callable[[], Collection[str]] = tuple  # set by the service: tapes restores need
        self._runs: dict[int, BackupRun] = {}
        self._queues: dict[str, deque[BackupRun]] = {name: deque() for name in slots}
        self._cond = threading.Condition()
        self._done = threading.Condition()
        self._stopping = False
        self._workers = [
            threading.Thread(target=self._drive_worker, args=(name,), name=f"queue-{name}", daemon=True)
            for name in slots
        ]
        for worker in self._workers:
            worker.start()

    def close(self) -> None:
        with self._cond:
            self._stopping = True
            for run in self._runs.values():
                run.cancel.set()
            self._cond.notify_all()

    # ---- recovery after a crash
    def recover(self) -> list[dict[str, Any]]:
        """Runs and sets a crash or power loss cut short: runs become interrupted, their sets incomplete.

        Call once at start-up, before any run starts. The tape's append position is found again by
        spacing to end of data (and closing a tape file left without its filemark) when it is next
        written. Returns the runs it marked."""
        marked = []
        for record in self.inventory.runs():
            if record["state"] in ACTIVE:
                error = f"interrupted: the daemon stopped while this run was {record['state']}"
                self.inventory.update_run(record["id"], state="interrupted", error=error)
                marked.append({**record, "state": "interrupted", "error": error})
                log.warning("run %d (%s) was %s when the daemon stopped: marked interrupted", record["id"],
                            record["job"], record["state"])
        for s in self.inventory.sets():
            if s["state"] == "writing":
                self.inventory.update_set(
                    s["id"], state="incomplete", cut=True,
                    error="interrupted: the daemon stopped while this set was written; what reached the tape "
                          "before it is kept, the set has no manifest",
                )
                # the retention clock is not started here: whether any of it reached the tape is known only
                # from the drive, when the tape is next written (backup counts it from end of data)
                log.warning("set %d on tape %s (file %d) was being written: marked incomplete", s["id"], s["tape"],
                            s["file"])
        return marked

    # ---- queue
    def job(self, name: str) -> JobConfig:
        try:
            return self.config.jobs[name]
        except KeyError:
            known = ", ".join(self.config.jobs) or "none configured"
            raise NotFound(f"no job named {name!r} (jobs: {known})") from None

    def active_on(self, drive: str) -> BackupRun | None:
        """The run that holds (or waits for) a drive now, if any."""
        for run in self._runs.values():
            if run.job.drive == drive and run.state in ("waiting-for-tape", "running"):
                return run
        return None

    def start(self, name: str, user: str, *, reason: str = "operator") -> dict[str, Any]:
        """Queue a run of the job on its drive; it starts when the drive is free."""
        job = self.job(name)
        with self._cond:
            for run in self._runs.values():
                if run.job.name == name and run.state in ACTIVE:
                    raise Refused(f"job {name} is already {run.state} (run {run.id})")
            run_id = self.inventory.add_run({
                "job": job.name, "drive": job.drive, "pool": job.pool, "source": job.source, "user": user,
                "reason": reason, "state": "queued", "queued": _iso_or_none(self.clock()), "started": None,
                "ended": None, "bytes": 0, "sets": [], "tapes": [], "error": None,
            })
            run = BackupRun(id=run_id, job=job, user=user)
            self._runs[run_id] = run
            self._queues[job.drive].append(run)
            position = len(self._queues[job.drive])
            self._cond.notify_all()
        self.inventory.audit("backup", user, job=job.name, run=run_id, drive=job.drive, reason=reason)
        log.info("job %s run %d queued on %s by %s (%s), position %d", job.name, run_id, job.drive, user, reason,
                 position)
        return run.snapshot()

    def _drive_worker(self, drive: str) -> None:
        queue = self._queues[drive]
        slot = self.slots[drive]
        while True:
            with self._cond:
                while not self._stopping and not queue:
                    self._cond.wait()
                if self._stopping:
                    return
                run = queue.popleft()  # the runs behind it stay in the queue, where cancel takes them out
            # a job never takes a drive someone else holds (a label, a read...): it waits its turn
            while slot.busy and not run.cancel.is_set() and not self._stopping:
                run.waiting = f"drive {drive} is busy: {slot.activity}"
                time.sleep(0.2)
            run.waiting = None
            if run.cancel.is_set():
                self._finish_cancelled(run, "cancelled before it started")
                continue
            self._execute(run)

    def _finish_cancelled(self, run: BackupRun, why: str) -> None:
        run.state, run.error, run.ended = "cancelled", why, self.clock()
        self.inventory.update_run(run.id, state="cancelled", error=why, ended=_iso_or_none(run.ended))
        self._notify_done(run)

    def _execute(self, run: BackupRun) -> None:
        slot = self.slots[run.job.drive]
        try:
            members = list(self.members_for(run.job, run))  # list the source before touching the tape
        except Exception as exc:
            if run.cancel.is_set():
                self._finish_cancelled(run, str(exc))
                return
            run.state, run.error = "failed", redact(f"{run.job.source} source: {exc}")
            run.started = run.ended = self.clock()
            self.inventory.update_run(run.id, state="failed", error=run.error, started=_iso_or_none(run.started),
                                      ended=_iso_or_none(run.ended))
            log.warning("job %s run %d failed before writing: %s", run.job.name, run.id, exc)
            self._event("job-failed", run)
            self._notify_done(run)
            return
        run.expected_bytes = sum((m.length if m.length is not None else (m.estimate or 0)) for m in members)
        run.expected_is_estimate = any(m.length is None for m in members)
        ctx = JobContext(self.inventory, slot, self.config.drives[run.job.drive], self.autoload, self.clock,
                         recheck_seconds=self.recheck_seconds, on_event=self._event, held_tapes=self.held_tapes)
        BackupJob(run, members, ctx).execute()
        self._record_overlap(run)
        if run.state == "failed":
            self._event("job-failed", run)
        self._event("job-ended", run)
        self._forget_old()
        self._notify_done(run)

    def _record_overlap(self, run: BackupRun) -> None:
        """The runs that ran at the same time: the process CPU of this run's record covers them too."""
        if run.started is None or run.ended is None:
            return
        start, end = run.started, run.ended
        run.cpu_shared_with = sorted(
            other.id for other in list(self._runs.values())
            if other.id != run.id and other.started is not None and other.started < end
            and (other.ended is None or other.ended > start))
        self.inventory.update_run(run.id, cpu_shared_with=run.cpu_shared_with)

    def _event(self, kind: str, run: BackupRun) -> None:
        if self.on_event is not None:
            try:
                self.on_event(kind, run)
            except Exception:  # a notification must never break a backup
                log.exception("notification %s for run %d failed", kind, run.id)

    def _notify_done(self, run: BackupRun) -> None:
        run.settled.set()
        with self._done:
            self._done.notify_all()

    def _forget_old(self) -> None:
        with self._cond:
            finished = [r for r in self._runs.values() if r.state in FINISHED]
            for run in sorted(finished, key=lambda r: r.id)[:-KEEP_FINISHED]:
                self._runs.pop(run.id, None)

    # ---- reading and changing runs
    def get(self, run_id: int) -> dict[str, Any]:
        run = self._runs.get(run_id)
        if run is not None:
            return run.snapshot()
        for record in self.inventory.runs():
            if record["id"] == run_id:
                return {**record, "name": record["job"]}
        raise NotFound(f"no job run {run_id}")

    def list(self, limit: int = 50) -> list[dict[str, Any]]:
        """Recent and active runs, oldest first: id, name, drive, state, started, ended, bytes, sets, tapes, error."""
        live = {run.id: run.snapshot() for run in list(self._runs.values())}
        stored = {r["id"]: {**r, "name": r["job"]} for r in self.inventory.runs(limit)}
        stored.update(live)
        return [stored[k] for k in sorted(stored)][-limit:]

    def cancel(self, run_id: int, user: str) -> dict[str, Any]:
        run = self._runs.get(run_id)
        if run is None or run.state not in ACTIVE:
            raise Refused(f"job run {run_id} is not queued, waiting or running")
        run.request_cancel(f"cancelled by {user}")
        with self._cond:
            queue = self._queues[run.job.drive]
            if run in queue:
                queue.remove(run)
                self._finish_cancelled(run, f"cancelled by {user} while queued")
        self.inventory.audit("cancel", user, job=run.job.name, run=run_id)
        log.info("job %s run %d: cancel requested by %s", run.job.name, run_id, user)
        return run.snapshot()

    def wait(self, run_id: int, timeout: float | None = None) -> bool:
        """Block until the run has finished, its tape ejected and recorded when the job ejects (True), or the
        timeout passed (False)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._done:
            while True:
                run = self._runs.get(run_id)
                if run is None or run.settled.is_set():
                    return True
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return False
                self._done.wait(0.5 if left is None else min(left, 0.5))
