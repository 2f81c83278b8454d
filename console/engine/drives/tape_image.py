"""One virtual cartridge: an image file of runs of blocks and filemarks, with crash-safe appends.

Image format (one file per cartridge, data stored as-is):

    file header  16 bytes  b"TAPECONSOLE-VT1\\n"
    run header   32 bytes  magic b"TCRD", kind (1 data, 2 filemarks), block length, count, CRC32 of the
                           header fields and of the header's own file offset
    run data     count * block length bytes (nothing for filemarks)

A run is a row of blocks of the same length (or of filemarks). Appending blocks of the tail run's length
writes the data, then rewrites the tail run's header with the new count; anything else starts a new run.
On open the runs are found by reading headers only. A header that does not check out marks a torn tail
and the file is cut there; a run whose data stops short keeps its whole blocks. Filemarks are fsynced, so
everything written before a filemark survives a crash of the process (or of the machine).
"""

from __future__ import annotations

import bisect
import contextlib
import fcntl
import os
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from console.engine.drives.base import DriveBusy, DriveIOError

MAX_BLOCK_BYTES = 8 * 1024 * 1024  # the largest block an LTO drive takes
DATA = 1
FILEMARK = 2
_FILE_MAGIC = b"TAPECONSOLE-VT1\n"
_RUN_MAGIC = b"TCRD"
_RUN_FIELDS = struct.Struct("<4sB3xIIQ")  # magic, kind, block length, reserved, count
_RUN_CHECK = struct.Struct("<I4x")  # CRC32 of the fields and of the header's offset
RUN_HEADER_BYTES = _RUN_FIELDS.size + _RUN_CHECK.size


@dataclass(slots=True)
class Run:
    """A row of equal-length blocks (or of filemarks) in a cartridge image."""

    kind: int
    header_offset: int
    block_len: int  # 0 for filemarks
    count: int
    first_object: int  # logical object number (blocks and filemarks) of its first item
    first_byte: int  # data bytes recorded before it
    file_number: int  # filemarks before it
    block_in_file: int  # blocks between the previous filemark and it

    @property
    def data_offset(self) -> int:
        return self.header_offset + RUN_HEADER_BYTES

    @property
    def end_offset(self) -> int:
        return self.data_offset + self.count * self.block_len

    @property
    def filemarks_through(self) -> int:
        """Filemarks from BOT up to the end of this run."""
        return self.file_number + (self.count if self.kind == FILEMARK else 0)


class Point(NamedTuple):
    """A tape position as st would describe it."""

    object: int  # logical object number (READ POSITION)
    file: int
    block: int
    byte: int  # data bytes recorded before it: how far along the tape it is


def _run_header(kind: int, block_len: int, count: int, offset: int) -> bytes:
    fields = _RUN_FIELDS.pack(_RUN_MAGIC, kind, block_len, 0, count)
    return fields + _RUN_CHECK.pack(zlib.crc32(fields + offset.to_bytes(8, "little")))


def _parse_run_header(raw: bytes, offset: int) -> tuple[int, int, int] | None:
    """(kind, block length, count), or None when these bytes are not a whole, valid run header."""
    if len(raw) != RUN_HEADER_BYTES:
        return None
    fields = raw[: _RUN_FIELDS.size]
    magic, kind, block_len, _reserved, count = _RUN_FIELDS.unpack(fields)
    (crc,) = _RUN_CHECK.unpack(raw[_RUN_FIELDS.size :])
    if magic != _RUN_MAGIC or crc != zlib.crc32(fields + offset.to_bytes(8, "little")) or count < 1:
        return None
    if kind == DATA and 1 <= block_len <= MAX_BLOCK_BYTES or kind == FILEMARK and block_len == 0:
        return kind, block_len, count
    return None


def _pwrite_all(fd: int, parts: Sequence[bytes | memoryview], offset: int) -> None:
    """Write all of `parts` at `offset` (one pwritev, more only if the kernel wrote less)."""
    done = os.pwritev(fd, parts, offset)
    if done == sum(map(len, parts)):
        return
    views = [memoryview(part) for part in parts]
    while views:
        if done <= 0:
            raise OSError(5, "short write")
        offset += done
        while views and done >= len(views[0]):
            done -= len(views[0])
            views.pop(0)
        if views and done:
            views[0] = views[0][done:]
        if views:
            done = os.pwritev(fd, views, offset)


