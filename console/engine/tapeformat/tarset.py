"""One backup set = one tape file: a POSIX (pax) tar written in fixed records, MANIFEST.json last.

The writer frames members into tar headers, data and padding, and hands the drive writer (the sink)
exactly `record_size` bytes at a time, so plain GNU tar reads the tape file with `tar -b <record_size/512>`.
Every member's data is hashed (sha256) on the way through, and its header and data offsets from the
start of the tape file are recorded: `offset // record_size` is the record a restore seeks to.

Data is copied at most once: a chunk that covers whole records from a record boundary goes to the sink
as a view into the caller's own buffer; only the pieces that straddle record boundaries are copied into
the writer's record buffer. The sink therefore gets a view that is valid only during the call: it must
write or copy it before returning.

The reader half (`TarSetReader`) walks a tape file's records back into members, checking sha256 values
against the manifest, for tests, verify and restore.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import struct
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

Buffer = bytes | bytearray | memoryview
Sink = Callable[[memoryview], None]

BLOCK = 512
RECORD_SIZE = 262144  # 256 KiB = tar -b 512
MANIFEST_NAME = "MANIFEST.json"
MANIFEST_FORMAT = "tapeconsole-set"
MANIFEST_VERSION = 1
_RESERVED_MANIFEST_KEYS = frozenset({"format", "format_version", "record_size", "members"})

_ZEROS = memoryview(bytes(BLOCK * 2))
_MAX_OCTAL_8 = 0o7777777
_MAX_OCTAL_12 = 0o77777777777
_USTAR_MAX_OCTAL = {8: _MAX_OCTAL_8, 12: _MAX_OCTAL_12}

REGTYPE = b"0"
SYMTYPE = b"2"
DIRTYPE = b"5"
PAXTYPE = b"x"


class TarSetError(Exception):
    """Base of the tar set errors; str() is one line."""


class MemberLengthError(TarSetError):
    """A member's data stream ran short of, or past, the size declared in its header."""

    def __init__(self, name: str, expected: int, got: int, *, at_least: bool = False) -> None:
        self.name = name
        self.expected = expected
        self.got = got
        self.at_least = at_least
        more = "at least " if at_least else ""
        super().__init__(f"member {name!r}: expected {expected} bytes, got {more}{got}")


class ChecksumError(TarSetError):
    """A member's data does not hash to the sha256 the manifest records."""


class TarFormatError(TarSetError):
    """The records do not hold a tar archive the reader understands."""


# ------------------------------------------------------------------------------------------ headers


def _encode_name(name: str) -> bytes:
    # Names from the file system may carry undecodable bytes as surrogates: write those bytes back.
    return name.encode("utf-8", "surrogateescape")


def _pax_record(key: str, value: bytes) -> bytes:
    payload = b" " + key.encode("ascii") + b"=" + value + b"\n"
    length = len(payload) + 1
    while len(str(length)) + len(payload) != length:
        length = len(str(length)) + len(payload)
    return str(length).encode("ascii") + payload


def _format_mtime(mtime: float | int) -> str:
    if isinstance(mtime, int):
        return str(mtime)
    text = repr(float(mtime))
    if "e" in text or "n" in text:  # exponent, inf, nan
        text = format(mtime, ".9f")
    return text[:-2] if text.endswith(".0") else text


def _fits_octal(value: int, width: int) -> bool:
    return 0 <= value <= _USTAR_MAX_OCTAL[width]


def _ascii_field(raw: bytes, width: int) -> tuple[bytes, bool]:
    """The bytes to put in a fixed ustar field, and whether a pax record must carry the real value."""
    if len(raw) <= width and raw.isascii():
        return raw, False
    return raw[:width].decode("ascii", "replace").encode("ascii", "replace"), True


_USTAR = struct.Struct("100s8s8s8s12s12s8sc100s8s32s32s8s8s155s12x")
_NO_CHECKSUM = b" " * 8
_USTAR_MAGIC = b"ustar\x0000"
_ZERO_DEV = b"0000000\0"


