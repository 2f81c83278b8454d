"""Reading the files of a tree ahead of the tar writer, on a few threads.

A maildir holds millions of small files: opening, reading and closing each one costs system calls that
would otherwise run one after the other in the thread writing the tar. Here reader threads (system calls
release the GIL) open, fstat and read the next files of the folder being archived while the tar writer
works on the current one, so the disk and the page cache are kept busy and the tar writer only copies.
A file larger than SMALL_FILE is only opened ahead: the tar writer streams it from the open descriptor.
"""

from __future__ import annotations

import os
import stat
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from types import TracebackType

READERS = 4  # threads reading ahead
LOOKAHEAD = 256  # entries of the current folder read ahead
BATCH = 32  # files per reader task
SMALL_FILE = 1 << 20  # read whole ahead up to this size; larger ones are streamed by the tar writer


@dataclass(slots=True)
class FileRead:
    """What a reader got of one file: a problem (not archived), or its stat and data or open descriptor."""

    problem: str | None = None
    st: os.stat_result | None = None
    data: bytearray | None = None
    got: int = 0
    error: str | None = None  # a read error after `got` bytes
    after: os.stat_result | None = None  # fstat once read, to see it grew or changed
    fd: int | None = None  # a large file, open, for the tar writer to stream


def _open(path: str) -> int | str:
    """A read-only descriptor, or the warning saying why there is none."""
    try:
        return os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NOATIME | os.O_CLOEXEC)
    except PermissionError:  # O_NOATIME needs ownership; retry without it
        try:
            return os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            return f"cannot open: {exc.strerror}; not archived"
    except FileNotFoundError:
        return "file removed before we read it; not archived"
    except OSError as exc:
        return f"cannot open: {exc.strerror}; not archived"


def read_file(path: str) -> FileRead:
    fd = _open(path)
    if isinstance(fd, str):
        return FileRead(problem=fd)
    keep_open = False
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return FileRead(problem="replaced by something else than a file while archiving; not archived")
        if st.st_size > SMALL_FILE:
            keep_open = True
            return FileRead(st=st, fd=fd)
        data = bytearray(st.st_size)
        view = memoryview(data)
        got, error = 0, None
        try:
            while got < st.st_size:
                n = os.readv(fd, [view[got:]])
                if n == 0:
                    break
                got += n
        except OSError as exc:
            error = exc.strerror
        after = os.fstat(fd) if got == st.st_size else None
        return FileRead(st=st, data=data, got=got, error=error, after=after)
    finally:
        if not keep_open:
            os.close(fd)


@dataclass(slots=True)
class Folder:
    """A folder being archived: its entries in tar order, the next one to archive."""

    entries: list[os.DirEntry[str]]
    prefix: str
    next: int = 0
    submitted: int = 0  # entries up to here have been looked at for reading ahead
    files: set[int] = field(default_factory=set)  # positions of its regular files

    def is_file(self, position: int) -> bool:
        """Whether the entry at `position` is a regular file (as the listing said, read ahead)."""
        return position in self.files


class ReadAhead:
    """Reader threads and the reads they have under way. Files are read in batches of BATCH (one task
    each: a future per file would cost more than reading a small file from the page cache)."""

    def __init__(self, threads: int = READERS, lookahead: int = LOOKAHEAD) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="tree-read") if threads else None
        self._lookahead = lookahead
        self._pending: dict[str, Future[dict[str, FileRead]]] = {}
        self._done: dict[str, FileRead] = {}

    def ahead(self, folder: Folder) -> None:
        """Start reading the regular files among the next entries of the folder."""
        if folder.submitted > folder.next + self._lookahead // 2:
            return
        end = min(len(folder.entries), folder.next + (self._lookahead if self._pool is not None else 1))
        batch: list[str] = []
        while folder.submitted < end:
            entry = folder.entries[folder.submitted]
            try:
                regular = entry.is_file(follow_symlinks=False)
            except OSError:
                regular = False
            if regular:
                folder.files.add(folder.submitted)
                batch.append(entry.path)
            folder.submitted += 1
            if len(batch) == BATCH or (batch and folder.submitted == end):
                self._submit(batch)
                batch = []

    def _submit(self, paths: list[str]) -> None:
        if self._pool is None:
            return
        future = self._pool.submit(_read_batch, paths)
        for path in paths:
            self._pending[path] = future

    def take(self, path: str) -> FileRead:
        read = self._done.pop(path, None)
        if read is not None:
            return read
        future = self._pending.pop(path, None)
        if future is None:
            return read_file(path)
        reads = future.result()
        for other in reads:
            if other != path:
                self._pending.pop(other, None)
                self._done[other] = reads[other]
        return reads[path]

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        futures = {id(f): f for f in self._pending.values()}.values()
        leftovers = list(self._done.values())
        for future in futures:  # abandoned: close what was opened for streaming
            if not future.cancel():
                leftovers += future.result().values()
        for read in leftovers:
            if read.fd is not None:
                os.close(read.fd)
        self._pending.clear()
        self._done.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)


def _read_batch(paths: list[str]) -> dict[str, FileRead]:
    return {path: read_file(path) for path in paths}
