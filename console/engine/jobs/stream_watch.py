"""Warns, while a backup runs, when its data comes slower than the drive's floor: the drive will shoe-shine.

Once the buffer has filled for the first time, the rate the source puts data into it is compared with the
drive's speed-matching floor. When it stays below for `patience` seconds, the daemon's event log says so
(which job, which drive, the rate, the floor) and the run's JSON carries the warning as `stream_risk`, so
the console shows the risk, not only the underruns after the fact. When the rate recovers the log says
that too and the warning clears.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from console.engine.pipeline.buffer import BufferStats, TapeBuffer

log = logging.getLogger("tapeconsole.jobs")
MB = 1_000_000
RECOVERED = 1.1  # the rate must reach this much of the floor before the warning clears


class WatchedRun(Protocol):
    """What the watch needs of a backup run (jobs.backup.BackupRun)."""

    id: int
    stream_risk: str | None
    buffer: TapeBuffer | None


class StreamWatch:
    def __init__(self, run: WatchedRun, job: str, drive: str, floor: float, *, patience: float = 10.0,
                 every: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.run = run
        self.job = job
        self.drive = drive
        self.floor = floor
        self.patience = patience
        self.every = every
        self.clock = clock
        self.warnings = 0
        self._below_since: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> StreamWatch:
        self._thread = threading.Thread(target=self._loop, name=f"stream-watch-{self.drive}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            buffer = self.run.buffer
            if buffer is not None:
                self.check(buffer.stats())

    def check(self, stats: BufferStats) -> None:
        """One look at the buffer (called every `every` seconds)."""
        if stats.state not in ("streaming", "filling") or stats.bytes_out == 0:
            self._below_since = None  # before the initial fill, or draining at the end: nothing to judge
            return
        now = self.clock()
        rate = stats.in_rate
        if rate < self.floor:
            if self._below_since is None:
                self._below_since = now
            if self.run.stream_risk is None and now - self._below_since >= self.patience:
                self.warnings += 1
                self.run.stream_risk = (
                    f"the source gives {rate / MB:.1f} MB/s, below drive {self.drive}'s floor of "
                    f"{self.floor / MB:.0f} MB/s: the drive will stop and reposition (shoe-shine)")
                log.warning("job %s run %d: %s", self.job, self.run.id, self.run.stream_risk)
        elif rate >= self.floor * RECOVERED:
            self._below_since = None
            if self.run.stream_risk is not None:
                self.run.stream_risk = None
                log.info("job %s run %d: the source is back to %.1f MB/s, above drive %s's floor", self.job,
                         self.run.id, rate / MB, self.drive)
