"""Reading what a tape holds without any catalog: its label, then every set's MANIFEST.json.

The manifest is the last member of each set. When the drive can tell and seek, only the end of each tape
file is read: the position after the file's filemark gives its length in blocks, and the last few blocks
(more if the manifest is long) hold the manifest, followed by the end-of-archive zeros. Otherwise each
set is read through from its start. Either way the tape is never written.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from console.engine.drives.base import BlankTape, Drive, DriveIOError, NotSupported
from console.engine.refusals import Refused
from console.engine.restore.progress import TapeRun
from console.engine.restore.reader import RunCancelled, TapeReader
from console.engine.tape_handling import tape_ops
from console.engine.tapeformat.label import LabelError, TapeLabel
from console.engine.tapeformat.manifest import MANIFEST_FORMAT, MANIFEST_NAME
from console.engine.tapeformat.tar_headers import BLOCK, ChecksumError, TarSetError
from console.engine.tapeformat.tar_reader import TarSetReader

Json = dict[str, Any]
TAIL_RECORDS = 4  # blocks read from the end of a tape file first; multiplied by 4 until the manifest shows
_MANIFEST_HEADER = MANIFEST_NAME.encode("ascii") + b"\0"


@dataclass
class FoundSet:
    """One tape file as the scan found it."""

    file: int
    first_block: int | None
    record_size: int
    bytes: int  # the tape file's length
    manifest: Json | None
    written: float | None  # when MANIFEST.json was written: the set's end
    how: str  # 'end of file' | 'read through'
    problem: str | None = None


def _octal(field: bytes) -> int:
    text = field.split(b"\0", 1)[0].strip(b" ")
    return int(text, 8) if text else 0


def _header_ok(block: bytes) -> bool:
    try:
        stored = _octal(block[148:156])
    except ValueError:
        return False
    return stored == sum(block[:148]) + 8 * 32 + sum(block[156:])


def find_manifest(data: bytes) -> tuple[Json, float] | None:
    """The set's manifest in the last bytes of a tape file (starting on a 512-byte boundary of the file):
    the last MANIFEST.json header followed only by zeros. Returns (manifest, its mtime)."""
    for offset in range(len(data) - BLOCK, -1, -BLOCK):
        if not data.startswith(_MANIFEST_HEADER, offset):
            continue
        block = data[offset : offset + BLOCK]
        if not _header_ok(block) or block[156:157] not in (b"0", b"\0"):
            continue
        try:
            size, mtime = _octal(block[124:136]), _octal(block[136:148])
        except ValueError:
            continue
        end = offset + BLOCK + size
        if end > len(data) or data[end:].strip(b"\0"):
            continue
        try:
            manifest = json.loads(data[offset + BLOCK : end])
        except (ValueError, RecursionError):
            continue
        if isinstance(manifest, dict) and manifest.get("format") == MANIFEST_FORMAT:
            return manifest, float(mtime)
    return None


class TapeScanner:
    """Scans the tape in `drive` (held by the caller), from its label to end of data."""

    def __init__(self, drive: Drive, block_size: int, run: TapeRun) -> None:
        self.drive = drive
        self.block_size = block_size
        self.run = run
        self.reader = TapeReader(drive, block_size, run.cancel, run.stats)
        self.can_seek = True

    def label(self) -> TapeLabel:
        try:
            label = tape_ops.read_label(self.drive, self.block_size)
        except LabelError as exc:
            raise Refused(f"not a tapeconsole tape: {exc}") from None
        if label is None:
            raise Refused("the tape is blank: nothing to scan")
        return label

    def sets(self) -> Iterator[FoundSet]:
        """Every tape file after the label, in order."""
        self.drive.rewind()
        self.drive.set_block_size(0)
        try:
            self.drive.space_filemarks(1)
        except (DriveIOError, BlankTape):
            return
        for number in itertools.count(1):
            if self.run.cancel.is_set():
                raise RunCancelled("cancelled by the operator")
            self.run.member = f"tape file {number}"
            found = self._one(number)
            if found is None:
                return
            yield found

    def _tell(self) -> int | None:
        if not self.can_seek:
            return None
        try:
            return self.drive.tell_block()
        except NotSupported:
            self.can_seek = False
            self.run.stats.note(f"drive {self.drive.name} cannot tell its position: every set is read through")
            return None

    def _one(self, number: int) -> FoundSet | None:
        start = self._tell()
        try:
            first = self.drive.read_block(self.reader.read_size)
        except BlankTape:
            return None
        except DriveIOError:
            if self.drive.status().eod:
                return None  # end of data
            raise
        if not first:
            return None
        self.run.stats.blocks_read += 1
        self.run.stats.bytes_read += len(first)
        if start is not None:
            try:
                found = self._from_the_end(number, start, len(first))
            except NotSupported:
                self.can_seek = False
                found = None
            except DriveIOError as exc:
                self.run.stats.note(f"tape file {number}: reading its end failed ({exc}): reading it through")
                found = None
            if found is not None:
                return found
            tape_ops.position_at_file(self.drive, number)
            return self._read_through(number, start, self.reader.records())
        return self._read_through(number, None, itertools.chain([first], self.reader.records()))

    def _read_blocks(self, count: int) -> bytes:
        blocks = []
        for _ in range(count):
            block = self.drive.read_block(self.reader.read_size)
            if not block:
                break
            self.run.stats.blocks_read += 1
            self.run.stats.bytes_read += len(block)
            blocks.append(block)
        return b"".join(blocks)

    def _from_the_end(self, number: int, start: int, record_size: int) -> FoundSet | None:
        """The manifest from the last blocks of the file; None when that cannot work here."""
        try:
            self.drive.space_filemarks(1)
        except DriveIOError:
            return None  # no filemark after it: a torn set, read it through
        end = self.drive.tell_block()  # the next file's first object: the filemark is end - 1
        records = end - 1 - start
        count = min(TAIL_RECORDS, records)
        while True:
            self.drive.seek_block(end - 1 - count)
            data = self._read_blocks(count)
            found = find_manifest(data)
            if found is not None or count >= records:
                self.drive.seek_block(end)
                manifest, written = found if found is not None else (None, None)
                return FoundSet(number, start, record_size, records * record_size, manifest, written,
                                "end of file", None if found else "no tapeconsole manifest in this tape file")
            count = min(count * 4, records)

    def _read_through(self, number: int, start: int | None, records: Iterator[bytes]) -> FoundSet:
        counted = _Counted(records)
        tar = TarSetReader(counted)
        problem = None
        written = None
        try:
            for member in tar:
                if member.name == MANIFEST_NAME:
                    written = member.mtime
        except ChecksumError as exc:
            problem = f"read through, the data does not match the manifest: {exc}"
        except TarSetError as exc:
            problem = f"not a readable tar set: {exc}"
        for _ in counted:  # the zeros after the archive, up to the filemark
            pass
        return FoundSet(number, start, counted.size or self.block_size, counted.bytes, tar.manifest, written,
                        "read through", problem if tar.manifest or problem else "no tapeconsole manifest")


class _Counted:
    def __init__(self, records: Iterator[bytes]) -> None:
        self._records = records
        self.bytes = 0
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for record in self._records:
            self.bytes += len(record)
            self.size = self.size or len(record)
            yield record
