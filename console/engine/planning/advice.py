"""The forecast and the changes that would make a night fit, as the plain sentences the operator reads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from console.engine.planning.estimate import ChainSizes
from console.engine.planning.forecast import JobForecast, deltas_that_fit
from console.engine.planning.retention import PoolJob, sustainable_days, tapes_needed, tapes_per_run
from console.engine.planning.trend import METHOD
from console.wire.plan_words import plural, signed_size, size


@dataclass(frozen=True, slots=True)
class PoolTapes:
    """A pool and the tapes it can write on."""

    name: str
    generation: str
    allocation: str
    retention_days: int | None
    own: int  # the pool's tapes that can be written again (not damaged, retired or write-protected)
    blanks: int  # unassigned blanks of the pool's generation (any pool of that generation may label them)
    capacity: int  # usable bytes of one tape

    @property
    def tapes(self) -> int:
        return self.own + self.blanks

    def holding(self) -> str:
        return f"{self.tapes} ({self.own} of its own, {plural(self.blanks, f'unassigned {self.generation} blank')})"


def pool_need(pool: PoolTapes, jobs: list[PoolJob]) -> dict[str, Any]:
    """The tapes the pool's retention needs for these runs, and the retention its tapes sustain."""
    if pool.retention_days is None or not jobs:
        return {"pool": pool.name, "retention_days": pool.retention_days, "tapes": pool.tapes, "needed": None,
                "sustainable_days": None}
    needed = tapes_needed(pool.allocation, jobs, pool.retention_days, pool.capacity)
    return {"pool": pool.name, "retention_days": pool.retention_days, "tapes": pool.tapes, "needed": needed,
            "sustainable_days": sustainable_days(pool.allocation, jobs, pool.tapes, pool.capacity)}


def retention_change(pool: PoolTapes, need: dict[str, Any]) -> str | None:
    """'keep 8 days instead of 14 in pool P, or add 6 tapes to it' when the tapes do not hold the retention."""
    if need["needed"] is None or need["needed"] <= pool.tapes:
        return None
    more = need["needed"] - pool.tapes
    if not need["sustainable_days"]:
        return f"pool {pool.name}'s {pool.tapes} tapes do not hold even one night: add {plural(more, 'tape')}"
    return (f"keep {plural(need['sustainable_days'], 'day')} instead of {pool.retention_days} in pool {pool.name} "
            f"(retention_days), or add {plural(more, 'tape')} to it")


def pool_sentence(pool: PoolTapes, jobs: list[PoolJob]) -> str:
    """The pool's tapes against its retention tonight."""
    if pool.retention_days is None:
        return f"pool {pool.name} keeps forever: its {pool.holding()} tapes are used up one run at a time"
    need = pool_need(pool, jobs)
    if need["needed"] is None:
        return f"pool {pool.name}: no job writes to it"
    per_night = ", ".join(f"{j.name} {plural(tapes_per_run(j.bytes_per_run, pool.capacity), 'tape')} a run"
                          for j in jobs)
    head = (f"pool {pool.name} keeps {pool.retention_days} days ({per_night}): needs {need['needed']} tapes, "
            f"has {pool.holding()}")
    change = retention_change(pool, need)
    return f"{head}; {change}" if change else head


def job_sentence(forecast: JobForecast, *, chains: ChainSizes | None, pool: PoolTapes,
                 pool_jobs_at_horizon: list[PoolJob]) -> tuple[str, list[str]]:
    """(the forecast in a sentence, the changes that would keep the night on one tape through the horizon)."""
    job, trend, gen, cap = forecast.job, forecast.trend, forecast.generation, forecast.capacity
    if forecast.history_nights == 0:
        return f"{job}: no finished run yet, so no trend to forecast", []
    if trend is None:
        return f"{job}: one night of history so far; a trend needs two", []
    tonight = forecast.at(forecast.today) or 0.0
    growth = (f"{size(max(0.0, tonight))} a night, {signed_size(float(trend.slope))} a night "
              f"({METHOD} over {trend.nights} nights)")
    one_tape = f"one {gen} tape ({size(cap)})"
    crossing = forecast.crossing
    if crossing is None:
        return f"{job}: {growth}; stays within {one_tape}", []
    if crossing <= forecast.today:
        head = (f"{job}: {growth}; already more than {one_tape}: "
                f"{plural(forecast.tapes_per_night(forecast.today) or 1, 'tape')} a night")
    else:
        head = (f"{job} outgrows {one_tape} around {crossing.isoformat()} (in "
                f"{plural(forecast.nights_to_crossing or 0, 'night')}): {growth}")
    if crossing > forecast.horizon:
        later = f"{crossing.isoformat()}, in {plural(forecast.nights_to_crossing or 0, 'night')}"
        return (f"{job}: {growth}; stays within {one_tape} past {forecast.horizon.isoformat()} (at this rate it "
                f"outgrows it around {later})"), []
    suggestions = _changes(forecast, chains, pool, pool_jobs_at_horizon)
    return (f"{head}; {', or '.join(suggestions)}" if suggestions else head), suggestions


def _changes(forecast: JobForecast, chains: ChainSizes | None, pool: PoolTapes,
             pool_jobs: list[PoolJob]) -> list[str]:
    horizon: date = forecast.horizon
    projected = forecast.at(horizon) or 0.0
    changes = []
    if chains is not None and chains.depth:
        keep = deltas_that_fit(projected, forecast.capacity, chains)
        if keep is None:
            fulls = projected - chains.depth * chains.delta_step
            changes.append(f"even keeping no delta the nights outgrow one tape by {horizon.isoformat()} (the fulls "
                           f"alone about {size(fulls)} then)")
        elif keep < chains.depth:
            changes.append(f"keep {plural(keep, 'delta')} instead of {chains.depth} (XO's backup retention) to stay "
                           f"on one tape until {horizon.isoformat()}")
    need = pool_need(pool, pool_jobs)
    change = retention_change(pool, need)
    if change:
        tpn = forecast.tapes_per_night(horizon) or 1
        changes.append(f"{change} (by {horizon.isoformat()} it takes {plural(tpn, 'tape')} a night)")
    elif need["needed"] is not None:
        changes.append(f"let the sets spill: pool {pool.name}'s {pool.tapes} tapes hold {pool.retention_days} days "
                       f"even then ({need['needed']} needed)")
    return changes
