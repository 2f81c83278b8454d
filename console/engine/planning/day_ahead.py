"""The daemon's daily capacity check: will tomorrow night's run of each job fit the tape it will get?

Once a day (the scheduler calls `run`), for every scheduled job with a run tomorrow night: its expected
size (tonight's estimate, plus the trend's growth per night when it grows), and the space it will get once
tonight's runs of its pool have taken their tapes and the tapes whose retention ends by tomorrow are free
again. When it will spill or find no tape: a `capacity-warning` notification and a warning in the daemon's
event log. Once per job per day: the day of the last warning is kept in the inventory's state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from console.config.schema import JobConfig
from console.engine.planning.plan import Planner, night_of_moment
from console.engine.planning.space import Ledger, Space, record, space_for
from console.wire.plan_words import size

log = logging.getLogger("tapeconsole.planning")
WARNED = "planning.warned."  # + job name: the day (ISO) its last capacity warning went out
EVENT = "capacity-warning"

Send = Callable[[str, str, str], None]  # (event, subject, text): Notifier.send


class DayAheadCheck:
    def __init__(self, planner: Planner, send: Send | None = None) -> None:
        self.planner = planner
        self.send = send

    def run(self) -> list[dict[str, Any]]:
        """Check tomorrow's runs; returns the warnings given now (none for a job already warned today)."""
        try:
            return self._check()
        except Exception:  # never fatal to the daemon's scheduler
            log.exception("capacity check failed")
            return []

    def _check(self) -> list[dict[str, Any]]:
        planner, inventory = self.planner, self.planner.inventory
        now = planner.now()
        today, tomorrow = now.date(), now.date() + timedelta(days=1)
        jobs = list(planner.config.jobs.values())
        tomorrows = {j.name: when for j in jobs if (when := run_of_night(planner, j, tomorrow, now))}
        due = [j for j in jobs if j.name in tomorrows and inventory.get_state(WARNED + j.name) != today.isoformat()]
        if not due:
            return []
        pools = {j.pool for j in due}
        involved = [j for j in jobs if j.pool in pools]
        history = planner.history()
        estimates = planner.estimates(involved, history)
        forecasts = planner.forecasts(history, today)
        ledgers: dict[str, Ledger] = {}
        # tonight's runs of those pools (still to start) take their tapes first
        tonight = [j for j in involved if run_of_night(planner, j, today, now)]
        planner.spaces(tonight, {j.name: estimates[j.name].bytes for j in tonight}, now, ledgers)
        warnings = []
        for job in sorted(due, key=lambda j: (tomorrows[j.name], j.name)):
            estimate = estimates[job.name]
            if estimate.bytes is None:
                log.warning("capacity check: %s: tomorrow's size is unknown: %s", job.name, estimate.error)
                continue
            trend = forecasts[job.name].trend
            growth = max(0.0, float(trend.slope)) if trend else 0.0
            expected = round(estimate.bytes + growth)
            ledger = ledgers.setdefault(job.pool, Ledger())
            space = space_for(inventory, job, planner.config.drives[job.drive], expected,
                              moment=tomorrows[job.name], ledger=ledger, held=planner.held())
            record(ledger, space, planner.config.pools[job.pool].allocation)
            if space.fits is not False:
                continue
            warnings.append(self._warn(job.name, tomorrows[job.name], expected, growth, estimate.basis, space))
        return warnings

    def _warn(self, job: str, when: datetime, expected: int, growth: float, basis: str, space: Space) -> dict[str, Any]:
        planner, inventory = self.planner, self.planner.inventory
        config = planner.config.jobs[job]
        night = night_of_moment(when)
        subject = f"{job} will not fit its tape tomorrow night ({size(expected)})"
        text = (f"Job {job} runs {when:%A %Y-%m-%d %H:%M} on drive {config.drive}, pool {config.pool}.\n"
                f"Expected: {size(expected)} ({basis}"
                + (f", plus {size(growth)} of growth a night" if growth else "") + ").\n"
                f"Tape: {space.text}.\n\n"
                "Bring or label tapes for the pool before then; `tapeconsole plan` shows the whole plan.\n")
        log.warning("capacity warning: %s on the night of %s: %s", job, night.isoformat(), space.text)
        inventory.audit(EVENT, "tapeconsole", job=job, night=night.isoformat(), expected=expected, room=space.room,
                        verdict=space.verdict)
        inventory.set_state(WARNED + job, planner.now().date().isoformat())
        if self.send is not None:
            self.send(EVENT, subject, text)
        return {"job": job, "night": night.isoformat(), "expected": expected, "verdict": space.verdict,
                "text": space.text}


def run_of_night(planner: Planner, job: JobConfig, night: date, now: datetime) -> datetime | None:
    """The job's scheduled run (after now) that belongs to `night`, if there is one."""
    when = planner.next_run(job, now)
    while when is not None and night_of_moment(when) < night:
        when = planner.next_run(job, when)
    return when if when is not None and night_of_moment(when) == night else None
