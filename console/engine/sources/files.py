"""The `files` source: directory trees as one compressed tar stream, `backup.tar.gz`.

Each configured root (a mail store, a share...) goes into the inner tar under its own name, with paths
relative to the root, so `tar -xzf backup.tar.gz` restores `mail/...` and `share/...`. The inner tar is
what GNU tar writes for such trees (ustar headers, pax records only where ustar falls short, padded to
its 10 KiB records), and the gzip stream is one `tar -z` reads:
- with `pigz -p N` (a subprocess, fed from a thread) when pigz is installed;
- otherwise with zlib in a thread pool (zlib releases the GIL): each 1 MiB of tar is compressed on its
  own into a complete gzip member, and the members are concatenated, which gzip reads as one stream.
  A chunk whose samples do not shrink at all (photos, archives) is stored rather than compressed.
The compressed stream runs up to READAHEAD_BYTES ahead of its consumer in a thread, so compression
goes on while the consumer hashes and writes a whole part.

While the tar is produced, every regular file's path, size, mtime and offsets in the uncompressed
inner tar go to the file index. A file that vanishes or cannot be opened is left out; one that shrinks
while being read is padded with zeros and one that grows is cut at the size its header declares (as
GNU tar does), so the tar stays valid; each such file gets a warning.
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import threading
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from console.engine.inventory.file_index import FileIndex, IndexWriter
from console.engine.tapeformat.tar_headers import BLOCK, DIRTYPE, SYMTYPE, Buffer, tar_header

MEMBER_NAME = "backup.tar.gz"
CHUNK_SIZE = 1 << 20  # tar bytes per chunk; each becomes one gzip member in thread mode
INNER_RECORD = 10240  # GNU tar's default record (-b 20): the inner tar is padded to it
DEFAULT_LEVEL = 1  # level 6 costs ~1.6x the CPU for ~4% less output on office data: tape wants speed
MAX_SUMMARY_WARNINGS = 200
READAHEAD_BYTES = 256 << 20  # compressed data kept ready while the consumer writes a part
SAMPLES, SAMPLE_SIZE, STORE_RATIO = 4, 8192, 0.98
_F_SETPIPE_SZ = 1031
_NS = 1_000_000_000

Compressor = Literal["auto", "pigz", "threads"]
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
    compressed_bytes: int = 0  # backup.tar.gz bytes handed out so far
    warnings: int = 0


def pigz_path() -> str | None:
    return shutil.which("pigz")


def _roots(roots: Mapping[str, str | os.PathLike[str]] | Iterable[TreeRoot]) -> list[TreeRoot]:
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
    ) -> None:
        if chunk_size < BLOCK or chunk_size % BLOCK:
            raise ValueError("chunk size must be a multiple of 512")
        self._roots = roots
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

    def _add_file(self, arcname: str, path: str) -> None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NOATIME | os.O_CLOEXEC)
        except PermissionError:  # O_NOATIME needs ownership; retry without it
            try:
                fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
            except OSError as exc:
                self._warning(arcname, f"cannot open: {exc.strerror}; not archived")
                return
        except FileNotFoundError:
            self._warning(arcname, "file removed before we read it; not archived")
            return
        except OSError as exc:
            self._warning(arcname, f"cannot open: {exc.strerror}; not archived")
            return
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                self._warning(arcname, "replaced by something else than a file while archiving; not archived")
                return
            size = st.st_size
            header_offset = self.offset
            self._header(arcname, st, size, b"0")
            data_offset = self.offset
            try:
                got = self._read_into(fd, size)
                error = None
            except OSError as exc:
                got = self.offset - data_offset
                error = exc.strerror
            if got < size:
                self._zeros(size - got)
                if error is not None:
                    self._warning(arcname, f"read error at byte {got}: {error}; padded with zeros to {size}")
                else:
                    self._warning(arcname, f"file shrank by {size - got} bytes; padded with zeros")
            else:
                after = os.fstat(fd)
                if after.st_size > size:
                    self._warning(arcname, f"file grew by {after.st_size - size} bytes while read; cut at {size}")
                elif after.st_mtime_ns != st.st_mtime_ns:
                    self._warning(arcname, "file changed as we read it")
            self._zeros(-size % BLOCK)
            self.stats.files += 1
            self.stats.file_bytes += size
            if self._record is not None:
                self._record(arcname, size, st.st_mtime_ns / _NS, header_offset, data_offset)
        finally:
            os.close(fd)

    def _add_entry(self, arcname: str, path: str, st: os.stat_result) -> bool:
        """Archive one entry; True when it is a directory to descend into."""
        mode = st.st_mode
        if stat.S_ISREG(mode):
            self._add_file(arcname, path)
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

    def _walk(self, root: TreeRoot) -> Iterator[None]:
        try:
            st = os.stat(root.path)
        except OSError as exc:
            self._warning(root.name, f"root {root.path} unreadable: {exc.strerror}; not archived")
            return
        self._header(root.name + "/", st, 0, DIRTYPE)
        self.stats.dirs += 1
        stack = [(iter(self._scan(root.name, str(root.path))), root.name)]
        while stack:
            entries, prefix = stack[-1]
            entry = next(entries, None)
            if entry is None:
                stack.pop()
                continue
            arcname = f"{prefix}/{entry.name}"
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                self._warning(arcname, "file removed before we read it; not archived")
                continue
            except OSError as exc:
                self._warning(arcname, f"cannot stat: {exc.strerror}; not archived")
                continue
            if self._add_entry(arcname, entry.path, st):
                stack.append((iter(self._scan(arcname, entry.path)), arcname))
            yield

    def chunks(self) -> Iterator[Buffer]:
        for root in self._roots:
            for _ in self._walk(root):
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


# ------------------------------------------------------------------------------------ compression


def _incompressible(view: memoryview) -> bool:
    """True when samples spread over the chunk all fail to shrink at level 1 (photos, archives...)."""
    if len(view) < SAMPLES * SAMPLE_SIZE:
        return False
    step = (len(view) - SAMPLE_SIZE) // (SAMPLES - 1)
    for i in range(SAMPLES):
        sample = view[i * step : i * step + SAMPLE_SIZE]
        if len(zlib.compress(sample, 1)) < STORE_RATIO * SAMPLE_SIZE:
            return False
    return True


def _gzip_member(data: Buffer, level: int) -> bytes:
    view = memoryview(data)
    if level and _incompressible(view):
        level = 0  # stored deflate blocks: still gzip, at memory speed
    compressor = zlib.compressobj(level, zlib.DEFLATED, 31)
    return compressor.compress(view) + compressor.flush()


def thread_gzip(chunks: Iterable[Buffer], level: int, threads: int) -> Iterator[bytes]:
    """Each chunk compressed on a pool thread into a complete gzip member, in order. A chunk whose
    samples do not compress at all is stored (level 0) instead of burning CPU on it."""
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="gzip") as pool:
        pending: deque[Future[bytes]] = deque()
        try:
            for chunk in chunks:
                pending.append(pool.submit(_gzip_member, chunk, level))
                if len(pending) >= 2 * threads:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


class _Ahead:
    """State shared between readahead() and its thread."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.items: deque[Buffer] = deque()
        self.size = 0
        self.done = False
        self.stop = False
        self.error: BaseException | None = None


