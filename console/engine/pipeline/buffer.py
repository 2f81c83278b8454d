"""The bounded memory buffer between the tar writer and the drive (what mbuffer -m SIZE -P 80 does).

The drive is started only when the buffer is mostly full, so it streams instead of shoe-shining;
when the buffer runs dry before the source is done, that is an underrun: the drive starves and
waits for the buffer to fill again.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass


class BufferCancelled(Exception):
    """The buffer was cancelled (job cancelled or the other side failed)."""


@dataclass(slots=True)
class BufferStats:
    capacity: int
    fill: int
    bytes_in: int
    bytes_out: int
    underruns: int
    state: str  # filling, streaming, draining, done, cancelled
    in_rate: float  # bytes/s into the buffer over the last RATE_WINDOW seconds
    out_rate: float  # bytes/s out of it to the drive, over the same window

    def to_json(self) -> dict:
        return asdict(self)


RATE_WINDOW = 5.0  # seconds: every rate of a run is measured over this window


class Rate:
    """Bytes per second over a sliding window of a few seconds."""

    def __init__(self, clock: Callable[[], float], window: float = RATE_WINDOW) -> None:
        self.clock = clock
        self.window = window
        self.samples: deque[tuple[float, int]] = deque()

    def add(self, total: int) -> None:
        now = self.clock()
        self.samples.append((now, total))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.window:
            self.samples.popleft()

    def value(self) -> float:
        if len(self.samples) < 2:
            return 0.0
        (t0, b0), (t1, b1) = self.samples[0], self.samples[-1]
        now = self.clock()
        span = max(now - t0, t1 - t0)
        return (b1 - b0) / span if span > 0 else 0.0


class TapeBuffer:
    """Records in, records out; thread-safe for one producer and one consumer."""

    def __init__(
        self, capacity: int, *, start_fill: float = 0.8, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if capacity <= 0:
            raise ValueError("buffer capacity must be positive")
        self.capacity = capacity
        self.start_level = int(capacity * start_fill)
        self._records: deque[bytes] = deque()
        self._fill = 0
        self._bytes_in = 0
        self._bytes_out = 0
        self._underruns = 0
        self._streaming = False
        self._closed = False
        self._cancelled: str | None = None
        self._cond = threading.Condition()
        self._in_rate = Rate(clock)
        self._out_rate = Rate(clock)

    # ---- producer side
    def put(self, record: bytes | bytearray | memoryview) -> None:
        data = bytes(record)
        with self._cond:
            while self._fill + len(data) > self.capacity and self._fill > 0 and not self._cancelled:
                self._cond.wait()
            if self._cancelled:
                raise BufferCancelled(self._cancelled)
            if self._closed:
                raise BufferCancelled("buffer already closed")
            self._records.append(data)
            self._fill += len(data)
            self._bytes_in += len(data)
            self._in_rate.add(self._bytes_in)
            self._cond.notify_all()

    def close(self) -> None:
        """The producer is done: the drive may drain what is left."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def wait_drained(self, timeout: float | None = None) -> bool:
        """Block until the consumer took everything (True) or the timeout passed/cancel (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: self._fill == 0 or self._cancelled is not None, timeout) and (
                self._cancelled is None
            )

    # ---- consumer side
    def get(self) -> bytes | None:
        """The next record for the drive, or None once closed and empty.

        Waits, without handing out anything, until the buffer reaches its start level (or the
        producer closed it): an empty buffer in the middle of streaming counts as an underrun."""
        with self._cond:
            if self._streaming and not self._records and not self._closed and not self._cancelled:
                self._underruns += 1
                self._streaming = False
            if not self._streaming:
                self._cond.wait_for(
                    lambda: self._fill >= self.start_level or self._closed or self._cancelled is not None
                )
                self._streaming = True
            if self._cancelled:
                raise BufferCancelled(self._cancelled)
            if not self._records:
                return None
            data = self._records.popleft()
            self._fill -= len(data)
            self._bytes_out += len(data)
            self._out_rate.add(self._bytes_out)
            self._cond.notify_all()
            return data

    # ---- either side
    def cancel(self, reason: str) -> None:
        with self._cond:
            if self._cancelled is None:
                self._cancelled = reason
            self._records.clear()
            self._fill = 0
            self._cond.notify_all()

    @property
    def cancelled(self) -> str | None:
        return self._cancelled

    def stats(self) -> BufferStats:
        with self._cond:
            if self._cancelled:
                state = "cancelled"
            elif self._closed:
                state = "done" if not self._records else "draining"
            else:
                state = "streaming" if self._streaming else "filling"
            return BufferStats(
                capacity=self.capacity,
                fill=self._fill,
                bytes_in=self._bytes_in,
                bytes_out=self._bytes_out,
                underruns=self._underruns,
                state=state,
                in_rate=self._in_rate.value(),
                out_rate=self._out_rate.value(),
            )
