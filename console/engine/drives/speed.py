"""How fast a virtual drive moves tape, and when it has to stop and reposition ("shoe-shine").

The model, kept simple on purpose (rates in bytes/s, times in seconds):

- The drive has a memory buffer of `buffer_bytes`. A write is accepted as soon as it fits in the buffer;
  when it does not, the host waits while the drive puts buffered data on tape.
- A stopped drive starts moving tape once its buffer is half full (or on a flush).
- Speed matching: a moving drive picks its speed from how full its buffer is - the floor rate up to half
  full, rising evenly to the native rate at three quarters full, the native rate above. So a host faster
  than the native rate is held to it, a host between floor and native rate finds a steady speed and
  never stops the drive, and a host slower than the floor drains the buffer (the drive cannot go slower).
- When the buffer runs dry the drive stops and rewinds a little: one shoe-shine event. When it starts
  again it first spends `reposition_seconds` getting back into position, while the buffer keeps filling.
- A flush (filemark, rewind, space, eject) writes the buffer out at the native rate and stops the drive;
  that planned stop is not a shoe-shine. Reads are simply paced at the native rate.

Everything runs on the injectable `clock` and `sleep`, so tests drive the model with a fake clock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from console.wire.lto import GENERATION_RATES

MB = 1000**2
MiB = 1024**2


START_FILL = 0.5  # a stopped drive starts when its buffer is this full; below it, it runs at the floor rate
FULL_SPEED_FILL = 0.75  # from this fill on, the drive runs at its native rate
_SLACK = 1.0  # bytes: float rounding tolerance when comparing buffer levels


class SpeedModel:
    """Pace one virtual drive; count the times it had to stop because data came too slowly."""

    def __init__(
        self,
        native_rate: float,
        floor_rate: float,
        buffer_bytes: int = 128 * MiB,
        reposition_seconds: float = 3.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if native_rate <= 0:
            raise ValueError(f"native rate must be above 0 bytes/s, got {native_rate}")
        if not 0 < floor_rate <= native_rate:
            raise ValueError(f"floor rate must be above 0 and at most the native rate, got {floor_rate}")
        if buffer_bytes <= 0:
            raise ValueError(f"drive buffer must be above 0 bytes, got {buffer_bytes}")
        if reposition_seconds < 0:
            raise ValueError(f"reposition time cannot be negative, got {reposition_seconds}")
        self.native_rate = float(native_rate)
        self.floor_rate = float(floor_rate)
        self.buffer_bytes = buffer_bytes
        self.reposition_seconds = reposition_seconds
        self.clock = clock
        self._sleep = sleep
        self.shoe_shine_events = 0
        self._level = 0.0  # bytes in the drive's buffer, not yet on tape
        self._moving = False  # tape is moving (or about to, once repositioned)
        self._resume_at = 0.0  # while repositioning: when tape starts moving again
        self._must_reposition = False  # the last stop was a shoe-shine
        self._updated = clock()
        self._read_done = self._updated

    @classmethod
    def for_generation(cls, generation: str, **kwargs: Any) -> SpeedModel:
        """The reference rates of an LTO generation, e.g. SpeedModel.for_generation("LTO-5")."""
        if generation not in GENERATION_RATES:
            known = ", ".join(GENERATION_RATES)
            raise ValueError(f"no reference speeds for {generation} (known: {known})")
        native, floor = GENERATION_RATES[generation]
        return cls(native, floor, **kwargs)

    @property
    def buffered_bytes(self) -> int:
        """Bytes accepted from the host that are not on tape yet."""
        return int(self._level)

    # ---- the drive calls these
    def write(self, nbytes: int) -> None:
        """Take nbytes from the host into the buffer, waiting while the buffer is full."""
        now = self._advance()
        room = max(self.buffer_bytes, nbytes)
        while self._level + nbytes > room + _SLACK:
            if not self._moving:
                self._start(now)
            self._sleep(max(self._resume_at - now, 0.0) + self._drain_time(self._level, room - nbytes))
            now = self._advance()
        self._level += nbytes
        if not self._moving and self._level >= self.buffer_bytes * START_FILL:
            self._start(now)

    def flush(self) -> None:
        """Wait until everything buffered is on tape, then stop (a planned stop, not a shoe-shine)."""
        now = self._advance()
        if self._level > _SLACK:
            if not self._moving:
                self._start(now)
            self._sleep(max(self._resume_at - now, 0.0) + self._level / self.native_rate)
            self._updated = max(self._updated, self.clock())
        self._level = 0.0
        self._moving = False
        self._must_reposition = False

    def read(self, nbytes: int) -> None:
        """Pace reads at the native rate."""
        now = self.clock()
        self._read_done = max(self._read_done, now) + nbytes / self.native_rate
        if self._read_done > now:
            self._sleep(self._read_done - now)

    def stop(self) -> None:
        """Tape was positioned (rewind, space, seek, eject): forget streaming state; flush() first."""
        self.flush()
        self._read_done = self.clock()

    # ---- the model
    def _start(self, now: float) -> None:
        self._moving = True
        self._resume_at = now + (self.reposition_seconds if self._must_reposition else 0.0)
        self._must_reposition = False
        self._updated = max(self._updated, now)

    def _advance(self) -> float:
        """Bring the buffer level up to now; count a shoe-shine if the drive ran dry meanwhile."""
        now = self.clock()
        start = max(self._updated, self._resume_at) if self._moving else now
        if self._moving and now > start:
            self._level, ran_dry = self._drain(self._level, now - start)
            if ran_dry:
                self._moving = False
                self._must_reposition = True
                self.shoe_shine_events += 1
        self._updated = max(self._updated, now)
        return now

    # Speed matching: the floor rate up to `low` bytes buffered, rising evenly to the native rate at
    # `high`, the native rate above. In between, the level x above `low` follows dx/dt = -(floor + k x / w)
    # with k = native - floor and w = high - low, so x(t) = (x0 + c) e^(-k t / w) - c with c = w floor / k.
    def _drain(self, level: float, seconds: float) -> tuple[float, bool]:
        """The buffer level after `seconds` of moving tape, and whether it ran dry meanwhile."""
        low, high = self.buffer_bytes * START_FILL, self.buffer_bytes * FULL_SPEED_FILL
        if level > high:
            needed = (level - high) / self.native_rate
            if seconds <= needed:
                return level - self.native_rate * seconds, False
            seconds -= needed
            level = high
        if level > low:
            needed = self._drain_time(level, low)
            if seconds <= needed:
                return low + self._matched_level(level - low, seconds), False
            seconds -= needed
            level = low
        if self.floor_rate * seconds <= level + _SLACK:
            return max(level - self.floor_rate * seconds, 0.0), False
        return 0.0, True

    def _drain_time(self, level: float, target: float) -> float:
        """Seconds of moving tape for the buffer to go down from `level` to `target`."""
        low, high = self.buffer_bytes * START_FILL, self.buffer_bytes * FULL_SPEED_FILL
        seconds = 0.0
        if level > high and level > target:
            end = max(target, high)
            seconds += (level - end) / self.native_rate
            level = end
        if level > low and level > target:
            end = max(target, low)
            k, w = self.native_rate - self.floor_rate, high - low
            if k == 0:
                seconds += (level - end) / self.floor_rate
            else:
                c = w * self.floor_rate / k
                seconds += w / k * math.log((level - low + c) / (end - low + c))
            level = end
        if level > target:
            seconds += (level - target) / self.floor_rate
        return seconds

    def _matched_level(self, above_low: float, seconds: float) -> float:
        k, w = self.native_rate - self.floor_rate, self.buffer_bytes * (FULL_SPEED_FILL - START_FILL)
        if k == 0:
            return max(above_low - self.floor_rate * seconds, 0.0)
        c = w * self.floor_rate / k
        return max((above_low + c) * math.exp(-k * seconds / w) - c, 0.0)
