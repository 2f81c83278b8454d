"""How the drive did in one backup run: its rate onto tape, its underruns, the daemon CPU it cost.

Recorded with every finished run (`tapeconsole jobs --json`: `tape_rate`, `underruns`, `cpu_seconds`),
so an operator can tell from the record whether last night shoe-shined:
- tape_rate: bytes written onto tape divided by the seconds the drive was writing them (from each set's
  first record to its filemark, summed over the run's sets; loading and labelling tapes not counted);
- underruns: times the buffer ran dry after its initial fill (each one a stop of the drive);
- cpu_seconds: CPU (user + system) the daemon process used while the run ran. Runs at the same time
  share the process, so `cpu_shared_with` lists them: then the figure covers them too.
- streamed: no underrun, and the rate at or above the drive's speed-matching floor (when it has one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from console.config.schema import DriveConfig
from console.engine.drives.speed import GENERATION_RATES
from console.engine.pipeline.set_writer import SetOutcome


def process_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def drive_floor(config: DriveConfig) -> float | None:
    """The drive's speed-matching floor in bytes/s: below it, it shoe-shines. None for an unlimited
    virtual drive."""
    if config.kind == "virtual":
        return config.floor_rate
    rates = GENERATION_RATES.get(config.generation)
    return rates[1] if rates else None


@dataclass
class DriveRecord:
    floor: float | None
    cpu_start: float = field(default_factory=process_cpu_seconds)
    bytes_on_tape: int = 0
    writing_seconds: float = 0.0
    underruns: int = 0
    cpu_seconds: float = 0.0

    def add_set(self, outcome: SetOutcome) -> None:
        self.bytes_on_tape += outcome.bytes_on_tape
        self.writing_seconds += outcome.writing_seconds
        self.underruns += outcome.underruns

    def finish(self) -> None:
        self.cpu_seconds = process_cpu_seconds() - self.cpu_start

    @property
    def tape_rate(self) -> float | None:
        if self.writing_seconds <= 0:
            return None
        return self.bytes_on_tape / self.writing_seconds

    @property
    def streamed(self) -> bool | None:
        rate = self.tape_rate
        if rate is None:
            return None
        return self.underruns == 0 and (self.floor is None or rate >= self.floor)

    def to_json(self) -> dict[str, Any]:
        rate = self.tape_rate
        return {"tape_rate": None if rate is None else round(rate, 1), "underruns": self.underruns,
                "cpu_seconds": round(self.cpu_seconds, 3), "writing_seconds": round(self.writing_seconds, 3),
                "floor_rate": self.floor, "streamed": self.streamed}