class TapeImage:
    """The records of one cartridge image: runs of blocks and filemarks, appended, cut and read back.

    Holds an exclusive lock on the image while open, so two drives (or processes) never share it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = -1
        try:
            self._fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        except OSError as exc:
            raise DriveIOError(f"cannot open cartridge image {path.name}: {exc.strerror or exc}") from exc
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise DriveBusy(f"cartridge image {path.name} is in use by another drive or process") from None
        try:
            self.runs: list[Run] = []
            self._end = self._scan()
        except BaseException:
            os.close(self._fd)
            raise

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __del__(self) -> None:  # a forgotten image must not keep its lock
        with contextlib.suppress(Exception):
            self.close()

    # ---- totals
    @property
    def objects(self) -> int:
        """Blocks plus filemarks recorded: the logical object number of end of data."""
        last = self.runs[-1] if self.runs else None
        return last.first_object + last.count if last else 0

    @property
    def filemarks(self) -> int:
        return self.runs[-1].filemarks_through if self.runs else 0

    @property
    def data_bytes(self) -> int:
        """Data bytes recorded: how far along the tape end of data is."""
        last = self.runs[-1] if self.runs else None
        return last.first_byte + last.count * last.block_len if last else 0

    # ---- positions: (run index, offset in the run); (len(runs), 0) is end of data
    def locate(self, obj: int) -> tuple[int, int]:
        """The position of logical object `obj` (0 <= obj <= objects)."""
        index = bisect.bisect_right(self.runs, obj, key=lambda run: run.first_object) - 1
        if index < 0:
            return 0, 0
        offset = obj - self.runs[index].first_object
        if offset >= self.runs[index].count:
            return index + 1, 0
        return index, offset

    def filemark_object(self, number: int) -> int:
        """The logical object number of filemark `number` (1 = the first from BOT)."""
        index = bisect.bisect_left(self.runs, number, key=lambda run: run.filemarks_through)
        run = self.runs[index]
        return run.first_object + number - run.file_number - 1

    def point(self, index: int, offset: int) -> Point:
        if index >= len(self.runs):
            if not self.runs:
                return Point(0, 0, 0, 0)
            index, offset = len(self.runs) - 1, self.runs[-1].count
        run = self.runs[index]
        if run.kind == FILEMARK:
            block = run.block_in_file if offset == 0 else 0
            return Point(run.first_object + offset, run.file_number + offset, block, run.first_byte)
        return Point(
            run.first_object + offset,
            run.file_number,
            run.block_in_file + offset,
            run.first_byte + offset * run.block_len,
        )

    # ---- records
    def read(self, run: Run, offset: int, count: int) -> bytes:
        size = count * run.block_len
        data = os.pread(self._fd, size, run.data_offset + offset * run.block_len)
        if len(data) != size:
            raise DriveIOError(f"cartridge image {self.path.name} is shorter than its records")
        return data

    def append_blocks(self, data: memoryview, block_len: int, count: int) -> None:
        self._append(DATA, block_len, count, data)

    def append_filemarks(self, count: int) -> None:
        self._append(FILEMARK, 0, count, None)
        os.fsync(self._fd)

    def truncate(self, obj: int) -> None:
        """Forget everything from logical object `obj` on, as writing there does on tape."""
        if obj >= self.objects:
            return
        index, offset = self.locate(obj)
        run = self.runs[index]
        if offset == 0:
            cut = run.header_offset
        else:
            os.pwrite(self._fd, _run_header(run.kind, run.block_len, offset, run.header_offset), run.header_offset)
            run.count = offset
            cut = run.end_offset
            index += 1
        del self.runs[index:]
        os.ftruncate(self._fd, cut)
        self._end = cut

    def _append(self, kind: int, block_len: int, count: int, data: memoryview | None) -> None:
        tail = self.runs[-1] if self.runs else None
        start = self._end
        try:
            if tail is not None and tail.kind == kind and tail.block_len == block_len:
                if data is not None:
                    _pwrite_all(self._fd, [data], start)
                header = _run_header(kind, block_len, tail.count + count, tail.header_offset)
                _pwrite_all(self._fd, [header], tail.header_offset)
                tail.count += count
            else:
                header = _run_header(kind, block_len, count, start)
                _pwrite_all(self._fd, [header] if data is None else [header, data], start)
                self.runs.append(self._next_run(kind, start, block_len, count))
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)
            raise
        self._end = self.runs[-1].end_offset

    def _next_run(self, kind: int, header_offset: int, block_len: int, count: int) -> Run:
        if not self.runs:
            return Run(kind, header_offset, block_len, count, 0, 0, 0, 0)
        last = self.runs[-1]
        return Run(
            kind,
            header_offset,
            block_len,
            count,
            first_object=last.first_object + last.count,
            first_byte=last.first_byte + last.count * last.block_len,
            file_number=last.filemarks_through,
            block_in_file=0 if last.kind == FILEMARK else last.block_in_file + last.count,
        )

    def _scan(self) -> int:
        """Find the runs from their headers; cut a torn tail. Returns the end of the last whole run."""
        size = os.fstat(self._fd).st_size
        head = os.pread(self._fd, len(_FILE_MAGIC), 0)
        if not _FILE_MAGIC.startswith(head) or (size >= len(_FILE_MAGIC) and head != _FILE_MAGIC):
            raise DriveIOError(f"{self.path.name} is not a tapeconsole cartridge image")
        if size < len(_FILE_MAGIC):  # new, blank cartridge
            _pwrite_all(self._fd, [_FILE_MAGIC], 0)
            os.ftruncate(self._fd, len(_FILE_MAGIC))
            return len(_FILE_MAGIC)
        offset = len(_FILE_MAGIC)
        while offset + RUN_HEADER_BYTES <= size:
            parsed = _parse_run_header(os.pread(self._fd, RUN_HEADER_BYTES, offset), offset)
            if parsed is None:
                break
            kind, block_len, count = parsed
            if offset + RUN_HEADER_BYTES + count * block_len > size:  # torn: keep its whole blocks
                count = (size - offset - RUN_HEADER_BYTES) // block_len
                if count == 0:
                    break
                _pwrite_all(self._fd, [_run_header(kind, block_len, count, offset)], offset)
            run = self._next_run(kind, offset, block_len, count)
            self.runs.append(run)
            offset = run.end_offset
        if offset < size:
            os.ftruncate(self._fd, offset)  # made durable by the next filemark's fsync
        return offset
