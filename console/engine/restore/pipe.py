"""A bounded pipe of byte chunks from the thread reading the tape to a thread consuming them.

The consumer reads it as a file (tarfile's stream mode) or iterates it (an HTTP upload body). The
producer's put() waits while the pipe is full, so the tape never runs ahead of the consumer by more than
`max_chunks`; once the consumer has closed its end, put() drops the data instead of waiting forever.
"""

from __future__ import annotations

import io
import queue
import threading
import time
import zlib
from collections.abc import Iterator

_END = object()


class PipeFailed(Exception):
    """The producer gave up mid-stream (a checksum failed, the tape broke): the consumer must not finish."""


class ChunkPipe(io.RawIOBase):
    def __init__(self, max_chunks: int = 32) -> None:
        super().__init__()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_chunks)
        self._head = memoryview(b"")
        self._ended = False
        self._waiting = threading.Event()  # set while the consumer waits for data it has not got
        self._reader_gone = False

    # ---- producer
    def put(self, data: bytes) -> None:
        self._put(data)

    def finish(self) -> None:
        """No more data: the consumer sees end of stream."""
        self._put(_END)

    def fail(self, reason: str) -> None:
        """The consumer's next read raises PipeFailed(reason)."""
        self._put(PipeFailed(reason))

    def _put(self, item: object) -> None:
        while not self._reader_gone:
            try:
                self._queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    # ---- consumer
    def close_reader(self) -> None:
        """The consumer stops reading: let a waiting producer go."""
        self._reader_gone = True
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    def caught_up(self, timeout: float) -> bool:
        """Wait until the consumer has taken everything put so far and waits for more (or has stopped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._reader_gone or self._ended or (self._queue.empty() and self._waiting.is_set()):
                return True
            time.sleep(0.002)
        return False

    def _next(self) -> bool:
        if self._ended:
            return False
        if self._queue.empty():
            self._waiting.set()
        item = self._queue.get()
        self._waiting.clear()
        if item is _END:
            self._ended = True
            return False
        if isinstance(item, PipeFailed):
            self._ended = True
            raise item
        assert isinstance(item, bytes)
        self._head = memoryview(item)
        return True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not len(self._head):
            if not self._next():
                return 0
        n = min(len(buffer), len(self._head))
        buffer[:n] = self._head[:n]
        self._head = self._head[n:]
        return n

    def chunks(self) -> Iterator[bytes]:
        """The data as it comes, for an upload body."""
        if len(self._head):
            yield bytes(self._head)
            self._head = memoryview(b"")
        while self._next():
            yield bytes(self._head)
            self._head = memoryview(b"")


class Gunzip(io.RawIOBase):
    """The uncompressed bytes of a gzip stream read from `source`, concatenated members included (the
    files source writes one gzip member per MiB when pigz is missing; tarfile's own "r|gz" stops after the
    first)."""

    def __init__(self, source: io.RawIOBase, chunk: int = 1 << 20) -> None:
        super().__init__()
        self._source = source
        self._chunk = chunk
        self._inflate = zlib.decompressobj(wbits=31)
        self._pending = b""  # compressed bytes read but not yet inflated
        self._in_member = False
        self._out = memoryview(b"")
        self._eof = False
        self.compressed = 0  # bytes of gzip read
        self.offset = 0  # bytes of uncompressed data handed out

    def readable(self) -> bool:
        return True

    def _fill(self) -> bool:
        while not len(self._out):
            if self._eof:
                return False
            if self._pending:
                data, self._pending = self._pending, b""
            else:
                data = self._source.read(self._chunk)
                if not data:
                    if self._in_member:
                        raise EOFError(f"the gzip stream ends in the middle, after {self.compressed} bytes")
                    self._eof = True
                    return False
                self.compressed += len(data)
            if not self._in_member and not data.strip(b"\0"):
                continue  # zeros after the last member, as gzip itself ignores them
            out = self._inflate.decompress(data, self._chunk)
            self._in_member = True
            if self._inflate.eof:
                self._pending = self._inflate.unused_data
                self._inflate = zlib.decompressobj(wbits=31)
                self._in_member = False
            else:
                self._pending = self._inflate.unconsumed_tail
            self._out = memoryview(out)
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if not self._fill():
            return 0
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        self.offset += n
        return n
