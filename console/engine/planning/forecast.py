"""When a job's nightly sets outgrow one tape, and the chain depth that would keep them on one.

The trend is a straight line through the bytes of the nights that finished (trend.py). With `capacity`
the usable bytes of one tape of the pool's generation:

- crossing: the first night from today whose trend value exceeds `capacity` (trend.first_night_over);
- at the horizon (today + HORIZON_NIGHTS) the trend says P bytes a night;
- for a chain job (xo_remote) keeping k deltas instead of the deepest chain's D saves (D - k) deltas of
  each chain, `delta_step` bytes per delta kept less; the fulls stay as they are (a merged delta's blocks
  mostly rewrite blocks the full already holds). The deltas that fit: the largest k with
  P - (D - k) * delta_step <= capacity, i.e. k = D - ceil((P - capacity) / delta_step); none when k < 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from console.engine.planning.estimate import ChainSizes
from console.engine.planning.history import Night
from console.engine.planning.trend import Trend, fit

HORIZON_NIGHTS = 180  # suggestions keep the nightly sets fitting this far ahead
PROJECTED_NIGHTS = 60  # the forecast line drawn after the last night of history


def deltas_that_fit(projected: float, capacity: int, chains: ChainSizes) -> int | None:
    """How many deltas each chain may keep for `projected` bytes a night to fit `capacity`; None: not even
    the fulls alone fit (or the chains have no deltas to give up)."""
    if projected <= capacity:
        return chains.depth
    if chains.delta_step <= 0:
        return None
    keep = chains.depth - math.ceil((projected - capacity) / chains.delta_step)
    return keep if keep >= 0 else None


@dataclass(frozen=True, slots=True)
class JobForecast:
    job: str
    trend: Trend | None
    capacity: int  # usable bytes of one tape of the pool's generation
    generation: str
    today: date
    horizon: date
    crossing: date | None  # the first night over one tape (None: not before the trend turns, or no trend)
    history_nights: int

    @property
    def nights_to_crossing(self) -> int | None:
        return None if self.crossing is None else (self.crossing - self.today).days

    def at(self, night: date) -> float | None:
        return None if self.trend is None else float(self.trend.at(night))

    def tapes_per_night(self, night: date) -> int | None:
        value = self.at(night)
        return None if value is None else max(1, math.ceil(value / self.capacity))

    def projection(self, nights: int = PROJECTED_NIGHTS) -> list[dict[str, Any]]:
        """The trend's value on each night from tonight on, for the chart."""
        if self.trend is None:
            return []
        return [{"night": (self.today + timedelta(days=n)).isoformat(),
                 "bytes": max(0, round(float(self.trend.at(self.today + timedelta(days=n)))))}
                for n in range(nights)]

    def to_json(self) -> dict[str, Any]:
        return {
            "trend": self.trend.to_json() if self.trend else None,
            "capacity": self.capacity, "generation": self.generation, "today": self.today.isoformat(),
            "horizon": self.horizon.isoformat(), "crossing": self.crossing.isoformat() if self.crossing else None,
            "nights_to_crossing": self.nights_to_crossing, "tonight": self.at(self.today),
            "at_horizon": self.at(self.horizon), "history_nights": self.history_nights,
            "projection": self.projection(),
        }


def forecast_job(job: str, nights: list[Night], *, capacity: int, generation: str, today: date,
                 horizon_nights: int = HORIZON_NIGHTS) -> JobForecast:
    trend = fit([(n.night, n.bytes) for n in nights])
    crossing = trend.first_night_over(capacity, from_night=today) if trend else None
    return JobForecast(job, trend, capacity, generation, today, today + timedelta(days=horizon_nights), crossing,
                       len(nights))
