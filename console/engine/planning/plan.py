"""The capacity plan of every configured job: tonight's estimate, the tape it gets and the room on it,
its history, the forecast and the changes that would keep the nights on one tape.

Planner.plan() returns the JSON that GET /v1/plan serves, `tapeconsole plan` prints and the console draws.
It calls XO and walks file trees: run it off any event loop.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from typing import Any

from croniter import croniter

from console.config.schema import Config, JobConfig
from console.engine.inventory import Inventory
from console.engine.planning.advice import PoolTapes, job_sentence, pool_need, pool_sentence
from console.engine.planning.estimate import WALK_SECONDS, Estimate, estimate_job
from console.engine.planning.forecast import HORIZON_NIGHTS, JobForecast, forecast_job
from console.engine.planning.history import Night, job_nights
from console.engine.planning.retention import PoolJob, runs_counter
from console.engine.planning.space import Ledger, Space, freeing, record, space_for, usable_capacity
from console.engine.sources.xo_client import XoClient

UNUSABLE = ("damaged", "retired")


def night_of_moment(moment: datetime) -> date:
    """The night a moment belongs to: runs before noon belong to the evening before."""
    return (moment - timedelta(hours=12)).date()


def pool_tapes(inventory: Inventory, config: Config, pool_name: str, block_size: int) -> PoolTapes:
    pool = config.pools[pool_name]
    own = blanks = 0
    for tape in inventory.tapes():
        if tape.get("write_protected") or tape["status"] in UNUSABLE or tape["generation"] != pool.generation:
            continue
        if tape.get("pool") == pool_name:
            own += 1
        elif tape["status"] == "blank" and not tape.get("pool"):
            blanks += 1
    return PoolTapes(pool_name, pool.generation, pool.allocation, pool.retention_days, own, blanks,
                     usable_capacity(inventory, pool.generation, block_size))


class Planner:
    def __init__(self, config: Config, inventory: Inventory, *, xo: Callable[[], XoClient] | None = None,
                 clock: Callable[[], float] = time.time, walk_seconds: float = WALK_SECONDS,
                 horizon_nights: int = HORIZON_NIGHTS, held: Callable[[], Collection[str]] = tuple) -> None:
        self.config = config
        self.inventory = inventory
        self.xo = xo
        self.clock = clock
        self.walk_seconds = walk_seconds
        self.horizon_nights = horizon_nights
        self.held = held  # tapes a restore or verify needs: no run takes them

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock()).astimezone()

    def next_run(self, job: JobConfig, after: datetime) -> datetime | None:
        return croniter(job.schedule, after).get_next(datetime) if job.schedule else None

    # ---- the pieces
    def history(self) -> dict[str, list[Night]]:
        runs = self.inventory.runs()
        return {name: job_nights(runs, name) for name in self.config.jobs}

    def estimates(self, jobs: list[JobConfig], history: dict[str, list[Night]]) -> dict[str, Estimate]:
        """Every job's estimate at once (XO calls and tree walks wait on I/O)."""
        if not jobs:
            return {}
        with ThreadPoolExecutor(max_workers=min(4, len(jobs)), thread_name_prefix="plan-estimate") as pool:
            futures = {job.name: pool.submit(estimate_job, job, xo=self.xo, nights=history[job.name],
                                             walk_seconds=self.walk_seconds,
                                             record_size=self.config.drives[job.drive].block_size) for job in jobs}
            return {name: future.result() for name, future in futures.items()}

    def spaces(self, jobs: list[JobConfig], sizes: dict[str, int | None], now: datetime,
               ledgers: dict[str, Ledger] | None = None) -> dict[str, Space]:
        """The space each job's next run gets, the runs taken in the order they start (unscheduled ones as
        if started now, after the scheduled ones), each pool's earlier runs taking their tapes first."""
        ledgers = ledgers if ledgers is not None else {}
        far = now + timedelta(days=3650)
        order = sorted(jobs, key=lambda j: (self.next_run(j, now) or far, j.name))
        held = self.held()
        result: dict[str, Space] = {}
        for job in order:
            ledger = ledgers.setdefault(job.pool, Ledger())
            space = space_for(self.inventory, job, self.config.drives[job.drive], sizes.get(job.name),
                              moment=self.next_run(job, now) or now, ledger=ledger, held=held)
            record(ledger, space, self.config.pools[job.pool].allocation)
            result[job.name] = space
        return result

    def forecasts(self, history: dict[str, list[Night]], today: date) -> dict[str, JobForecast]:
        result = {}
        for job in self.config.jobs.values():
            pool = self.config.pools[job.pool]
            capacity = usable_capacity(self.inventory, pool.generation, self.config.drives[job.drive].block_size)
            result[job.name] = forecast_job(job.name, history[job.name], capacity=capacity,
                                            generation=pool.generation, today=today,
                                            horizon_nights=self.horizon_nights)
        return result

    def pool_jobs(self, pool: str, per_run: Callable[[str], float], now: datetime) -> list[PoolJob]:
        return [PoolJob(job.name, per_run(job.name), runs_counter(job.schedule, now))
                for job in self.config.jobs.values() if job.pool == pool]

    # ---- the whole plan
    def plan(self) -> dict[str, Any]:
        now = self.now()
        today = now.date()
        jobs = list(self.config.jobs.values())
        history = self.history()
        estimates = self.estimates(jobs, history)
        spaces = self.spaces(jobs, {name: e.bytes for name, e in estimates.items()}, now)
        forecasts = self.forecasts(history, today)

        def tonight(name: str) -> float:
            estimate, forecast = estimates[name].bytes, forecasts[name].at(today)
            last = history[name][-1].bytes if history[name] else 0
            return float(estimate if estimate is not None else forecast if forecast is not None else last)

        def at_horizon(name: str) -> float:
            value = forecasts[name].at(forecasts[name].horizon)
            return max(tonight(name), value) if value is not None else tonight(name)

        pools: dict[str, PoolTapes] = {}
        for job in jobs:
            if job.pool not in pools:
                pools[job.pool] = pool_tapes(self.inventory, self.config, job.pool,
                                             self.config.drives[job.drive].block_size)
        rows = []
        for job in jobs:
            estimate, space, forecast = estimates[job.name], spaces[job.name], forecasts[job.name]
            sentence, suggestions = job_sentence(
                forecast, chains=estimate.chains, pool=pools[job.pool],
                pool_jobs_at_horizon=self.pool_jobs(job.pool, at_horizon, now))
            when = self.next_run(job, now)
            rows.append({
                "job": job.name, "source": job.source, "drive": job.drive, "pool": job.pool,
                "schedule": job.schedule, "next_run": when.isoformat(timespec="minutes") if when else None,
                "estimate": estimate.to_json(), "space": space.to_json(), "fits_tonight": space.fits,
                "history": [n.to_json() for n in history[job.name]],
                "forecast": forecast.to_json(), "sentence": sentence, "suggestions": suggestions,
            })
        pool_rows = []
        for name, pool in pools.items():
            jobs_now = self.pool_jobs(name, tonight, now)
            pool_rows.append({
                "pool": name, "generation": pool.generation, "allocation": pool.allocation,
                "retention_days": pool.retention_days, "own_tapes": pool.own, "blanks": pool.blanks,
                "tape_capacity": pool.capacity, **pool_need(pool, jobs_now),
                "freeing": freeing(self.inventory, name, today), "sentence": pool_sentence(pool, jobs_now),
            })
        return {
            "generated": now.isoformat(timespec="seconds"), "today": today.isoformat(),
            "horizon": (today + timedelta(days=self.horizon_nights)).isoformat(),
            "jobs": rows, "pools": pool_rows,
            "will_not_fit": [r["job"] for r in rows if r["fits_tonight"] is False],
        }
