"""Starting, following and cancelling job runs in the daemon: one run per drive at a time."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from console.engine.config import Config, JobConfig
from console.engine.daemon.drive_slot import DriveSlot
from console.engine.daemon.errors import NotFound, Refused
from console.engine.drives.base import Drive
from console.engine.inventory import Inventory
from console.engine.jobs.backup import BackupJob, BackupRun, JobContext
from console.engine.pipeline.parts import SourceMember

log = logging.getLogger("tapeconsole.jobs")

MemberBuilder = Callable[[JobConfig, BackupRun], Iterable[SourceMember]]
KEEP_FINISHED = 50


class JobManager:
    def __init__(
        self,
        config: Config,
        inventory: Inventory,
        slots: dict[str, DriveSlot],
        members_for: MemberBuilder,
        autoload: Callable[[Drive, str], None] | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.inventory = inventory
        self.slots = slots
        self.members_for = members_for
        self.autoload = autoload
        self.clock = clock
        self._runs: dict[int, BackupRun] = {}
        self._threads: dict[int, threading.Thread] = {}
        self._lock = threading.Lock()

    def job(self, name: str) -> JobConfig:
        try:
            return self.config.jobs[name]
        except KeyError:
            known = ", ".join(self.config.jobs) or "none configured"
            raise NotFound(f"no job named {name!r} (jobs: {known})") from None

    def active_on(self, drive: str) -> BackupRun | None:
        for run in self._runs.values():
            if run.job.drive == drive and run.state in ("queued", "running"):
                return run
        return None

    def start(self, name: str, user: str) -> dict[str, Any]:
        job = self.job(name)
        slot = self.slots[job.drive]
        with self._lock:
            busy = self.active_on(job.drive)
            if busy is not None:
                raise Refused(f"drive {job.drive} is running job {busy.job.name} (run {busy.id})")
            if slot.busy:
                raise Refused(f"drive {job.drive} is busy: {slot.activity}")
            run_id = self.inventory.add_run({
                "job": job.name, "drive": job.drive, "pool": job.pool, "source": job.source, "user": user,
                "state": "queued", "started": None, "ended": None, "bytes": 0, "sets": [], "tapes": [],
                "error": None,
            })
            run = BackupRun(id=run_id, job=job, user=user)
            self._runs[run_id] = run
            thread = threading.Thread(target=self._execute, args=(run,), name=f"job-{job.name}-{run_id}", daemon=True)
            self._threads[run_id] = thread
            thread.start()
        self.inventory.audit("backup", user, job=job.name, run=run_id, drive=job.drive)
        log.info("job %s run %d started by %s on %s", job.name, run_id, user, job.drive)
        return run.snapshot()

    def _execute(self, run: BackupRun) -> None:
        slot = self.slots[run.job.drive]
        try:
            members = list(self.members_for(run.job, run))  # list the source before touching the tape
        except Exception as exc:
            run.state, run.error, run.started, run.ended = "failed", f"{run.job.source} source: {exc}", \
                self.clock(), self.clock()
            self.inventory.update_run(run.id, state="failed", error=run.error)
            log.warning("job %s run %d failed before writing: %s", run.job.name, run.id, exc)
            return
        run.expected_bytes = sum((m.length if m.length is not None else (m.estimate or 0)) for m in members)
        ctx = JobContext(self.inventory, slot, self.config.drives[run.job.drive], self.autoload, self.clock)
        BackupJob(run, members, ctx).execute()
        self._forget_old()

    def _forget_old(self) -> None:
        with self._lock:
            finished = [r for r in self._runs.values() if r.state not in ("queued", "running")]
            for run in sorted(finished, key=lambda r: r.id)[:-KEEP_FINISHED]:
                self._runs.pop(run.id, None)
                self._threads.pop(run.id, None)

    def get(self, run_id: int) -> dict[str, Any]:
        run = self._runs.get(run_id)
        if run is not None:
            return run.snapshot()
        for record in self.inventory.runs():
            if record["id"] == run_id:
                return {**record, "name": record["job"]}
        raise NotFound(f"no job run {run_id}")

    def list(self, limit: int = 50) -> list[dict[str, Any]]:
        live = {run.id: run.snapshot() for run in list(self._runs.values())}
        stored = {r["id"]: {**r, "name": r["job"]} for r in self.inventory.runs(limit)}
        stored.update(live)
        return [stored[k] for k in sorted(stored)][-limit:]

    def cancel(self, run_id: int, user: str) -> dict[str, Any]:
        run = self._runs.get(run_id)
        if run is None or run.state not in ("queued", "running"):
            raise Refused(f"job run {run_id} is not running")
        run.cancel.set()
        self.inventory.audit("cancel", user, job=run.job.name, run=run_id)
        return run.snapshot()

    def wait(self, run_id: int, timeout: float | None = None) -> None:
        thread = self._threads.get(run_id)
        if thread is not None:
            thread.join(timeout)
