"""A byte cursor over tape records: reading starts at a record and continues at any byte after it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from console.engine.tapeformat.tar_headers import Buffer, TarFormatError


class RecordCursor:
    def __init__(self, records: Iterable[Buffer], offset: int) -> None:
        self._records = iter(records)
        self._cur = memoryview(b"")
        self.offset = offset  # the tape-file offset of the next byte

    def _fill(self) -> bool:
        for record in self._records:
            view = memoryview(record).cast("B")
            if len(view):
                self._cur = view
                return True
        return False

    def take(self, n: int) -> Iterator[memoryview]:
        """Exactly n bytes as views; TarFormatError when the tape file ends first."""
        while n:
            if not len(self._cur) and not self._fill():
                raise TarFormatError(f"the tape file ends {n} bytes short, at offset {self.offset}")
            piece = self._cur[:n]
            self._cur = self._cur[len(piece):]
            self.offset += len(piece)
            n -= len(piece)
            yield piece

    def skip_to(self, offset: int) -> None:
        if offset < self.offset:
            raise ValueError(f"cannot go back from {self.offset} to {offset}")
        for _ in self.take(offset - self.offset):
            pass

    def peek(self, n: int) -> bytes:
        """The next n bytes (fewer at the end), without moving."""
        if not len(self._cur):
            self._fill()
        if len(self._cur) >= n:
            return bytes(self._cur[:n])
        head = bytes(self._cur)
        rest = b""
        if self._fill():  # the bytes straddle two records: join them and keep both
            rest = bytes(self._cur[: n - len(head)])
            self._cur = memoryview(head + bytes(self._cur))
        return head + rest
