"""The set writer: members framed into tar headers, data and padding, MANIFEST.json last.

It hands the drive writer (the sink) exactly `record_size` bytes at a time. Every member's data is hashed
(sha256) on the way through, and its header and data offsets from the start of the tape file are recorded:
`offset // record_size` is the record a restore seeks to.

Data is copied at most once: a chunk that covers whole records from a record boundary goes to the sink
as a view into the caller's own buffer; only the pieces that straddle record boundaries are copied into
the writer's record buffer. The sink therefore gets a view that is valid only during the call: it must
write or copy it before returning.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from console.engine.tapeformat.manifest import MANIFEST_FORMAT, MANIFEST_NAME, MANIFEST_VERSION, RESERVED_MANIFEST_KEYS
from console.engine.tapeformat.tar_headers import (
    BLOCK,
    RECORD_SIZE,
    ZERO_BLOCKS,
    Buffer,
    MemberLengthError,
    Sink,
    TarSetError,
    tar_header,
)


class BackgroundSha256:
    """sha256 of one member computed in a thread of its own (hashlib releases the GIL on large buffers).

    SHA-256 is the slowest step of writing a set (about 300-400 MB/s on a CPU without SHA extensions):
    hashing beside the reading and the writing, instead of between them, keeps the drive fed. Data
    handed to update() must not change afterwards: views over bytes are kept as they are, anything
    else (a reusable bytearray) is copied first.
    """

    _DONE = None

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        # bounded: when hashing is the slowest step, the writer waits instead of holding a member in memory
        self._queue: queue.Queue[memoryview | bytes | None] = queue.Queue(maxsize=32)
        self._thread: threading.Thread | None = None
        self._digest: str | None = None

    def update(self, view: memoryview) -> None:
        if not len(view):
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="sha256", daemon=True)
            self._thread.start()
        self._queue.put(view if isinstance(view.obj, bytes) else bytes(view))

    def _run(self) -> None:
        while (piece := self._queue.get()) is not self._DONE:
            self._hash.update(piece)

    def hexdigest(self) -> str:
        if self._digest is None:
            if self._thread is not None:
                self._queue.put(self._DONE)
                self._thread.join()
            self._digest = self._hash.hexdigest()
        return self._digest



@dataclass(frozen=True, slots=True)
class MemberRecord:
    """Where one member sits in its tape file, and what its data hashes to.

    Offsets count bytes from the start of the tape file; `offset // record_size` is the record number a
    restore seeks to. `header_offset` is the first header block (the pax header when there is one).
    `error` is set when the member was closed by abort_member(): its data on tape is incomplete.
    """

    name: str
    size: int
    sha256: str
    header_offset: int
    data_offset: int
    mtime: float | int
    mode: int
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "name": self.name,
            "size": self.size,
            "sha256": self.sha256,
            "header_offset": self.header_offset,
            "data_offset": self.data_offset,
            "mtime": self.mtime,
            "mode": self.mode,
        }
        if self.error is not None:
            entry["error"] = self.error
        return entry


@dataclass(slots=True)
class _OpenMember:
    name: str
    size: int
    mtime: float | int
    mode: int
    header_offset: int
    data_offset: int
    hasher: Any
    written: int = 0
    failed: str | None = None


class TarSetWriter:
    """Writes one backup set as fixed-size records to `sink`.

    Usage: begin_member(), write() the data, end_member() (or add_member()); then finish(). Members
    are written whole: a MemberLengthError leaves the member open and failed; abort_member() then pads
    it with zeros to its declared size (as GNU tar does for a file that shrank), marks it in the
    manifest and keeps the set readable, or the caller abandons the set. An exception from the sink
    breaks the writer for good.
    """

    def __init__(self, sink: Sink, record_size: int = RECORD_SIZE) -> None:
        if record_size <= 0 or record_size % BLOCK:
            raise ValueError(f"record size must be a positive multiple of {BLOCK}, not {record_size}")
        self._sink = sink
        self.record_size = record_size
        self._buf = bytearray(record_size)
        self._view = memoryview(self._buf)
        self._fill = 0
        self._emitted = 0
        self._member: _OpenMember | None = None
        self._broken: BaseException | None = None
        self._finished = False
        self.members: list[MemberRecord] = []
        self.manifest_record: MemberRecord | None = None

    # ---- position
    @property
    def offset(self) -> int:
        """Bytes of the tape file produced so far (emitted records plus the record being filled)."""
        return self._emitted + self._fill

    @property
    def records_written(self) -> int:
        """Records handed to the sink so far."""
        return self._emitted // self.record_size

    @property
    def in_member(self) -> bool:
        return self._member is not None

    @property
    def finished(self) -> bool:
        return self._finished

    # ---- members
    def begin_member(
        self,
        name: str,
        size: int,
        mtime: float | int | None = None,
        mode: int = 0o644,
        pax: dict[str, str] | None = None,
    ) -> None:
        """Write the header of a regular-file member of exactly `size` bytes."""
        self._check_usable()
        if self._member is not None:
            raise TarSetError(f"member {self._member.name!r} is still open")
        if not name or "\0" in name:
            raise ValueError(f"bad member name {name!r}")
        if size < 0:
            raise ValueError(f"negative size for member {name!r}")
        when = time.time() if mtime is None else mtime
        header_offset = self.offset
        self._put(memoryview(tar_header(name, size, mtime=when, mode=mode, pax=pax)))
        self._member = _OpenMember(
            name=name,
            size=size,
            mtime=when,
            mode=mode,
            header_offset=header_offset,
            data_offset=self.offset,
            hasher=BackgroundSha256(),
        )

    def write(self, chunk: Buffer) -> None:
        """Append data to the open member. More data than declared raises MemberLengthError after
        writing the part that fits."""
        member = self._open_member()
        view = memoryview(chunk)
        if view.format != "B" or view.ndim != 1:
            view = view.cast("B")
        n = len(view)
        room = member.size - member.written
        if n > room:
            if room:
                self._take(member, view[:room])
            got = member.written + n - room
            error = MemberLengthError(member.name, member.size, got, at_least=True)
            member.failed = str(error)
            raise error
        self._take(member, view)

    def end_member(self) -> MemberRecord:
        """Close the open member; MemberLengthError when its data ran short."""
        member = self._open_member()
        if member.written < member.size:
            error = MemberLengthError(member.name, member.size, member.written)
            member.failed = str(error)
            raise error
        return self._close(member, None)

    def abort_member(self, reason: str) -> MemberRecord:
        """Close the open member whatever its state: pad its data with zeros to the declared size so
        the set stays a valid tar, and record `reason` as its error in the manifest."""
        if self._broken is not None:
            raise TarSetError(f"writer failed earlier: {self._broken}")
        member = self._member
        if member is None:
            raise TarSetError("no member is open")
        missing = member.size - member.written
        while missing > 0:
            piece = ZERO_BLOCKS[: min(missing, len(ZERO_BLOCKS))]
            self._take(member, piece)
            missing -= len(piece)
        return self._close(member, reason)

    def add_member(
        self,
        name: str,
        size: int,
        chunks: Iterable[Buffer],
        mtime: float | int | None = None,
        mode: int = 0o644,
        pax: dict[str, str] | None = None,
    ) -> MemberRecord:
        """begin_member(), write() every chunk, end_member(). On any error the member stays open (see
        abort_member())."""
        self.begin_member(name, size, mtime=mtime, mode=mode, pax=pax)
        for chunk in chunks:
            self.write(chunk)
        return self.end_member()

    # ---- closing the set
    def finish(self, manifest_fields: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Write MANIFEST.json, the end-of-archive blocks and zeros to the end of the record.

        The manifest holds the format, the record size, `manifest_fields` (job, source, times...) and
        every member with name, size, sha256 and offsets. Returns it.
        """
        self._check_usable()
        if self._member is not None:
            raise TarSetError(f"member {self._member.name!r} is still open")
        fields = dict(manifest_fields or {})
        clash = RESERVED_MANIFEST_KEYS & fields.keys()
        if clash:
            raise ValueError(f"manifest fields may not set {sorted(clash)}")
        manifest: dict[str, Any] = {
            "format": MANIFEST_FORMAT,
            "format_version": MANIFEST_VERSION,
            "record_size": self.record_size,
            **fields,
            "members": [m.to_json() for m in self.members],
        }
        data = json.dumps(manifest, indent=1).encode("ascii") + b"\n"
        self.manifest_record = self._add_raw(MANIFEST_NAME, data)
        self._put(ZERO_BLOCKS)
        if self._fill:
            self._view[self._fill :] = bytes(self.record_size - self._fill)
            self._fill = self.record_size
            self._flush()
        self._finished = True
        return manifest

    # ---- internals
    def _add_raw(self, name: str, data: bytes) -> MemberRecord:
        now = int(time.time())
        header_offset = self.offset
        self._put(memoryview(tar_header(name, len(data), mtime=now)))
        member = _OpenMember(name, len(data), now, 0o644, header_offset, self.offset, hashlib.sha256())
        self._take(member, memoryview(data))
        return self._close(member, None, listed=False)  # the manifest does not list itself

    def _check_usable(self) -> None:
        if self._broken is not None:
            raise TarSetError(f"writer failed earlier: {self._broken}")
        if self._finished:
            raise TarSetError("set already finished")

    def _open_member(self) -> _OpenMember:
        self._check_usable()
        member = self._member
        if member is None:
            raise TarSetError("no member is open")
        if member.failed is not None:
            raise TarSetError(f"{member.failed}; call abort_member() or abandon the set")
        return member

    def _take(self, member: _OpenMember, view: memoryview) -> None:
        member.hasher.update(view)  # hashed in its own thread, while the data goes on to the drive
        self._put(view)
        member.written += len(view)

    def _close(self, member: _OpenMember, error: str | None, *, listed: bool = True) -> MemberRecord:
        pad = -member.size % BLOCK
        if pad:
            self._put(ZERO_BLOCKS[:pad])
        record = MemberRecord(
            name=member.name,
            size=member.size,
            sha256=member.hasher.hexdigest(),
            header_offset=member.header_offset,
            data_offset=member.data_offset,
            mtime=member.mtime,
            mode=member.mode,
            error=error,
        )
        if listed:
            self.members.append(record)
        self._member = None
        return record

    def _put(self, data: memoryview) -> None:
        """Append raw archive bytes, emitting every record that fills up."""
        size = self.record_size
        n = len(data)
        pos = 0
        if self._fill:
            pos = min(size - self._fill, n)
            self._view[self._fill : self._fill + pos] = data[:pos]
            self._fill += pos
            if self._fill < size:
                return
            self._flush()
        while n - pos >= size:  # whole records straight from the caller's buffer
            self._emit(data[pos : pos + size])
            pos += size
        if pos < n:
            self._view[: n - pos] = data[pos:]
            self._fill = n - pos

    def _flush(self) -> None:
        self._emit(self._view)
        self._fill = 0

    def _emit(self, record: memoryview) -> None:
        try:
            self._sink(record)
        except BaseException as exc:
            self._broken = exc
            raise
        self._emitted += self.record_size
