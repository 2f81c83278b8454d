"""The inner tar of a files job: directory trees walked and written as the tar GNU tar makes of them.

Each configured root (a mail store, a share...) goes into the inner tar under its own name, with paths
relative to the root, so extracting restores `mail/...` and `share/...`. The inner tar is what GNU tar
writes for such trees (ustar headers, pax records only where ustar falls short, padded to its 10 KiB
records). It comes out as fresh chunks of a fixed size, which the compression stage takes as they come.

While the tar is produced, every regular file's path, size, mtime and offsets in the uncompressed
inner tar go to `record` (the file index). A file that vanishes or cannot be opened is left out; one
that shrinks while being read is padded with zeros and one that grows is cut at the size its header
declares (as GNU tar does), so the tar stays valid; each such file gets a warning.
"""

from __future__ import annotations

import grp
import os
import pwd
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from console.engine.sources.file_reads import READERS, FileRead, Folder, ReadAhead, read_file
from console.engine.tapeformat.tar_headers import BLOCK, DIRTYPE, SYMTYPE, Buffer, tar_header

CHUNK_SIZE = 1 << 20  # tar bytes per chunk handed to the compression stage
INNER_RECORD = 10240  # GNU tar's default record (-b 20): the inner tar is padded to it
_NS = 1_000_000_000

Record = Callable[[str, int, float, int, int], None]


class FilesSourceError(Exception):
    """The source cannot run (bad root, pigz failed); str() is one line."""


@dataclass(frozen=True, slots=True)
class TreeRoot:
    name: str  # the top directory name inside the tar
    path: Path


@dataclass(frozen=True, slots=True)
class FileWarning:
    path: str  # as in the tar, e.g. "share/Finance/q3.xlsx"
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(slots=True)
class FilesStats:
    files: int = 0
    dirs: int = 0
    symlinks: int = 0
    file_bytes: int = 0  # file data put in the tar
    tar_bytes: int = 0  # uncompressed inner tar so far
    compressed_bytes: int = 0  # bytes of the compressed member handed out so far
    warnings: int = 0


def checked_roots(roots: Mapping[str, str | os.PathLike[str]] | Iterable[TreeRoot]) -> list[TreeRoot]:
    mapped = isinstance(roots, Mapping)
    items = [TreeRoot(name, Path(path)) for name, path in roots.items()] if mapped else list(roots)
    if not items:
        raise FilesSourceError("no directory trees configured")
    seen: set[str] = set()
    for root in items:
        if not root.name or "/" in root.name or root.name in (".", "..") or "\0" in root.name:
            raise FilesSourceError(f"bad root name {root.name!r}: one plain directory name")
        if root.name in seen:
            raise FilesSourceError(f"root name {root.name!r} used twice")
        seen.add(root.name)
        if not root.path.is_dir():
            raise FilesSourceError(f"root {root.name!r}: {root.path} is not a directory")
    return items


class _Owners:
    """uid/gid -> user/group names, cached."""

    def __init__(self) -> None:
        self._users: dict[int, str] = {}
        self._groups: dict[int, str] = {}

    def user(self, uid: int) -> str:
        name = self._users.get(uid)
        if name is None:
            try:
                name = pwd.getpwuid(uid).pw_name
            except KeyError:
                name = ""
            self._users[uid] = name
        return name

    def group(self, gid: int) -> str:
        name = self._groups.get(gid)
        if name is None:
            try:
                name = grp.getgrgid(gid).gr_name
            except KeyError:
                name = ""
            self._groups[gid] = name
        return name


