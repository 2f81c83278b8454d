"""Carrying out a restore plan: tape after tape, set after set, each wanted piece streamed into the target.

Pieces come off the tape in order; a member's pieces may span sets and tapes, so the target keeps it open
across a tape change. Every piece's data is hashed as it streams and checked against the sha256 the
inventory recorded; a member with a bad piece is not kept (a folder target drops it, an XO upload is
abandoned). The caller holds the drive.
"""

from __future__ import annotations

from typing import Any

from console.engine.drives.base import Drive
from console.engine.restore.catalog import Member, Piece
from console.engine.restore.frame_seek import FRAME_MAGIC
from console.engine.restore.plan import Plan
from console.engine.restore.progress import TapeRun
from console.engine.restore.reader import TapeReader
from console.engine.restore.sink import RestoreTarget, TargetRefused
from console.engine.restore.tapes import TapeHandler, WantedTape
from console.engine.tapeformat.tar_reader import SetMember

Json = dict[str, Any]


FILE_TYPES = (b"0", b"\0", b"7")  # regular (and contiguous) tar members: the only ones a set writes
TYPE_NAMES = {b"1": "a hard link", b"2": "a symlink", b"3": "a character device", b"4": "a block device",
              b"5": "a folder", b"6": "a fifo"}


def not_a_file(found: SetMember) -> str | None:
    """Why a member on tape cannot be restored as a file (a link, a device...), or None when it can."""
    if found.typeflag in FILE_TYPES:
        return None
    kind = TYPE_NAMES.get(found.typeflag, f"a member of tar type {found.typeflag.decode('latin-1')!r}")
    target = f" to {found.linkname!r}" if found.linkname else ""
    return f"{kind}{target} on tape, not a file: not restored"


class RestoreRunner:
    def __init__(self, plan: Plan, target: RestoreTarget, run: TapeRun, tapes: TapeHandler, drive: Drive,
                 block_size: int) -> None:
        self.plan = plan
        self.target = target
        self.run = run
        self.tapes = tapes
        self.drive = drive
        self.block_size = block_size
        self.owner: dict[tuple[int, int], Member] = {
            (p.set_id, p.header_offset): m for m in plan.members for p in m.pieces
        }
        self.skipped: set[str] = set()
        self.open: Member | None = None
        self.can_seek = True
        self.can_space = True

    def execute(self) -> None:
        """Restore everything planned; raises on what stops the whole run (the open member is dropped)."""
        try:
            for step in self.plan.tapes:
                self.run.tape = step.label or step.barcode
                self.tapes.ensure(WantedTape(step.barcode, step.label, step.label_uuid))
                reader = TapeReader(self.drive, self.block_size, self.run.cancel, self.run.stats,
                                    can_seek=self.can_seek, can_space=self.can_space)
                for read in step.sets:
                    self.run.set_id = read.record["id"]
                    for i, segment in enumerate(read.segments):
                        skip = read.start_skip if i == 0 else 0
                        if self._read_segment(reader, read.record, segment, skip):
                            return
                self.can_seek, self.can_space = reader.can_seek, reader.can_space
        except BaseException as exc:
            if self.open is not None:
                self.target.abort(self.open, str(exc) or exc.__class__.__name__)
                self.run.results.append({"name": self.open.name, "ok": False,
                                         "problem": f"not finished: {exc}"})
                self.open = None
            raise
        finally:
            self.run.results += self.target.close()
            self.run.refused = list(self.target.refused)
            self.run.notes += self.target.notes

    def _read_segment(self, reader: TapeReader, record: Json, segment: list[Piece], skip: int = 0) -> bool:
        """Returns True when the target has everything it asked for (the rest need not be read). With
        `skip`, the first piece is read from that many bytes into its data (a frame of an archive)."""
        if skip:
            found_pieces = reader.read_from(record, segment, skip, FRAME_MAGIC.get(self._archive_name(segment), b""))
        else:
            found_pieces = reader.read_pieces(record, segment)
        for piece, found in found_pieces:
            member = self.owner[(piece.set_id, piece.header_offset)]
            if member.name in self.skipped:
                continue
            if piece is member.pieces[0]:
                unfit = not_a_file(found)
                if unfit:
                    self.target.refused.append({"name": member.name, "why": unfit})
                    self.skipped.add(member.name)
                    continue
                try:
                    self.target.begin(member, found.mtime)
                except TargetRefused:
                    self.skipped.add(member.name)
                    continue
                self.open = member
            elif unfit := not_a_file(found):
                self.target.piece_done(member, piece, f"{piece.name}: {unfit}")
                if piece is member.pieces[-1]:
                    self._finish(member)
                continue
            self.run.member = member.name
            for chunk in found.chunks:
                self.target.write(chunk)
                self.run.add_bytes(len(chunk))
                if self.target.satisfied:
                    break
            if self.target.satisfied:
                self._finish(member)
                self.run.stopped_early = True
                self.run.note("every file asked for is restored: the rest of the archive was not read")
                return True
            problem = None
            if found.sha256 is None:  # read from a frame on, not whole: the frames carry their own checks
                self.run.note(f"{piece.name}: read from byte {found.data_offset - piece.data_offset} on, so its "
                              "sha256 is not checked; the archive's frame checksums are")
                if found.data_offset + found.size != piece.data_offset + piece.size:
                    problem = (f"{piece.name} on tape ends at byte {found.data_offset + found.size}, the inventory "
                               f"says {piece.data_offset + piece.size}")
            elif found.size != piece.size:
                problem = (f"{piece.name} on tape holds {found.size} bytes, the inventory says {piece.size}")
            elif found.sha256 != piece.sha256:
                problem = (f"{piece.name} on tape does not match its sha256 "
                           f"(tape {found.sha256}, inventory {piece.sha256})")
            self.target.piece_done(member, piece, problem)
            if piece is member.pieces[-1]:
                self._finish(member)
        return False

    def _archive_name(self, segment: list[Piece]) -> str:
        return self.owner[(segment[0].set_id, segment[0].header_offset)].name

    def _finish(self, member: Member) -> None:
        self.run.results.append(self.target.finish(member))
        self.open = None
