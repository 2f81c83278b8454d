"""Member parts: a stream too long (or of unknown length) for one tar member, cut into members.

A tar header states the member's size before its data. A stream whose length is known and at most
`part_size` becomes one member under its own name; anything else becomes `NAME.part0001`,
`NAME.part0002`, ..., each of a size known when its header is written and only the last one shorter,
so a restore is `cat NAME.part* > NAME`. Parts are also where a set can close when a tape fills: the
next tape's set continues with the next part.

Chunks are kept by reference, never copied: a source must not reuse a buffer it has yielded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from console.engine.tarset import Buffer, MemberLengthError, MemberRecord, TarSetWriter

DEFAULT_PART_SIZE = 1 << 30  # 1 GiB: buffered in memory for streams of unknown length
PART_DIGITS = 4
MAX_PARTS = 10**PART_DIGITS - 1  # beyond this `cat NAME.part*` would no longer sort in order
_PART_RE = re.compile(rf"^(?P<base>.+)\.part(?P<number>\d{{{PART_DIGITS}}})$")


class TooManyParts(ValueError):
    """The stream needs more than MAX_PARTS parts: the part size is too small for it."""


def part_name(name: str, number: int) -> str:
    """'backup.tar.gz', 3 -> 'backup.tar.gz.part0003'."""
    if not 1 <= number <= MAX_PARTS:
        raise TooManyParts(f"{name}: part {number} is beyond part{MAX_PARTS:0{PART_DIGITS}d}; use larger parts")
    return f"{name}.part{number:0{PART_DIGITS}d}"


def parse_part_name(member_name: str) -> tuple[str, int] | None:
    """'backup.tar.gz.part0003' -> ('backup.tar.gz', 3); None for a member that is not a part."""
    match = _PART_RE.match(member_name)
    if match is None:
        return None
    return match["base"], int(match["number"])


@dataclass(slots=True)
class MemberPart:
    """One member to write: the whole stream (`number` 0) or one of its parts (1, 2, ...).

    `chunks` add up to `size` bytes. Buffered parts hold a list that can be iterated again (to write
    the part once more on the next tape); parts of a known-length stream are single-pass iterators.
    """

    name: str
    base_name: str
    number: int
    size: int
    chunks: Iterable[Buffer]

    @property
    def whole(self) -> bool:
        return self.number == 0


def buffered_parts(name: str, chunks: Iterable[Buffer], part_size: int = DEFAULT_PART_SIZE) -> Iterator[MemberPart]:
    """Cut a stream of unknown length into parts of exactly `part_size` bytes (the last one shorter or
    equal), holding each part's chunks until its size is known. A stream of at most `part_size` bytes
    becomes one member named `name`."""
    if part_size <= 0:
        raise ValueError("part size must be positive")
    number = 0
    held: list[Buffer] = []
    filled = 0
    for chunk in chunks:
        view = memoryview(chunk).cast("B")
        while len(view):
            if filled == part_size:  # a full part, and more data follows: it is a part, not the whole
                number += 1
                yield MemberPart(part_name(name, number), name, number, filled, held)
                held, filled = [], 0
            take = min(len(view), part_size - filled)
            held.append(view if take == len(view) else view[:take])
            filled += take
            view = view[take:]
    if number == 0:
        yield MemberPart(name, name, 0, filled, held)
    else:
        number += 1
        yield MemberPart(part_name(name, number), name, number, filled, held)


class _Cursor:
    """Hands out consecutive byte ranges of a chunk stream as views."""

    def __init__(self, chunks: Iterable[Buffer]) -> None:
        self._chunks = iter(chunks)
        self._rest = memoryview(b"")

    def take(self, n: int) -> Iterator[memoryview]:
        while n:
            if not len(self._rest):
                chunk = next(self._chunks, None)
                if chunk is None:
                    return
                self._rest = memoryview(chunk).cast("B")
                continue
            piece = self._rest[:n]
            self._rest = self._rest[len(piece) :]
            n -= len(piece)
            yield piece

    def extra(self) -> int:
        """Bytes left after everything taken (reads at most one more chunk)."""
        if len(self._rest):
            return len(self._rest)
        for chunk in self._chunks:
            size = len(memoryview(chunk).cast("B"))
            if size:
                self._rest = memoryview(chunk).cast("B")
                return size
        return 0


def sized_parts(
    name: str, size: int, chunks: Iterable[Buffer], part_size: int = DEFAULT_PART_SIZE
) -> Iterator[MemberPart]:
    """Parts of a stream whose length is known up front: nothing is buffered.

    When the stream turns out shorter, the writer's end_member() raises MemberLengthError for the
    part that ran short; when longer, the last part's chunks raise MemberLengthError(at_least) after
    its last byte (the writer leaves that member open; see TarSetWriter.abort_member()).
    """
    if part_size <= 0:
        raise ValueError("part size must be positive")
    if size < 0:
        raise ValueError("negative size")
    count = max(1, -(-size // part_size))
    if count > MAX_PARTS:
        raise TooManyParts(f"{name}: {size} bytes need {count} parts of {part_size}; use larger parts")
    cursor = _Cursor(chunks)

    def last(n: int) -> Iterator[memoryview]:
        yield from cursor.take(n)
        extra = cursor.extra()
        if extra:
            raise MemberLengthError(name, size, size + extra, at_least=True)

    if count == 1:
        yield MemberPart(name, name, 0, size, last(size))
        return
    for number in range(1, count + 1):
        part = min(part_size, size - (number - 1) * part_size)
        pieces = last(part) if number == count else cursor.take(part)
        yield MemberPart(part_name(name, number), name, number, part, pieces)


def write_parts(
    writer: TarSetWriter, parts: Iterable[MemberPart], *, mtime: float | int | None = None, mode: int = 0o644
) -> list[MemberRecord]:
    """Write every part as a member; returns their records."""
    return [writer.add_member(p.name, p.size, p.chunks, mtime=mtime, mode=mode) for p in parts]
