"""Positioning at a set and at a member on the tape in a drive, and reading the set's tar members back.

Three ways to the record holding a member's header, fastest first:
1. block seek (MTSEEK). tell/seek count logical objects from BOT, filemarks included; a set's `first_block`
   is the object number of its first block, and a set has no filemark inside, so record r of the set is
   object first_block + r.
2. space to the set's tape file over filemarks (MTFSF), then forward over r records (MTFSR): the blocks
   pass under the head without crossing the SCSI bus.
3. space to the tape file and read forward from the set's start.
A drive that answers NotSupported is not asked again for the rest of the run. When the first header read
after a seek or a space is not the member expected, the set is read from its start instead.

A restore never writes: the drive is used through ReadOnlyDrive.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from console.engine.drives.base import BlankTape, Drive, DriveIOError, NotSupported, WriteProtected
from console.engine.refusals import Refused
from console.engine.restore.catalog import Piece
from console.engine.tape_handling import tape_ops
from console.engine.tapeformat.manifest import MANIFEST_NAME
from console.engine.tapeformat.record_stream import RecordStream
from console.engine.tapeformat.tar_headers import TarFormatError
from console.engine.tapeformat.tar_reader import SetMember, TarSetReader

Json = dict[str, Any]
UNKNOWN_FILE = 1_000_000  # st reports garbage file numbers after some operations (tgt after MTEOM)


class RunCancelled(Exception):
    """The operator cancelled the run."""


class ReadOnlyDrive:
    """A drive that cannot write: whatever a restore, verify or scan does, the tape is not changed."""

    def __init__(self, drive: Drive) -> None:
        self._drive = drive

    def __getattr__(self, name: str) -> Any:
        return getattr(self._drive, name)

    def write_block(self, data: bytes | bytearray | memoryview) -> None:
        raise WriteProtected(f"drive {self._drive.name}: a restore never writes to tape")

    def write_filemarks(self, count: int = 1) -> None:
        raise WriteProtected(f"drive {self._drive.name}: a restore never writes to tape")


@dataclass
class ReadStats:
    """What the drive did for a run: for the snapshot and for the measurements."""

    blocks_read: int = 0
    bytes_read: int = 0
    seeks: int = 0
    records_spaced: int = 0
    positioning: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.positioning.append(text)
        del self.positioning[:-50]

    def to_json(self) -> Json:
        return {"blocks_read": self.blocks_read, "bytes_read": self.bytes_read, "seeks": self.seeks,
                "records_spaced": self.records_spaced, "positioning": list(self.positioning)}


class _Misplaced(Exception):
    """The first header read after a fast positioning is not the one expected."""


class TapeReader:
    """Reads sets of the tape now in the drive. One per tape; the caller holds the drive."""

    def __init__(self, drive: Drive, block_size: int, cancel: threading.Event, stats: ReadStats,
                 *, can_seek: bool = True, can_space: bool = True) -> None:
        self.drive = drive
        self.read_size = tape_ops.read_buffer_size(block_size)
        self.cancel = cancel
        self.stats = stats
        self.can_seek = can_seek
        self.can_space = can_space
        drive.set_block_size(0)

    # ---- moving
    def go_to_file(self, number: int) -> None:
        """To the start of tape file `number`: forward over filemarks when the drive knows where it is,
        else rewind first."""
        status = self.drive.status()
        here = status.file_number
        if 0 <= here < UNKNOWN_FILE and number > here:
            try:
                self.drive.space_filemarks(number - here)
                return
            except (DriveIOError, BlankTape) as exc:
                raise Refused(f"tape file {number} does not exist on this tape ({exc})") from None
        if here == number and status.block_number == 0:
            return
        tape_ops.position_at_file(self.drive, number)

    def open_at(self, record: Json, wanted: int) -> tuple[int, str]:
        """Position at record `wanted` of the set; returns (the record positioned at, how)."""
        first_block = record.get("first_block")
        if first_block is not None and self.can_seek:
            try:
                self.drive.seek_block(first_block + wanted)
                self.stats.seeks += 1
                return wanted, f"seek to block {first_block + wanted}"
            except NotSupported:
                self.can_seek = False
                self.stats.note(f"drive {self.drive.name} cannot seek: spacing over filemarks instead")
            except DriveIOError as exc:
                self.stats.note(f"seek to block {first_block + wanted} failed ({exc}): spacing instead")
        self.go_to_file(record["file"])
        if wanted and self.can_space:
            try:
                self.drive.space_records(wanted)
                self.stats.records_spaced += wanted
                return wanted, f"file {record['file']}, {wanted} records spaced"
            except NotSupported:
                self.can_space = False
            except DriveIOError as exc:
                self.stats.note(f"spacing {wanted} records in file {record['file']} failed ({exc})")
            tape_ops.position_at_file(self.drive, record["file"])
        return 0, f"file {record['file']} from its start"

    def records(self) -> Iterator[bytes]:
        """The blocks of the tape file from here up to its filemark."""
        while True:
            if self.cancel.is_set():
                raise RunCancelled("cancelled by the operator")
            try:
                block = self.drive.read_block(self.read_size)
            except BlankTape:
                return
            if not block:
                return
            self.stats.blocks_read += 1
            self.stats.bytes_read += len(block)
            yield block

    # ---- reading
    def read_pieces(self, record: Json, pieces: list[Piece]) -> Iterator[tuple[Piece, SetMember]]:
        """The wanted pieces of one set, in tape order, as tar members whose data the caller reads
        (member.chunks) before asking for the next. Stops reading once the last one is through."""
        size = int(record.get("record_size") or 0)
        if size <= 0:
            raise Refused(f"set {record['id']}: the inventory has no record size for it")
        wanted = sorted(pieces, key=lambda p: p.header_offset)
        target = wanted[0].header_offset // size
        at, how = self.open_at(record, target)
        done: list[Piece] = []
        try:
            for found in self._walk(record, wanted, at, size, fast=at > 0):
                done.append(found[0])
                yield found
            self.stats.note(f"set {record['id']}: {how}")
            return
        except _Misplaced as exc:
            self.stats.note(f"set {record['id']}: {how} did not land on {wanted[0].name} ({exc}); "
                            "reading the set from its start")
        except TarFormatError as exc:
            if at == 0 or done:
                raise
            self.stats.note(f"set {record['id']}: {how} landed on no tar header ({exc}); "
                            "reading the set from its start")
        self.go_to_file(record["file"])
        yield from self._walk(record, wanted, 0, size, fast=False)

    def read_from(self, record: Json, pieces: list[Piece], skip: int, magic: bytes = b""
                  ) -> Iterator[tuple[Piece, SetMember]]:
        """Like read_pieces, but the first piece is read from `skip` bytes into its data (a frame of a
        file-tree archive starts there): positioned at the record holding that byte, with no header to
        check, so the first bytes must be `magic` (the frame's), else the set is read from its start.
        That first piece's SetMember has no sha256: its data is not read whole."""
        size = int(record.get("record_size") or 0)
        if size <= 0:
            raise Refused(f"set {record['id']}: the inventory has no record size for it")
        first, rest = pieces[0], pieces[1:]
        byte = first.data_offset + skip
        at, how = self.open_at(record, byte // size)
        cursor = RecordStream(self.records(), at * size)
        cursor.skip_to(byte)
        if magic and cursor.peek(len(magic)) != magic and at:
            self.stats.note(f"set {record['id']}: {how} found no frame at byte {byte}; reading the set from its start")
            self.go_to_file(record["file"])
            cursor = RecordStream(self.records(), 0)
            cursor.skip_to(byte)
        self.stats.note(f"set {record['id']}: {how}, frame at byte {byte} of {first.name}")
        length = first.size - skip
        yield first, SetMember(name=first.name, size=length, mtime=0.0, mode=0o644, typeflag=b"0",
                               header_offset=first.header_offset, data_offset=byte, chunks=cursor.pieces(length))
        if rest:
            yield from self.read_pieces(record, rest)

    def _walk(self, record: Json, wanted: list[Piece], at: int, size: int, *, fast: bool
              ) -> Iterator[tuple[Piece, SetMember]]:
        by_offset = {p.header_offset: p for p in wanted}
        left = dict(by_offset)
        first_header = wanted[0].header_offset if at else 0
        reader = TarSetReader(self.records(), start_offset=at * size, first_header=first_header)
        first = True
        for member in reader:
            piece = by_offset.get(member.header_offset)
            if first and fast and (piece is None or piece.name != member.name):
                raise _Misplaced(f"found {member.name!r}")
            first = False
            if member.name == MANIFEST_NAME:
                break
            if piece is None:
                continue
            if piece.name != member.name:
                raise Refused(f"set {record['id']}: the tape has {member.name!r} at offset {member.header_offset}, "
                              f"the inventory says {piece.name!r}")
            yield piece, member
            del left[piece.header_offset]
            if not left:
                return
        names = ", ".join(p.name for p in list(left.values())[:3])
        raise Refused(f"set {record['id']} ended before {len(left)} member(s) the inventory lists: {names}")
