"""A job's history as the planner reads it: bytes on tape per night, from the runs that finished."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from console.engine.restore.catalog import night_of

RATIO_RUNS = 5  # the compression ratio of a files job: over its last few runs that recorded both figures


@dataclass(frozen=True, slots=True)
class Night:
    night: date  # the evening's date (a run started before noon belongs to the evening before)
    bytes: int  # on tape, every set of the run
    source_bytes: int | None  # what the source read (files jobs: the tree), when the run recorded it
    run: int

    def to_json(self) -> dict[str, Any]:
        return {"night": self.night.isoformat(), "bytes": self.bytes, "run": self.run}


def job_nights(runs: Iterable[dict[str, Any]], job: str) -> list[Night]:
    """One point per night, oldest first: the largest run of the job that ended `done` that night.

    Failed, cancelled and interrupted runs are left out (their bytes say nothing about a whole night);
    a second successful run the same night (a rerun) does not add to the first."""
    best: dict[date, Night] = {}
    for run in runs:
        if run.get("job") != job or run.get("state") != "done" or not run.get("bytes"):
            continue
        night = night_of(run.get("started") or run.get("queued"))
        if night is None:
            continue
        point = Night(night, int(run["bytes"]), run.get("source_bytes"), int(run["id"]))
        if night not in best or point.bytes > best[night].bytes:
            best[night] = point
    return [best[n] for n in sorted(best)]


def compression_ratio(nights: list[Night], last: int = RATIO_RUNS) -> tuple[float, int] | None:
    """(bytes on tape / bytes read, runs counted) over the last runs that recorded what they read."""
    usable = [n for n in nights if n.source_bytes][-last:]
    if not usable:
        return None
    read = sum(n.source_bytes or 0 for n in usable)
    return sum(n.bytes for n in usable) / read, len(usable)
