"""How many days a pool can keep with the tapes it has.

A tape written on night t is kept until t + retention_days (it can be written again that night). So on any
night the pool holds the tapes of every run of the last retention_days nights, tonight's included:

    tapes needed = sum over the pool's jobs of (runs in retention_days) * (tapes per run)     new-each-run
    tapes needed = ceil(sum of (runs in retention_days) * (bytes per run) / tape) + 1          append

(tapes per run = ceil(bytes per run / one tape), at least 1; runs in D days: the nights the job's schedule
fires in D days, or D for a job without a schedule, taken as one run a night; the +1 of an append pool is the
tape being filled). The retention the tapes sustain is the longest D whose need is within the tapes on hand.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from croniter import croniter

LONGEST_DAYS = 366  # retention is searched up to a year


def runs_counter(schedule: str | None, start: datetime, longest: int = LONGEST_DAYS) -> Callable[[int], int]:
    """runs_in(D): the nights in [start, start + D days) on which the schedule starts the job (D <= longest);
    one a night for a job without a schedule."""
    if schedule is None:
        return lambda days: days
    end = start + timedelta(days=longest)
    it = croniter(schedule, start)
    offsets: list[int] = []  # days from start of each night with a run, ascending
    while True:
        moment = it.get_next(datetime)
        if moment >= end:
            break
        offset = (moment - start).days
        if not offsets or offsets[-1] != offset:
            offsets.append(offset)
    return lambda days: bisect.bisect_left(offsets, days)


def tapes_per_run(bytes_per_run: float, capacity: int) -> int:
    return max(1, math.ceil(bytes_per_run / capacity))


@dataclass(frozen=True, slots=True)
class PoolJob:
    """One job of a pool as the retention maths sees it."""

    name: str
    bytes_per_run: float
    runs_in: Callable[[int], int]  # runs in D days


def tapes_needed(allocation: str, jobs: Sequence[PoolJob], days: int, capacity: int) -> int:
    if allocation == "append":
        total = sum(max(1, j.runs_in(days)) * j.bytes_per_run for j in jobs)
        return math.ceil(total / capacity) + 1
    return sum(max(1, j.runs_in(days)) * tapes_per_run(j.bytes_per_run, capacity) for j in jobs)


def sustainable_days(allocation: str, jobs: Sequence[PoolJob], tapes: int, capacity: int,
                     longest: int = LONGEST_DAYS) -> int:
    """The longest retention (days) whose need fits `tapes`; 0 when not even one night's runs do."""
    if not jobs or tapes_needed(allocation, jobs, 1, capacity) > tapes:
        return 0
    low, high = 1, longest  # the need only grows with the days kept: a binary search
    while low < high:
        middle = (low + high + 1) // 2
        if tapes_needed(allocation, jobs, middle, capacity) <= tapes:
            low = middle
        else:
            high = middle - 1
    return low