def readahead(items: Iterable[Buffer], max_bytes: int = READAHEAD_BYTES) -> Iterator[Buffer]:
    """Run `items` in a thread, up to `max_bytes` ahead of the consumer, so compression goes on while
    the consumer is busy (hashing and writing a whole part). Errors reach the consumer in order;
    closing the consumer closes `items` too."""
    ahead = _Ahead()

    def run() -> None:
        source = iter(items)
        try:
            for item in source:
                size = memoryview(item).nbytes
                with ahead.cond:
                    while ahead.size >= max_bytes and not ahead.stop:
                        ahead.cond.wait()
                    if ahead.stop:
                        break
                    ahead.items.append(item)
                    ahead.size += size
                    ahead.cond.notify_all()
        except BaseException as exc:  # handed to the consumer
            ahead.error = exc
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()
            with ahead.cond:
                ahead.done = True
                ahead.cond.notify_all()

    thread = threading.Thread(target=run, name="readahead", daemon=True)
    thread.start()
    try:
        while True:
            with ahead.cond:
                while not ahead.items and not ahead.done:
                    ahead.cond.wait()
                if ahead.items:
                    item = ahead.items.popleft()
                    ahead.size -= memoryview(item).nbytes
                    ahead.cond.notify_all()
                elif ahead.error is not None:
                    raise ahead.error
                else:
                    return
            yield item
    finally:
        with ahead.cond:
            ahead.stop = True
            ahead.cond.notify_all()
        thread.join()


def _grow_pipe(fd: int) -> None:
    with contextlib.suppress(OSError):
        fcntl.fcntl(fd, _F_SETPIPE_SZ, 1 << 20)


