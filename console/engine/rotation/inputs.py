"""What the swap list and the jobs' next tapes are worked out from: one consistent picture of the site.

The daemon builds it from its inventory, drives, runs and running restores (daemon/routes/rotation.py);
tests build it from an Inventory with a controlled clock. Nothing here touches a drive.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from console.config.schema import Config, JobConfig
from console.engine.inventory import Inventory
from console.engine.jobs.tape_choice import TapeChoice, rank
from console.engine.retention import is_kept

Json = dict[str, Any]


@dataclass(frozen=True)
class SiteNow:
    tapes: list[Json]  # inventory records
    pools: dict[str, Json]  # by name
    jobs: list[JobConfig]  # as configured, in config order
    drive_generations: dict[str, str]
    now: datetime  # timezone-aware; retention is judged on its UTC day, like the inventory's clock
    runs: list[Json] = field(default_factory=list)  # job runs, oldest first (live snapshots or stored records)
    busy_drives: Mapping[str, str] = field(default_factory=dict)  # drive -> what it is doing now
    held: Mapping[str, str] = field(default_factory=dict)  # barcode -> the restore or verify that needs it
    lookahead_nights: int = 7

    @property
    def today(self) -> date:
        return retention_day(self.now)

    def tape(self, barcode: str) -> Json | None:
        return next((t for t in self.tapes if t["barcode"] == barcode), None)

    def choices(self, job: JobConfig, *, day: date | None = None, tapes: list[Json] | None = None,
                exclude: Collection[str] = ()) -> list[TapeChoice]:
        """The job's tape choices on `day` (default today) among `tapes` (default the inventory's)."""
        pool = self.pools.get(job.pool)
        if pool is None:
            return []
        when = day or self.today
        return rank(self.tapes if tapes is None else tapes, pool, job.drive, self.drive_generations[job.drive],
                    protected=lambda t: is_kept(t, self.pools, when), exclude={*exclude, *self.held})

    @classmethod
    def from_inventory(
        cls, inventory: Inventory, config: Config, *, runs: list[Json] | None = None,
        busy_drives: Mapping[str, str] | None = None, held: Mapping[str, str] | None = None,
    ) -> SiteNow:
        return cls(
            tapes=inventory.tapes(), pools={p["name"]: p for p in inventory.pools()}, jobs=list(config.jobs.values()),
            drive_generations={name: d.generation for name, d in config.drives.items()}, now=inventory.clock(),
            runs=inventory.runs() if runs is None else runs, busy_drives=busy_drives or {}, held=held or {},
            lookahead_nights=config.rotation.lookahead_nights,
        )


def retention_day(moment: datetime) -> date:
    """The day retention is judged on: the UTC date, as Inventory.is_protected does with its clock."""
    return moment.astimezone(UTC).date()