def _ustar_block(
    name: bytes,
    mode: int,
    uid: int,
    gid: int,
    size: int,
    mtime: int,
    typeflag: bytes,
    linkname: bytes,
    uname: bytes,
    gname: bytes,
) -> bytes:
    fields = [
        name,
        b"%07o\0" % (mode & 0o7777),
        b"%07o\0" % uid,
        b"%07o\0" % gid,
        b"%011o\0" % size,
        b"%011o\0" % mtime,
        _NO_CHECKSUM,
        typeflag,
        linkname,
        _USTAR_MAGIC,
        uname,
        gname,
        _ZERO_DEV,
        _ZERO_DEV,
        b"",
    ]
    fields[6] = b"%06o\0 " % sum(_USTAR.pack(*fields))
    return _USTAR.pack(*fields)


def _has_surrogates(text: str) -> bool:
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def tar_header(
    name: str,
    size: int,
    *,
    mtime: float | int = 0,
    mode: int = 0o644,
    typeflag: bytes = REGTYPE,
    linkname: str = "",
    uid: int = 0,
    gid: int = 0,
    uname: str = "",
    gname: str = "",
    pax: Mapping[str, str] | None = None,
) -> bytes:
    """The header block(s) of one tar member: a pax extended header when needed, then the ustar block.

    A pax record carries what ustar cannot: names and link targets over 100 bytes or not ASCII, sizes of
    8 GiB and up, mtimes with a fraction (a float mtime is written exactly) or before 1970, large ids,
    long user and group names, plus any `pax` records the caller adds. The result is a multiple of 512.
    """
    if not pax and not linkname and type(mtime) is int:  # the common case: one plain ustar block
        raw_name = _encode_name(name)
        raw_user, raw_group = uname.encode("utf-8", "surrogateescape"), gname.encode("utf-8", "surrogateescape")
        if (
            len(raw_name) <= 100
            and len(raw_user) <= 32
            and len(raw_group) <= 32
            and (raw_name + raw_user + raw_group).isascii()
            and 0 <= size <= _MAX_OCTAL_12
            and 0 <= mtime <= _MAX_OCTAL_12
            and 0 <= uid <= _MAX_OCTAL_8
            and 0 <= gid <= _MAX_OCTAL_8
        ):
            return _ustar_block(raw_name, mode, uid, gid, size, mtime, typeflag, b"", raw_user, raw_group)
    records: dict[str, bytes] = {}
    raw_name = _encode_name(name)
    name_field, need = _ascii_field(raw_name, 100)
    if need:
        records["path"] = raw_name
    raw_link = _encode_name(linkname)
    link_field, need = _ascii_field(raw_link, 100)
    if need:
        records["linkpath"] = raw_link
    if not _fits_octal(size, 12):
        if size < 0:
            raise ValueError(f"negative size for {name!r}")
        records["size"] = str(size).encode("ascii")
    whole = int(mtime // 1)
    if whole != mtime or not _fits_octal(whole, 12):
        records["mtime"] = _format_mtime(mtime).encode("ascii")
    for key, value, width in (("uid", uid, 8), ("gid", gid, 8)):
        if not _fits_octal(value, width):
            records[key] = str(value).encode("ascii")
    fields: dict[str, bytes] = {}
    for key, text in (("uname", uname), ("gname", gname)):
        raw = _encode_name(text)
        fields[key], need = _ascii_field(raw, 32)
        if need:
            records[key] = raw
    if _has_surrogates(name) or _has_surrogates(linkname):
        records["hdrcharset"] = b"BINARY"
    for key, value in (pax or {}).items():
        if "=" in key or not key.isascii() or not key:
            raise ValueError(f"bad pax key {key!r}")
        records[key] = value.encode("utf-8")
    ustar = _ustar_block(
        name_field,
        mode,
        uid if _fits_octal(uid, 8) else 0,
        gid if _fits_octal(gid, 8) else 0,
        size if _fits_octal(size, 12) else 0,
        whole if _fits_octal(whole, 12) else 0,
        typeflag,
        link_field,
        fields["uname"],
        fields["gname"],
    )
    if not records:
        return ustar
    data = b"".join(_pax_record(key, value) for key, value in records.items())
    base = os.path.basename(raw_name.rstrip(b"/")) or b"member"
    pax_name, _ = _ascii_field(b"PaxHeaders/" + base, 100)
    pax_block = _ustar_block(
        pax_name, 0o644, 0, 0, len(data), max(0, min(whole, _USTAR_MAX_OCTAL[12])), PAXTYPE, b"", b"", b""
    )
    return pax_block + data + bytes(-len(data) % BLOCK) + ustar


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


# ------------------------------------------------------------------------------------------- writer


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
            piece = _ZEROS[: min(missing, len(_ZEROS))]
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
        clash = _RESERVED_MANIFEST_KEYS & fields.keys()
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
        self._put(_ZEROS)
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
            self._put(_ZEROS[:pad])
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


# ------------------------------------------------------------------------------------------- reader


@dataclass(slots=True)
class SetMember:
    """One member as the reader meets it. Iterate `chunks` for its data (views into the records,
    valid until the next chunk); unread data is skipped (and still checked) when iteration moves on."""

    name: str
    size: int
    mtime: float
    mode: int
    typeflag: bytes
    header_offset: int
    data_offset: int
    linkname: str = ""
    pax: dict[str, str] = field(default_factory=dict)
    chunks: Iterator[memoryview] = field(default_factory=lambda: iter(()))
    sha256: str | None = None  # set once its data has been read through

    def read(self) -> bytes:
        """All of the member's data (for small members)."""
        return b"".join(bytes(c) for c in self.chunks)


class _Stream:
    """A byte cursor over an iterable of records."""

    def __init__(self, records: Iterable[Buffer], offset: int) -> None:
        self._records = iter(records)
        self._cur = memoryview(b"")
        self.offset = offset

    def _next_record(self) -> bool:
        for record in self._records:
            view = memoryview(record).cast("B")
            if len(view):
                self._cur = view
                return True
        return False

    def pieces(self, n: int) -> Iterator[memoryview]:
        """Exactly n bytes as views; TarFormatError when the records end first."""
        while n:
            if not self._cur and not self._next_record():
                raise TarFormatError(f"records end {n} bytes short, at offset {self.offset}")
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

    def at_end(self) -> bool:
        return not self._cur and not self._next_record()


def _parse_number(field_bytes: bytes) -> int:
    if field_bytes and field_bytes[0] & 0x80:  # GNU base-256
        value = int.from_bytes(field_bytes, "big", signed=False) & ~(0x80 << (8 * (len(field_bytes) - 1)))
        return value
    text = field_bytes.split(b"\0", 1)[0].strip(b" ")
    return int(text, 8) if text else 0


def _parse_pax(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        space = data.index(b" ", pos)
        length = int(data[pos:space])
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def _cstr(field_bytes: bytes) -> str:
    return field_bytes.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


class TarSetReader:
    """Iterates the members of one tape file (a backup set) from its records.

    `start_offset` is the tape-file offset of the first record given (a multiple of the record size
    when a restore seeks); `first_header` the offset of the member header to start from (default:
    `start_offset`). With `manifest` (from the inventory), every member is checked as soon as its data
    has been read and a mismatch raises ChecksumError there; without it the check happens when
    MANIFEST.json is reached, and a mismatch (or, reading from the start, a member the manifest lists
    but the tape lacks) raises ChecksumError at the end of iteration. After iteration `manifest` holds
    the parsed MANIFEST.json and `digests` maps each member read to its sha256.
    """

    def __init__(
        self,
        records: Iterable[Buffer],
        *,
        start_offset: int = 0,
        first_header: int | None = None,
        manifest: Mapping[str, Any] | None = None,
    ) -> None:
        self._stream = _Stream(records, start_offset)
        self._first = start_offset if first_header is None else first_header
        if self._first < start_offset:
            raise ValueError("first_header lies before start_offset")
        self._from_start = self._first == 0
        self._expected = _manifest_digests(manifest) if manifest is not None else None
        self.manifest: dict[str, Any] | None = None
        self.digests: dict[str, str] = {}

    def __iter__(self) -> Iterator[SetMember]:
        stream = self._stream
        stream.skip(self._first - stream.offset)
        pending: Iterator[memoryview] | None = None
        pax: dict[str, str] = {}
        pax_offset: int | None = None  # where the extended header of the coming member began
        while True:
            if pending is not None:
                for _ in pending:
                    pass
                pending = None
            header_offset = stream.offset
            if stream.at_end():
                break
            block = stream.read(BLOCK)
            if block == bytes(BLOCK):
                break
            extended = block[156:157] in (b"x", b"g", b"L")
            member = self._parse_header(block, header_offset, {} if extended else pax)
            if extended:
                data = stream.read(member.size)
                stream.skip(-member.size % BLOCK)
                if member.typeflag == b"x":
                    pax = {**pax, **_parse_pax(data)}
                elif member.typeflag == b"L":
                    pax = {**pax, "path": data.rstrip(b"\0").decode("utf-8", "surrogateescape")}
                if member.typeflag != b"g" and pax_offset is None:
                    pax_offset = header_offset
                continue
            if pax_offset is not None:
                member.header_offset = pax_offset
            pax, pax_offset = {}, None
            data_size = member.size if member.typeflag in (b"0", b"\0", b"7") else 0
            member.size = data_size
            if member.name == MANIFEST_NAME:
                raw = stream.read(data_size)
                stream.skip(-data_size % BLOCK)
                self.manifest = json.loads(raw)
                member.chunks = iter([memoryview(raw)])
                member.sha256 = hashlib.sha256(raw).hexdigest()
                yield member
                continue
            pending = self._data(member)
            member.chunks = pending
            yield member
        if self._expected is None and self.manifest is not None:
            self._check_against(self.manifest)

    def _parse_header(self, block: bytes, offset: int, pax: dict[str, str]) -> SetMember:
        stored = _parse_number(block[148:156])
        computed = sum(block[:148]) + 8 * 32 + sum(block[156:])
        if stored != computed:
            raise TarFormatError(f"bad header checksum at offset {offset}")
        name = _cstr(block[0:100])
        if block[257:262] == b"ustar" and block[345]:
            name = _cstr(block[345:500]) + "/" + name
        size = int(pax["size"]) if "size" in pax else _parse_number(block[124:136])
        mtime = float(pax["mtime"]) if "mtime" in pax else float(_parse_number(block[136:148]))
        return SetMember(
            name=pax.get("path", name),
            size=size,
            mtime=mtime,
            mode=_parse_number(block[100:108]),
            typeflag=block[156:157] or b"\0",
            header_offset=offset,
            data_offset=offset + BLOCK,
            linkname=pax.get("linkpath", _cstr(block[157:257])),
            pax=pax,
        )

    def _data(self, member: SetMember) -> Iterator[memoryview]:
        hasher = hashlib.sha256()
        for piece in self._stream.pieces(member.size):
            hasher.update(piece)
            yield piece
        self._stream.skip(-member.size % BLOCK)
        digest = hasher.hexdigest()
        member.sha256 = digest
        self.digests[member.name] = digest
        if self._expected is not None:
            want = self._expected.get(member.name)
            if want is None:
                raise ChecksumError(f"member {member.name!r} is not in the manifest")
            if want != digest:
                raise ChecksumError(f"member {member.name!r}: sha256 {digest} != manifest {want}")

    def _check_against(self, manifest: Mapping[str, Any]) -> None:
        expected = _manifest_digests(manifest)
        bad = [name for name, digest in self.digests.items() if expected.get(name) != digest]
        if self._from_start:
            bad += [name for name in expected if name not in self.digests]
        if bad:
            shown = ", ".join(repr(n) for n in bad[:5]) + (" ..." if len(bad) > 5 else "")
            raise ChecksumError(f"{len(bad)} member(s) do not match the manifest: {shown}")


def _manifest_digests(manifest: Mapping[str, Any]) -> dict[str, str]:
    return {m["name"]: m["sha256"] for m in manifest.get("members", [])}


def read_set(path: str | os.PathLike[str], record_size: int = RECORD_SIZE) -> Iterator[SetMember]:
    """Members of a set stored in a plain file (tests, a tape file copied with dd)."""

    def records() -> Iterator[bytes]:
        with open(path, "rb") as f:
            while record := f.read(record_size):
                yield record

    return iter(TarSetReader(records()))
