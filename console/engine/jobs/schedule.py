"""Run jobs on their cron schedules (config.toml `schedule = "30 22 * * 1-5"`), in the daemon.

The scheduler remembers when it last looked; after the daemon was down, every run that should have
started meanwhile is reported (logged, audited, notified) rather than silently skipped. Missed runs
are not started late on their own: a backup starting at 9 in the morning would load the servers.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from croniter import croniter

from console.config.schema import JobConfig
from console.engine.inventory import Inventory
from console.engine.refusals import Refused

log = logging.getLogger("tapeconsole.schedule")

LAST_CHECK = "schedule.last_check"
SUMMARY = "_morning-summary"
VERIFY = "_verify"
CAPACITY = "_capacity-check"  # once a day: will tomorrow night's runs fit their tapes (planning.day_ahead)
INTERNAL = (SUMMARY, VERIFY, CAPACITY)


class Scheduler:
    def __init__(
        self,
        jobs: dict[str, JobConfig],
        start_job: Callable[[str, str], Any],
        inventory: Inventory,
        *,
        clock: Callable[[], float] = time.time,
        on_missed: Callable[[str, list[datetime]], None] | None = None,
        summary_at: str | None = None,
        on_summary: Callable[[], None] | None = None,
        verify_schedule: str | None = None,
        on_verify: Callable[[], None] | None = None,
        capacity_at: str | None = None,
        on_capacity: Callable[[], object] | None = None,
    ) -> None:
        self.crons: dict[str, str] = {name: job.schedule for name, job in jobs.items() if job.schedule}
        if summary_at and on_summary is not None:
            hour, minute = summary_at.split(":")
            self.crons[SUMMARY] = f"{int(minute)} {int(hour)} * * *"
        if verify_schedule and on_verify is not None:
            self.crons[VERIFY] = verify_schedule
        if capacity_at and on_capacity is not None and any(job.schedule for job in jobs.values()):
            hour, minute = capacity_at.split(":")
            self.crons[CAPACITY] = f"{int(minute)} {int(hour)} * * *"
        self.on_verify = on_verify
        self.on_capacity = on_capacity
        self.start_job = start_job
        self.inventory = inventory
        self.clock = clock
        self.on_missed = on_missed
        self.on_summary = on_summary
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _local(self, moment: float) -> datetime:
        return datetime.fromtimestamp(moment).astimezone()

    def _fires(self, cron: str, after: float, until: float) -> list[datetime]:
        """Every time `cron` fires in (after, until]."""
        it = croniter(cron, self._local(after))
        fires = []
        while True:
            moment = it.get_next(datetime)
            if moment.timestamp() > until:
                return fires
            fires.append(moment)
            if len(fires) > 1000:  # a schedule every minute over a long outage: enough to report it
                return fires

    def catch_up(self) -> dict[str, list[datetime]]:
        """At start-up: the runs missed while the daemon was down, reported; then look from now on."""
        now = self.clock()
        last = self.inventory.get_state(LAST_CHECK)
        missed: dict[str, list[datetime]] = {}
        if last is not None:
            for name, cron in self.crons.items():
                fires = self._fires(cron, float(last), now)
                if fires and name == CAPACITY:  # a day's check missed while down: done now, it is only a look
                    self._start_capacity_check()
                if fires and name not in INTERNAL:
                    missed[name] = fires
                    when = ", ".join(f.strftime("%Y-%m-%d %H:%M") for f in fires[:5])
                    more = f" and {len(fires) - 5} more" if len(fires) > 5 else ""
                    log.warning("job %s missed %d scheduled run(s) while the daemon was down: %s%s", name,
                                len(fires), when, more)
                    self.inventory.audit("missed-run", "tapeconsole", job=name, missed=[f.isoformat() for f in fires])
                    if self.on_missed is not None:
                        self.on_missed(name, fires)
        self.inventory.set_state(LAST_CHECK, now)
        return missed

    def tick(self) -> list[str]:
        """Start every job whose time came since the last tick; returns their names."""
        now = self.clock()
        last = float(self.inventory.get_state(LAST_CHECK, now))
        started = []
        for name, cron in self.crons.items():
            if not self._fires(cron, last, now):
                continue
            if name == SUMMARY:
                assert self.on_summary is not None
                self.on_summary()
                continue
            if name == VERIFY:
                assert self.on_verify is not None
                threading.Thread(target=self.on_verify, name="scheduled-verify", daemon=True).start()
                started.append(name)
                continue
            if name == CAPACITY:
                self._start_capacity_check()
                continue
            try:
                self.start_job(name, "schedule")
                started.append(name)
            except Refused as exc:
                log.warning("scheduled run of %s not started: %s", name, exc)
                self.inventory.audit("schedule-refused", "tapeconsole", job=name, reason=str(exc))
        self.inventory.set_state(LAST_CHECK, now)
        return started

    def next_runs(self) -> dict[str, str]:
        now = self._local(self.clock())
        return {name: croniter(cron, now).get_next(datetime).isoformat(timespec="minutes")
                for name, cron in self.crons.items() if name not in INTERNAL}

    def _start_capacity_check(self) -> None:
        assert self.on_capacity is not None
        threading.Thread(target=self.on_capacity, name="capacity-check", daemon=True).start()

    def start(self) -> None:
        if not self.crons:
            return
        self.catch_up()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(max(1.0, 30 - time.time() % 30)):
            try:
                self.tick()
            except Exception:  # the scheduler keeps going whatever one tick hit
                log.exception("scheduler tick failed")

    def stop(self) -> None:
        self._stop.set()
