"""The inner tar of a file-tree archive as it streams off the tape: decompressed by the member's codec.

`backup.tar.zst` is read with zstandard across all its frames (the files job writes one per stretch of
the tar), `backup.tar.gz` with Gunzip (every member of a concatenated gzip stream), `backup.tar` as it
is. A restore that starts at a frame gives the bytes from that frame on and drops the first `skip`
bytes of inner tar, so tarfile meets a header first.
"""

from __future__ import annotations

import io

import zstandard

from console.engine.restore.pipe import Gunzip

_CHUNK = 1 << 20


class _Skipping(io.RawIOBase):
    """`source` less its first `skip` bytes."""

    def __init__(self, source: io.RawIOBase | io.BufferedIOBase, skip: int) -> None:
        super().__init__()
        self._source = source
        self._skip = skip

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while self._skip:
            data = self._source.read(min(self._skip, _CHUNK))
            if not data:
                raise EOFError(f"the archive ends {self._skip} bytes before the file wanted")
            self._skip -= len(data)
        data = self._source.read(len(buffer))
        if not data:
            return 0
        buffer[: len(data)] = data
        return len(data)


def inner_tar(member_name: str, source: io.RawIOBase, skip: int = 0) -> io.RawIOBase:
    """The uncompressed inner tar of archive `member_name` read from `source`, less its first `skip` bytes."""
    stream: io.RawIOBase | io.BufferedIOBase
    if member_name.endswith(".zst"):
        reader = zstandard.ZstdDecompressor().stream_reader(source, read_size=_CHUNK, read_across_frames=True,
                                                            closefd=False)
        stream = reader  # type: ignore[assignment]
    elif member_name.endswith(".gz"):
        stream = Gunzip(source)
    else:
        stream = source
    return _Skipping(stream, skip) if skip else stream  # type: ignore[return-value]
