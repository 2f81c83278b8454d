"""A byte cursor over a tape file's records: the set reader walks members with it, and a restore that seeks
to a frame starts one at that record and goes on at any byte after it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from console.engine.tapeformat.tar_headers import Buffer, TarFormatError


class RecordStream:
    def __init__(self, records: Iterable[Buffer], offset: int) -> None:
        self._records = iter(records)
        self._cur = memoryview(b"")
        self.offset = offset  # the tape-file offset of the next byte

    def _next_record(self) -> bool:
        for record in self._records:
            view = memoryview(record).cast("B")
            if len(view):
                self._cur = view
                return True
        return False

    def pieces(self, n: int) -> Iterator[memoryview]:
        """Exactly n bytes as views (valid until the next record is read); TarFormatError when the records
        end first."""
        while n:
            if not len(self._cur) and not self._next_record():
                raise TarFormatError(f"the tape file ends {n} bytes short, at offset {self.offset}")
            piece = self._cur[:n]
            self._cur = self._cur[len(piece) :]
            self.offset += len(piece)
            n -= len(piece)
            yield piece

    def read(self, n: int) -> bytes:
        return b"".join(bytes(p) for p in self.pieces(n))

    def skip(self, n: int) -> None:
        for _ in self.pieces(n):
            pass

    def skip_to(self, offset: int) -> None:
        if offset < self.offset:
            raise ValueError(f"cannot go back from {self.offset} to {offset}")
        self.skip(offset - self.offset)

    def peek(self, n: int) -> bytes:
        """The next n bytes (fewer at the end), without moving."""
        if not len(self._cur):
            self._next_record()
        if len(self._cur) >= n:
            return bytes(self._cur[:n])
        head = bytes(self._cur)
        rest = b""
        if self._next_record():  # the bytes straddle two records: join them and keep both
            rest = bytes(self._cur[: n - len(head)])
            self._cur = memoryview(head + bytes(self._cur))
        return head + rest

    def at_end(self) -> bool:
        return not len(self._cur) and not self._next_record()
