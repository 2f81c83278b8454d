"""The drive side of the pipeline: a thread that writes the buffer's records to the drive.

Early warning is handled as the st driver reports it: the write that returns ENOSPC first is
retried once (after early warning writes alternate between success and ENOSPC), the writer
raises its `early_warning` flag so the producer closes the set at the next member boundary, and
only a second ENOSPC in a row means the physical end of the tape.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from console.engine.drives.base import Drive, DriveError, EndOfMedium
from console.engine.pipeline.buffer import BufferCancelled, TapeBuffer


class PhysicalEndOfTape(DriveError):
    """ENOSPC twice in a row: nothing more fits on this tape."""


class DriveWriter(threading.Thread):
    def __init__(self, drive: Drive, buffer: TapeBuffer, *, name: str = "drive-writer",
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(name=name, daemon=True)
        self.drive = drive
        self.buffer = buffer
        self.clock = clock
        self.early_warning = threading.Event()
        self.error: BaseException | None = None
        self.records_written = 0
        self.bytes_written = 0
        self.filemark_written = False
        self.started_at: float | None = None
        self.ended_at: float | None = None

    @property
    def writing_seconds(self) -> float:
        """Seconds from the first record handed to the drive to the end (or now)."""
        if self.started_at is None:
            return 0.0
        end = self.ended_at if self.ended_at is not None else self.clock()
        return max(0.0, end - self.started_at)

    def _write(self, record: bytes) -> None:
        try:
            self.drive.write_block(record)
        except EndOfMedium:
            self.early_warning.set()
            try:
                self.drive.write_block(record)
            except EndOfMedium:
                raise PhysicalEndOfTape(
                    f"physical end of tape after {self.bytes_written} bytes of this set"
                ) from None

    def run(self) -> None:
        try:
            while True:
                record = self.buffer.get()
                if record is None:
                    break
                if self.started_at is None:
                    self.started_at = self.clock()
                self._write(record)
                self.records_written += 1
                self.bytes_written += len(record)
            self._write_filemark()
        except BufferCancelled:
            # cancelled by the operator (the drive's own failure is the branch below): the set ends after the
            # record just written, closed by its filemark so the next set is a tape file of its own
            if self.buffer.cancelled and self.error is None:
                self._close_cut_set()
        except BaseException as exc:  # reported to the producer, which fails the set
            self.error = exc
            self.buffer.cancel(f"drive {self.drive.name}: {exc}")
        finally:
            self.ended_at = self.clock()

    def _close_cut_set(self) -> None:
        try:
            self._write_filemark()
        except Exception as exc:  # noqa: BLE001 - reported to the producer, which fails the set
            self.error = exc

    def _write_filemark(self) -> None:
        try:
            self.drive.write_filemarks(1)
        except EndOfMedium:
            self.early_warning.set()
            self.drive.write_filemarks(1)
        self.filemark_written = True