def pigz_gzip(
    chunks: Iterable[Buffer], level: int, threads: int, *, pigz: str = "pigz", out_chunk: int = 1 << 20
) -> Iterator[bytearray | memoryview]:
    """Compress through `pigz -p threads`: a thread feeds the chunks (and so runs their producer), the
    caller's thread reads the compressed stream in pieces of `out_chunk` bytes."""
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(
            [pigz, f"-{level}", "-p", str(threads), "-c"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=errors,
            bufsize=0,
        )
        stdin, stdout = proc.stdin, proc.stdout
        assert stdin is not None and stdout is not None
        _grow_pipe(stdin.fileno())
        _grow_pipe(stdout.fileno())
        stop = threading.Event()
        failure: list[BaseException] = []

        def feed() -> None:
            source = iter(chunks)
            fd = stdin.fileno()
            try:
                for chunk in source:
                    view = memoryview(chunk).cast("B")
                    while len(view):
                        view = view[os.write(fd, view) :]
                    if stop.is_set():
                        break
            except BrokenPipeError as exc:
                if not stop.is_set():
                    failure.append(exc)
            except BaseException as exc:  # handed to the reading thread
                failure.append(exc)
            finally:
                close = getattr(source, "close", None)
                if close is not None:
                    close()
                stdin.close()

        feeder = threading.Thread(target=feed, name="pigz-feed", daemon=True)
        feeder.start()
        done = False
        try:
            fd = stdout.fileno()
            while True:
                buf = bytearray(out_chunk)
                view = memoryview(buf)
                pos = 0
                while pos < out_chunk:
                    got = os.readv(fd, [view[pos:]])
                    if got == 0:
                        break
                    pos += got
                if pos == out_chunk:
                    yield buf
                    continue
                if pos:
                    yield view[:pos]
                break
            feeder.join()
            code = proc.wait()
            if failure:
                raise failure[0]
            if code != 0:
                errors.seek(0)
                text = errors.read().decode(errors="replace").strip().replace("\n", "; ")
                raise FilesSourceError(f"pigz exited with {code}: {text or 'no message'}")
            done = True
        finally:
            if not done:
                stop.set()
                if proc.poll() is None:
                    proc.kill()
                feeder.join()
                proc.wait()
            stdout.close()


# ----------------------------------------------------------------------------------------- source


class FilesSource:
    """Directory trees -> `backup.tar.gz` chunks (or member parts), with a file index and warnings.

    One use: call chunks() or parts() once. `compressor` is "auto" (pigz when installed, else
    threads), "pigz" or "threads"; `threads` defaults to the CPU count. With `index` (and `set_id`)
    every file is indexed under the set; the index set is marked complete when the stream ends.
    """

    def __init__(
        self,
        roots: Mapping[str, str | os.PathLike[str]] | Iterable[TreeRoot],
        *,
        level: int = DEFAULT_LEVEL,
        threads: int | None = None,
        compressor: Compressor = "auto",
        index: FileIndex | None = None,
        set_id: str | None = None,
        chunk_size: int = CHUNK_SIZE,
        readahead_bytes: int = READAHEAD_BYTES,
        on_warning: Callable[[FileWarning], None] | None = None,
    ) -> None:
        self.roots = _roots(roots)
        if not 0 <= level <= 9:
            raise FilesSourceError(f"compression level {level} is not 0..9")
        if index is not None and not set_id:
            raise FilesSourceError("a set_id is needed to index the files")
        self.level = level
        self.threads = max(1, threads or os.cpu_count() or 1)
        self.pigz = pigz_path() if compressor in ("auto", "pigz") else None
        if compressor == "pigz" and self.pigz is None:
            raise FilesSourceError("pigz is not installed")
        self.compressor: Literal["pigz", "threads"] = "pigz" if self.pigz else "threads"
        self.member_name = MEMBER_NAME
        self.stats = FilesStats()
        self.warnings: list[FileWarning] = []
        self._index = index
        self._set_id = set_id
        self._chunk_size = chunk_size
        self._readahead = readahead_bytes
        self._on_warning = on_warning
        self._used = False

    def _warn(self, warning: FileWarning) -> None:
        self.warnings.append(warning)
        if self._on_warning is not None:
            self._on_warning(warning)

    def chunks(self) -> Iterator[Buffer]:
        """The compressed stream. Chunks are fresh buffers, safe to hold."""
        if self._used:
            raise FilesSourceError("a FilesSource runs once")
        self._used = True
        writer: IndexWriter | None = None
        if self._index is not None and self._set_id is not None:
            writer = self._index.writer(self._set_id)
        tar = InnerTar(
            self.roots,
            chunk_size=self._chunk_size,
            record=writer.add if writer is not None else None,
            warn=self._warn,
            stats=self.stats,
        )
        if self.pigz is not None:
            compressed = pigz_gzip(tar.chunks(), self.level, self.threads, pigz=self.pigz)
        else:
            compressed = thread_gzip(tar.chunks(), self.level, self.threads)
        stream = readahead(compressed, self._readahead)
        complete = False
        try:
            for chunk in stream:
                self.stats.compressed_bytes += len(chunk)
                self.stats.tar_bytes = tar.offset
                yield chunk
            complete = True
        finally:
            stream.close()
            if writer is not None:
                try:
                    writer.close(complete=complete)
                except Exception:
                    if complete:
                        raise

    def summary(self) -> dict[str, Any]:
        """For the set's manifest: what was backed up, how, and what went wrong."""
        return {
            "kind": "files",
            "member": self.member_name,
            "roots": {root.name: str(root.path) for root in self.roots},
            "compressor": "pigz" if self.compressor == "pigz" else "zlib-threads",
            "level": self.level,
            "stats": asdict(self.stats),
            "warnings": [str(w) for w in self.warnings[:MAX_SUMMARY_WARNINGS]],
            "warnings_left_out": max(0, len(self.warnings) - MAX_SUMMARY_WARNINGS),
        }
