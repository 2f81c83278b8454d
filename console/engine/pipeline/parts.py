"""Cutting source streams into tar members whose size is known before their header is written.

A member that fits where it starts is written whole under its name. Otherwise it becomes
NAME.part0001, NAME.part0002, ... (restore: `cat NAME.part* > NAME`). Parts are also where a set
closes when a tape fills: the next tape's set continues with the next part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

MAX_PARTS = 9999  # NAME.part0001 .. NAME.part9999: beyond, `cat NAME.part*` would not sort in order


class SourceStreamError(Exception):
    """A source stream ended short or ran long; str() names the member and the byte offset."""


@dataclass
class SourceMember:
    """One thing a source wants on tape."""

    name: str  # path inside the set, e.g. "vms/dc01/disk0-<uuid>.vhd"
    length: int | None  # None when only the end of the stream tells (compressed archives)
    open: Callable[[], Iterable[bytes]]  # opened when the member's turn comes
    source: str  # where it came from, for the manifest (e.g. "xo:vdi/<uuid>")
    mtime: float | None = None
    estimate: int | None = None  # expected size when length is None, for progress and ETA
    extra: dict = field(default_factory=dict)  # more manifest fields (vm, vdi, parent, ...)


class ChunkReader:
    """Reads exact byte counts from an iterator of chunks of any size."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._head = memoryview(b"")
        self._ended = False
        self.consumed = 0

    def _fill(self) -> bool:
        while not self._head:
            if self._ended:
                return False
            try:
                self._head = memoryview(next(self._chunks))
            except StopIteration:
                self._ended = True
                return False
        return True

    def at_end(self) -> bool:
        return not self._fill()

    def take(self, count: int) -> Iterator[memoryview]:
        """Yield up to `count` bytes (less only when the stream ends)."""
        left = count
        while left > 0 and self._fill():
            piece = self._head[:left]
            self._head = self._head[len(piece):]
            left -= len(piece)
            self.consumed += len(piece)
            yield piece

    def read_up_to(self, count: int) -> bytearray:
        out = bytearray()
        for piece in self.take(count):
            out += piece
        return out

    def close(self) -> None:
        closer = getattr(self._chunks, "close", None)
        if closer is not None:
            closer()


@dataclass
class Part:
    """One tar member to write now."""

    name: str
    length: int
    chunks: Iterable[bytes | memoryview]
    member: SourceMember
    index: int  # 0 when the member is written whole, else 1, 2, ...
    offset: int  # where in the source member this part starts
    last: bool  # the member is complete after this part


class MemberCursor:
    """Walks the source members in order and hands out parts no larger than a given limit."""

    def __init__(self, members: Iterable[SourceMember]) -> None:
        self._members = iter(members)
        self._current: SourceMember | None = None
        self._reader: ChunkReader | None = None
        self._next_index = 0
        self._offset = 0
        self._pending_check: tuple[SourceMember, ChunkReader, int] | None = None

    @property
    def current(self) -> SourceMember | None:
        return self._current

    @property
    def in_member(self) -> bool:
        """A member was started and not finished (the next part continues it)."""
        return self._current is not None and self._next_index > 1

    def _verify_finished(self) -> None:
        """A known-length member whose last part was written must not have more data behind it."""
        if self._pending_check is None:
            return
        member, reader, length = self._pending_check
        self._pending_check = None
        if not reader.at_end():
            reader.close()
            raise SourceStreamError(f"{member.name}: the stream ran long: more than the {length} bytes announced")
        reader.close()

    def has_more(self) -> bool:
        self._verify_finished()
        if self._current is not None:
            return True
        try:
            self._current = next(self._members)
        except StopIteration:
            return False
        self._reader = None
        self._next_index = 0
        self._offset = 0
        return True

    def next_part(self, limit: int) -> Part:
        if limit <= 0:
            raise ValueError("part limit must be positive")
        if not self.has_more():
            raise StopIteration
        member = self._current
        assert member is not None
        if self._reader is None:
            stream = member.open()
            if member.length is None:  # e.g. a VHD export: its length is known once its head arrived
                member.length = getattr(stream, "length", None)
            self._reader = ChunkReader(stream)
        reader = self._reader
        first = self._next_index == 0
        if self._next_index > MAX_PARTS:
            raise SourceStreamError(f"{member.name}: more than {MAX_PARTS} parts: raise part_mib for this job")
        if member.length is not None:
            left = member.length - self._offset
            size = min(left, limit)
            last = size == left
            index = 0 if first and last else self._next_index or 1
            part = Part(
                name=_part_name(member.name, index), length=size,
                chunks=_checked(reader.take(size), size, member, self._offset),
                member=member, index=index, offset=self._offset, last=last,
            )
            if last:
                self._pending_check = (member, reader, member.length)
        else:
            data = reader.read_up_to(limit)
            last = reader.at_end()
            index = 0 if first and last else self._next_index or 1
            part = Part(
                name=_part_name(member.name, index), length=len(data), chunks=[memoryview(data)],
                member=member, index=index, offset=self._offset, last=last,
            )
            if last:
                reader.close()
        self._offset += part.length
        self._next_index = index + 1 if index else 2
        if part.last:
            self._current = None
            self._reader = None
        return part

    def abandon(self) -> None:
        """Close the stream of the member in progress (the set failed)."""
        if self._reader is not None:
            self._reader.close()
        self._current = None
        self._reader = None


def _part_name(name: str, index: int) -> str:
    return name if index == 0 else f"{name}.part{index:04d}"


def _checked(pieces: Iterator[memoryview], size: int, member: SourceMember, offset: int) -> Iterator[memoryview]:
    got = 0
    for piece in pieces:
        got += len(piece)
        yield piece
    if got != size:
        raise SourceStreamError(
            f"{member.name}: the stream ended short at byte {offset + got} of {member.length}"
        )