class InnerTar:
    """Produces the uncompressed tar of the roots as chunks of `chunk_size` bytes (the last shorter).

    Each chunk is a fresh buffer, never touched again once handed out. File data is read straight
    into those buffers; zero padding costs nothing (new buffers are zeroed).
    """

    def __init__(
        self,
        roots: list[TreeRoot],
        *,
        chunk_size: int = CHUNK_SIZE,
        record: Record | None = None,
        warn: Callable[[FileWarning], None] | None = None,
        stats: FilesStats | None = None,
        readers: int = READERS,
    ) -> None:
        if chunk_size < BLOCK or chunk_size % BLOCK:
            raise ValueError("chunk size must be a multiple of 512")
        self._roots = roots
        self._readers = readers
        self._chunk = chunk_size
        self._record = record
        self._warn = warn
        self.stats = stats if stats is not None else FilesStats()
        self._owners = _Owners()
        self._buf = bytearray(chunk_size)
        self._pos = 0
        self._ready: list[Buffer] = []
        self.offset = 0

    # ---- output buffer
    def _roll(self) -> None:
        self._ready.append(self._buf)
        self._buf = bytearray(self._chunk)
        self._pos = 0

    def _append(self, data: bytes) -> None:
        n = len(data)
        if self._pos + n < self._chunk:
            self._buf[self._pos : self._pos + n] = data
            self._pos += n
        else:
            view = memoryview(data)
            while len(view):
                take = min(len(view), self._chunk - self._pos)
                self._buf[self._pos : self._pos + take] = view[:take]
                self._pos += take
                view = view[take:]
                if self._pos == self._chunk:
                    self._roll()
        self.offset += n

    def _zeros(self, n: int) -> None:
        self.offset += n
        while n:
            take = min(n, self._chunk - self._pos)
            self._pos += take
            n -= take
            if self._pos == self._chunk:
                self._roll()

    def _read_into(self, fd: int, size: int) -> int:
        """Read up to `size` bytes of the file straight into the output; returns how many came."""
        remaining = size
        while remaining:
            want = min(remaining, self._chunk - self._pos)
            got = os.readv(fd, [memoryview(self._buf)[self._pos : self._pos + want]])
            if got == 0:
                break
            self._pos += got
            self.offset += got
            remaining -= got
            if self._pos == self._chunk:
                self._roll()
        return size - remaining

    # ---- entries
    def _warning(self, path: str, message: str) -> None:
        self.stats.warnings += 1
        if self._warn is not None:
            self._warn(FileWarning(path, message))

    def _header(self, name: str, st: os.stat_result, size: int, typeflag: bytes, linkname: str = "") -> None:
        self._append(
            tar_header(
                name,
                size,
                mtime=st.st_mtime_ns // _NS,
                mode=stat.S_IMODE(st.st_mode),
                typeflag=typeflag,
                linkname=linkname,
                uid=st.st_uid,
                gid=st.st_gid,
                uname=self._owners.user(st.st_uid),
                gname=self._owners.group(st.st_gid),
            )
        )

    def _add_file(self, arcname: str, read: FileRead) -> None:
        """Archive one regular file from what a reader thread got of it."""
        if read.problem is not None:
            self._warning(arcname, read.problem)
            return
        st = read.st
        assert st is not None
        size = st.st_size
        header_offset = self.offset
        self._header(arcname, st, size, b"0")
        data_offset = self.offset
        if read.fd is not None:  # a large file: streamed straight into the output here
            try:
                try:
                    got = self._read_into(read.fd, size)
                    error = None
                except OSError as exc:
                    got = self.offset - data_offset
                    error = exc.strerror
                after = os.fstat(read.fd) if got == size else None
            finally:
                os.close(read.fd)
        else:
            assert read.data is not None
            got, error, after = read.got, read.error, read.after
            self._append(memoryview(read.data)[:got])
        if got < size:
            self._zeros(size - got)
            if error is not None:
                self._warning(arcname, f"read error at byte {got}: {error}; padded with zeros to {size}")
            else:
                self._warning(arcname, f"file shrank by {size - got} bytes; padded with zeros")
        elif after is not None:
            if after.st_size > size:
                self._warning(arcname, f"file grew by {after.st_size - size} bytes while read; cut at {size}")
            elif after.st_mtime_ns != st.st_mtime_ns:
                self._warning(arcname, "file changed as we read it")
        self._zeros(-size % BLOCK)
        self.stats.files += 1
        self.stats.file_bytes += size
        if self._record is not None:
            self._record(arcname, size, st.st_mtime_ns / _NS, header_offset, data_offset)

    def _add_entry(self, arcname: str, path: str, st: os.stat_result) -> bool:
        """Archive one entry other than a regular file; True when it is a directory to descend into."""
        mode = st.st_mode
        if stat.S_ISREG(mode):  # became a file between the directory listing and now
            self._add_file(arcname, read_file(path))
        elif stat.S_ISDIR(mode):
            self._header(arcname + "/", st, 0, DIRTYPE)
            self.stats.dirs += 1
            return True
        elif stat.S_ISLNK(mode):
            try:
                target = os.readlink(path)
            except OSError as exc:
                self._warning(arcname, f"cannot read link: {exc.strerror}; not archived")
                return False
            self._header(arcname, st, 0, SYMTYPE, linkname=target)
            self.stats.symlinks += 1
        else:
            kind = "socket" if stat.S_ISSOCK(mode) else "fifo" if stat.S_ISFIFO(mode) else "device"
            self._warning(arcname, f"{kind} ignored")
        return False

    def _scan(self, arcname: str, path: str) -> list[os.DirEntry[str]]:
        try:
            with os.scandir(path) as it:
                return sorted(it, key=lambda e: e.name)
        except FileNotFoundError:
            self._warning(arcname, "directory removed before we read it")
        except OSError as exc:
            self._warning(arcname, f"cannot read directory: {exc.strerror}")
        return []

    def _walk(self, root: TreeRoot, reads: ReadAhead) -> Iterator[None]:
        try:
            st = os.stat(root.path)
        except OSError as exc:
            self._warning(root.name, f"root {root.path} unreadable: {exc.strerror}; not archived")
            return
        self._header(root.name + "/", st, 0, DIRTYPE)
        self.stats.dirs += 1
        stack = [Folder(self._scan(root.name, str(root.path)), root.name)]
        while stack:
            folder = stack[-1]
            if folder.next == len(folder.entries):
                stack.pop()
                continue
            position = folder.next
            entry = folder.entries[position]
            reads.ahead(folder)
            folder.next += 1
            arcname = f"{folder.prefix}/{entry.name}"
            if folder.is_file(position):
                self._add_file(arcname, reads.take(entry.path))
                yield
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                self._warning(arcname, "file removed before we read it; not archived")
                continue
            except OSError as exc:
                self._warning(arcname, f"cannot stat: {exc.strerror}; not archived")
                continue
            if self._add_entry(arcname, entry.path, st):
                stack.append(Folder(self._scan(arcname, entry.path), arcname))
            yield

    def chunks(self) -> Iterator[Buffer]:
        with ReadAhead(self._readers) as reads:
            for root in self._roots:
                for _ in self._walk(root, reads):
                    if self._ready:
                        yield from self._ready
                        self._ready.clear()
        self._zeros(2 * BLOCK)
        self._zeros(-self.offset % INNER_RECORD)
        self.stats.tar_bytes = self.offset
        yield from self._ready
        self._ready.clear()
        if self._pos:
            yield memoryview(self._buf)[: self._pos]
