"""The set reader: a tape file's records walked back into members, each member's sha256 checked against the
manifest, for tests, verify and restore."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from console.engine.tapeformat.manifest import MANIFEST_NAME, manifest_digests
from console.engine.tapeformat.record_stream import RecordStream
from console.engine.tapeformat.tar_headers import BLOCK, RECORD_SIZE, Buffer, ChecksumError, TarFormatError

MAX_EXTENDED_HEADER = 1 << 20  # a pax or GNU long-name header is a few hundred bytes
MAX_MEMBER_SIZE = 1 << 60  # bytes a tar header may claim for one member; more is a damaged header


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
        if not data[pos:].strip(b"\0"):
            break  # the padding after the last record
        space = data.find(b" ", pos)
        length = int(data[pos:space]) if space > pos and data[pos:space].isdigit() else 0
        if space < 0 or length <= space - pos + 1 or pos + length > len(data):
            raise TarFormatError(f"bad pax extended header record at byte {pos}")
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
        self._stream = RecordStream(records, start_offset)
        self._first = start_offset if first_header is None else first_header
        if self._first < start_offset:
            raise ValueError("first_header lies before start_offset")
        self._from_start = self._first == 0
        self._expected = manifest_digests(manifest) if manifest is not None else None
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
                if member.size > MAX_EXTENDED_HEADER:
                    raise TarFormatError(f"extended header of {member.size} bytes at offset {header_offset}")
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
                try:
                    self.manifest = json.loads(raw)
                except (ValueError, RecursionError) as exc:
                    raise TarFormatError(f"{MANIFEST_NAME} at offset {header_offset} is not JSON: "
                                         f"{exc.__class__.__name__}") from None
                if not isinstance(self.manifest, dict):
                    raise TarFormatError(f"{MANIFEST_NAME} at offset {header_offset} is not a JSON object")
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
        try:
            member = self._parse_fields(block, offset, pax)
        except (ValueError, OverflowError) as exc:
            raise TarFormatError(f"bad tar header at offset {offset}: {exc.__class__.__name__}: {exc}") from None
        if member.size < 0 or member.size > MAX_MEMBER_SIZE:
            raise TarFormatError(f"bad tar header at offset {offset}: size {member.size}")
        return member

    def _parse_fields(self, block: bytes, offset: int, pax: dict[str, str]) -> SetMember:
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
        expected = manifest_digests(manifest)
        bad = [name for name, digest in self.digests.items() if expected.get(name) != digest]
        if self._from_start:
            bad += [name for name in expected if name not in self.digests]
        if bad:
            shown = ", ".join(repr(n) for n in bad[:5]) + (" ..." if len(bad) > 5 else "")
            raise ChecksumError(f"{len(bad)} member(s) do not match the manifest: {shown}")


def read_set(path: str | os.PathLike[str], record_size: int = RECORD_SIZE) -> Iterator[SetMember]:
    """Members of a set stored in a plain file (tests, a tape file copied with dd)."""

    def records() -> Iterator[bytes]:
        with open(path, "rb") as f:
            while record := f.read(record_size):
                yield record

    return iter(TarSetReader(records()))
