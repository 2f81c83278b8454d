"""Starting a file-tree restore at the frame holding the first file wanted, not at the archive's start.

A files job writes its archive as independent compressed frames and records where each begins (the
frame table, next to the file index). When the operator asks for some paths and the file index knows
where they are in the inner tar, the restore reads from the frame holding the first one's header: the
plan drops the pieces before it and starts inside the piece holding the frame, the reader positions
at that frame's tape record, and the archive is decompressed from that frame on. The file index's
count of matching files stops the reading once they are all out. Without a frame table (tapes written
before frames), or without globs, the archive is read from its start as before.
"""

from __future__ import annotations

from dataclasses import dataclass

from console.engine.inventory.frame_table import ArchiveFrame, FrameTable
from console.engine.restore.catalog import Member, Piece
from console.engine.restore.plan import Plan, SetRead, segments_of

# The first bytes of a frame, to check a seek landed on one: zstd's magic number, gzip's.
FRAME_MAGIC = {"backup.tar.zst": b"\x28\xb5\x2f\xfd", "backup.tar.gz": b"\x1f\x8b", "backup.tar": b""}


@dataclass(frozen=True, slots=True)
class ArchiveStart:
    """Where a restore starts reading an archive: inside `piece`, `skip` bytes into its data."""

    piece: Piece
    skip: int
    frame: ArchiveFrame
    inner_skip: int  # inner-tar bytes from the frame's start to the first wanted header

    @property
    def magic(self) -> bytes:
        return FRAME_MAGIC.get(self.piece.name.split(".part", 1)[0], b"")


@dataclass(frozen=True, slots=True)
class ArchiveMatch:
    """What the file index says about a restore of some paths: how many files match, where to start."""

    files: int
    start: ArchiveStart | None


def archive_start(member: Member, frames: FrameTable, archive: str, first_header: int) -> ArchiveStart | None:
    """Where to start reading `member` for a file whose header is at `first_header` in the inner tar;
    None when the archive has no frame table or the start is its very beginning."""
    frame = frames.frame_holding(archive, first_header)
    if frame is None or (frame.packed_offset == 0 and first_header == frame.tar_offset == 0):
        return None
    for piece in member.pieces:
        if piece.part_offset <= frame.packed_offset < piece.part_offset + piece.size:
            return ArchiveStart(piece, frame.packed_offset - piece.part_offset, frame, first_header - frame.tar_offset)
    return None


def start_at(plan: Plan, start: ArchiveStart) -> None:
    """Change `plan` to read its archive from `start`: earlier pieces, sets and tapes are left out."""
    [member] = plan.members
    index = member.pieces.index(start.piece)
    plan.members = [Member(member.name, member.pieces[index:])]
    wanted = {(p.set_id, p.header_offset) for p in member.pieces[index:]}
    tapes = []
    for step in plan.tapes:
        reads = []
        for read in step.sets:
            pieces = [p for p in read.pieces if (p.set_id, p.header_offset) in wanted]
            if not pieces:
                continue
            skip = start.skip if pieces[0] is start.piece else 0
            reads.append(SetRead(read.record, pieces, segments_of(pieces), start_skip=skip))
        if reads:
            step.sets = reads
            tapes.append(step)
    plan.tapes = tapes
