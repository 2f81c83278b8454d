"""The VHD format, as Xen Orchestra exports and stores it.

What this module does:
- parse a footer (512 bytes), a dynamic disk header (1024 bytes, parent locators and the UTF-16BE
  parentUnicodeName) and a block allocation table (BAT);
- compute the total length of a VHD stream from its first bytes, before the data arrives, the way
  vhd-lib's createVhdStreamWithLength does for an XO export (footer copy + header + BAT + blocks in
  order + footer; a block is its sector bitmap then its data): `measure_vhd_stream`;
- describe a VHD on a backup remote (a file, a block-mode directory or an `.alias.vhd` pointing at
  one): `read_vhd_info`, and read a differencing chain back to the raw disk: `vhd_chain`,
  `iter_chain_raw`.

Every failure is a VhdError whose str() is one line naming what is wrong.
Reference: Microsoft's "Virtual Hard Disk Image Format Specification" and vhd-lib.
"""

from __future__ import annotations

import gzip
import json
import math
import os
import struct
import uuid
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Literal, NamedTuple

SECTOR_SIZE = 512
FOOTER_SIZE = 512
HEADER_SIZE = 1024
DEFAULT_BLOCK_SIZE = 2 * 1024 * 1024
BLOCK_UNUSED = 0xFFFFFFFF
FOOTER_COOKIE = b"conectix"
HEADER_COOKIE = b"cxsparse"
FILE_FORMAT_VERSION = 0x00010000
HEADER_VERSION = 0x00010000
NO_DATA_OFFSET = 0xFFFFFFFFFFFFFFFF
PARENT_LOCATOR_ENTRIES = 8
PLATFORM_W2KU = 0x57326B75  # "W2ku": absolute Windows path, UTF-16LE
PLATFORM_W2RU = 0x57327275  # "W2ru": relative Windows path, UTF-16LE
ALIAS_MAX_PATH_LENGTH = 1024
VHD_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

# A stream head (footer copy, header, BAT, locators) larger than this is refused rather than buffered.
MAX_HEAD_BYTES = 64 * 1024 * 1024
MAX_BAT_ENTRIES = 1 << 24  # 16 Mi blocks: 32 TiB in 2 MiB blocks, past any VDI XCP-ng makes
HEAD_SLACK = 4 * 1024 * 1024  # what a writer may leave between the parts of a VHD's head (alignment)

DiskType = Literal["fixed", "dynamic", "differencing"]
DISK_TYPES: dict[int, DiskType] = {2: "fixed", 3: "dynamic", 4: "differencing"}
DISK_TYPE_CODES: dict[DiskType, int] = {v: k for k, v in DISK_TYPES.items()}

_FOOTER = struct.Struct(">8sIIQI4sIIQQHBBII16sB427s")
_HEADER = struct.Struct(">8sQQIIII16sII512s192s256s")
_LOCATOR = struct.Struct(">IIIIQ")
assert _FOOTER.size == FOOTER_SIZE and _HEADER.size == HEADER_SIZE


class VhdError(ValueError):
    """A VHD is malformed, truncated or of a kind not handled; str() is one line."""


def vhd_checksum(buf: bytes | bytearray, checksum_offset: int) -> int:
    """One's complement of the byte sum of `buf`, the 4 checksum bytes left out."""
    total = sum(buf) - sum(buf[checksum_offset : checksum_offset + 4])
    return ~total & 0xFFFFFFFF


def vhd_timestamp(when: datetime) -> int:
    """Seconds since 2000-01-01 00:00 UTC, the VHD epoch."""
    return max(0, int((when - VHD_EPOCH).total_seconds()))


def geometry_for_size(size: int) -> tuple[int, int, int]:
    """(cylinders, heads, sectors per track) for a disk of `size` bytes: the spec's CHS algorithm, with
    cylinders rounded up so the geometry covers the disk (as vhd-lib and qemu do)."""
    total = min(math.ceil(size / SECTOR_SIZE), 65535 * 16 * 255)
    if total >= 65535 * 16 * 63:
        spt, heads = 255, 16
        cth = Fraction(total, spt)
    else:
        spt = 17
        cth = Fraction(total, spt)
        heads = max(4, math.floor((cth + 1023) / 1024))
        if cth >= heads * 1024 or heads > 16:
            spt, heads = 31, 16
            cth = Fraction(total, spt)
        if cth >= heads * 1024:
            spt, heads = 63, 16
            cth = Fraction(total, spt)
    return min(65535, math.ceil(cth / heads)), heads, spt


def bitmap_size(block_size: int) -> int:
    """Bytes of the sector bitmap in front of each block, rounded up to a sector."""
    return math.ceil(block_size / SECTOR_SIZE / 8 / SECTOR_SIZE) * SECTOR_SIZE


def _align(n: int) -> int:
    return math.ceil(n / SECTOR_SIZE) * SECTOR_SIZE


@dataclass(frozen=True, slots=True)
class VhdFooter:
    """The 512-byte footer (also copied at offset 0 of dynamic and differencing VHDs)."""

    disk_type: int
    current_size: int
    uuid: uuid.UUID
    data_offset: int = SECTOR_SIZE
    original_size: int | None = None
    timestamp: int = 0
    creator_application: bytes = b"tap\x00"
    creator_version: int = 0x00010003
    creator_host_os: int = 0x5769326B  # "Wi2k"
    geometry: tuple[int, int, int] | None = None
    features: int = 2
    saved_state: int = 0
    checksum: int = 0

    @property
    def type_name(self) -> DiskType:
        return DISK_TYPES[self.disk_type]

    def pack(self) -> bytes:
        """The 512 bytes, checksum computed."""
        cyl, heads, spt = self.geometry or geometry_for_size(self.current_size)
        original = self.current_size if self.original_size is None else self.original_size
        raw = bytearray(
            _FOOTER.pack(
                FOOTER_COOKIE, self.features, FILE_FORMAT_VERSION, self.data_offset, self.timestamp,
                self.creator_application, self.creator_version, self.creator_host_os, original,
                self.current_size, cyl, heads, spt, self.disk_type, 0, self.uuid.bytes,
                self.saved_state, bytes(427),
            )
        )
        struct.pack_into(">I", raw, 64, vhd_checksum(raw, 64))
        return bytes(raw)

    @classmethod
    def parse(cls, buf: bytes | bytearray, where: str = "footer") -> VhdFooter:
        if len(buf) < FOOTER_SIZE:
            raise VhdError(f"truncated VHD {where}: {len(buf)} of {FOOTER_SIZE} bytes")
        buf = bytes(buf[:FOOTER_SIZE])
        (cookie, features, version, data_offset, timestamp, app, app_version, host_os, original,
         current, cyl, heads, spt, disk_type, checksum, uid, saved, _) = _FOOTER.unpack(buf)
        if cookie != FOOTER_COOKIE:
            raise VhdError(f"bad VHD {where} cookie {cookie!r} (expected b'conectix')")
        computed = vhd_checksum(buf, 64)
        if checksum != computed:
            raise VhdError(f"bad VHD {where} checksum 0x{checksum:08x} (computed 0x{computed:08x})")
        if version != FILE_FORMAT_VERSION:
            raise VhdError(f"unsupported VHD file format version 0x{version:08x} in {where}")
        if disk_type not in DISK_TYPES:
            raise VhdError(f"unsupported VHD disk type {disk_type} in {where}")
        if disk_type != 2 and (data_offset == NO_DATA_OFFSET or data_offset < FOOTER_SIZE):
            raise VhdError(f"bad VHD header offset {data_offset} in {where}")
        return cls(
            disk_type=disk_type, current_size=current, uuid=uuid.UUID(bytes=uid), data_offset=data_offset,
            original_size=original, timestamp=timestamp, creator_application=app, creator_version=app_version,
            creator_host_os=host_os, geometry=(cyl, heads, spt), features=features, saved_state=saved,
            checksum=checksum,
        )


@dataclass(frozen=True, slots=True)
class ParentLocator:
    """One of the 8 parent locator entries of a dynamic header."""

    platform_code: int = 0
    data_space: int = 0  # sectors by the spec, bytes for some writers
    data_length: int = 0  # bytes
    data_offset: int = 0  # absolute byte offset of the locator data

    @property
    def used(self) -> bool:
        return self.platform_code != 0 and self.data_length > 0


@dataclass(frozen=True, slots=True)
class VhdHeader:
    """The 1024-byte dynamic disk header of dynamic and differencing VHDs."""

    table_offset: int
    max_table_entries: int
    block_size: int = DEFAULT_BLOCK_SIZE
    parent_uuid: uuid.UUID | None = None
    parent_timestamp: int = 0
    parent_unicode_name: str = ""
    parent_locators: tuple[ParentLocator, ...] = field(default_factory=tuple)
    checksum: int = 0

    def pack(self) -> bytes:
        """The 1024 bytes, checksum computed."""
        name = self.parent_unicode_name.encode("utf-16-be")
        if len(name) > 512:
            raise VhdError(f"parentUnicodeName too long ({len(name)} bytes, at most 512)")
        locators = list(self.parent_locators) + [ParentLocator()] * (8 - len(self.parent_locators))
        loc_bytes = b"".join(
            _LOCATOR.pack(loc.platform_code, loc.data_space, loc.data_length, 0, loc.data_offset)
            for loc in locators[:PARENT_LOCATOR_ENTRIES]
        )
        parent = self.parent_uuid.bytes if self.parent_uuid else bytes(16)
        raw = bytearray(
            _HEADER.pack(
                HEADER_COOKIE, NO_DATA_OFFSET, self.table_offset, HEADER_VERSION, self.max_table_entries,
                self.block_size, 0, parent, self.parent_timestamp, 0, name.ljust(512, b"\0"), loc_bytes,
                bytes(256),
            )
        )
        struct.pack_into(">I", raw, 36, vhd_checksum(raw, 36))
        return bytes(raw)

    @classmethod
    def parse(cls, buf: bytes | bytearray, footer: VhdFooter | None = None) -> VhdHeader:
        if len(buf) < HEADER_SIZE:
            raise VhdError(f"truncated VHD header: {len(buf)} of {HEADER_SIZE} bytes")
        buf = bytes(buf[:HEADER_SIZE])
        (cookie, _data_offset, table_offset, version, entries, block_size, checksum, parent, parent_ts, _,
         raw_name, raw_locators, _) = _HEADER.unpack(buf)
        if cookie != HEADER_COOKIE:
            raise VhdError(f"bad VHD header cookie {cookie!r} (expected b'cxsparse')")
        computed = vhd_checksum(buf, 36)
        if checksum != computed:
            raise VhdError(f"bad VHD header checksum 0x{checksum:08x} (computed 0x{computed:08x})")
        if version != HEADER_VERSION:
            raise VhdError(f"unsupported VHD header version 0x{version:08x}")
        ratio = block_size // SECTOR_SIZE
        if block_size < SECTOR_SIZE or block_size % SECTOR_SIZE or ratio & (ratio - 1):
            raise VhdError(f"bad VHD block size {block_size} (must be a power of two times 512)")
        if entries > MAX_BAT_ENTRIES:
            raise VhdError(f"VHD BAT of {entries} entries: more than {MAX_BAT_ENTRIES} is not believed")
        if footer is not None and entries * block_size < footer.current_size:
            raise VhdError(
                f"VHD BAT too small: {entries} entries of {block_size} bytes for a {footer.current_size}-byte disk"
            )
        units = [raw_name[i : i + 2] for i in range(0, 512, 2)]
        end = units.index(b"\0\0") if b"\0\0" in units else len(units)
        try:
            name = b"".join(units[:end]).decode("utf-16-be")
        except UnicodeDecodeError as exc:
            raise VhdError(f"bad VHD parentUnicodeName: not UTF-16BE ({exc.reason})") from None
        locators = tuple(
            ParentLocator(code, space, length, offset)
            for code, space, length, _, offset in _LOCATOR.iter_unpack(raw_locators)
        )
        return cls(
            table_offset=table_offset, max_table_entries=entries, block_size=block_size,
            parent_uuid=None if parent == bytes(16) else uuid.UUID(bytes=parent), parent_timestamp=parent_ts,
            parent_unicode_name=name, parent_locators=locators, checksum=checksum,
        )


def parse_bat(buf: bytes | bytearray, entries: int) -> tuple[int, ...]:
    """The BAT's sector offsets (BLOCK_UNUSED for an absent block)."""
    if len(buf) < entries * 4:
        raise VhdError(f"truncated VHD BAT: {len(buf)} of {entries * 4} bytes")
    return struct.unpack_from(f">{entries}I", buf)


@dataclass(frozen=True, slots=True)
class VhdInfo:
    """What the backup-remote source needs to know about one VHD."""

    disk_type: DiskType
    virtual_size: int
    uuid: str
    parent_uuid: str | None = None
    parent_name: str | None = None  # parentUnicodeName: on an XO remote, a path relative to this VHD's folder
    block_size: int | None = None
    timestamp: datetime = VHD_EPOCH
    path: Path | None = None  # where it was read from (the alias itself for an .alias.vhd)
    data_path: Path | None = None  # the file or block-mode folder holding the data

    @classmethod
    def from_parts(cls, footer: VhdFooter, header: VhdHeader | None) -> VhdInfo:
        differencing = footer.disk_type == 4
        return cls(
            disk_type=footer.type_name,
            virtual_size=footer.current_size,
            uuid=str(footer.uuid),
            parent_uuid=str(header.parent_uuid) if differencing and header and header.parent_uuid else None,
            parent_name=(header.parent_unicode_name or None) if differencing and header else None,
            block_size=header.block_size if header else None,
            timestamp=VHD_EPOCH + timedelta(seconds=footer.timestamp),
        )


def parse_vhd_head(footer_bytes: bytes, header_bytes: bytes | None = None) -> VhdInfo:
    """VhdInfo from a footer and (for dynamic and differencing VHDs) the header that follows it."""
    footer = VhdFooter.parse(footer_bytes)
    if footer.disk_type == 2:
        return VhdInfo.from_parts(footer, None)
    if header_bytes is None:
        raise VhdError(f"VHD of type {footer.type_name} needs its header")
    return VhdInfo.from_parts(footer, VhdHeader.parse(header_bytes, footer))


def stream_length(footer: VhdFooter, header: VhdHeader, bat: Sequence[int]) -> int:
    """Total bytes of a dynamic or differencing VHD laid out as XO exports it.

    The footer follows the block with the highest BAT offset (vhd-lib's rule); with no block at all, it
    follows the BAT (rounded up to a sector) or the last parent locator's data if that lies further.
    """
    used = [sector for sector in bat if sector != BLOCK_UNUSED]
    if used:
        end = max(used) * SECTOR_SIZE + bitmap_size(header.block_size) + header.block_size
    else:
        end = _align(header.table_offset + 4 * header.max_table_entries)
        for loc in header.parent_locators:
            if loc.used:
                end = max(end, _align(loc.data_offset + loc.data_length))
    return end + FOOTER_SIZE


def fixed_vhd_length(virtual_size: int) -> int:
    """A fixed VHD is the raw disk followed by its footer."""
    return virtual_size + FOOTER_SIZE


class VhdMeasure(NamedTuple):
    """What `measure_vhd_stream` returns: `length, chunks, info = measure_vhd_stream(it)`."""

    length: int
    chunks: Iterator[bytes]
    info: VhdInfo


class _Head:
    """Pulls chunks from an iterator until enough of the head is buffered, keeping the chunks as they came."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.source = chunks
        self.taken: list[bytes] = []
        self.buf = bytearray()

    def need(self, n: int, what: str) -> bytes:
        if n > MAX_HEAD_BYTES:
            raise VhdError(f"VHD {what} ends at byte {n}, past the {MAX_HEAD_BYTES}-byte head limit")
        while len(self.buf) < n:
            chunk = next(self.source, None)
            if chunk is None:
                raise VhdError(f"truncated VHD stream: ended at byte {len(self.buf)} in the {what} (needs {n})")
            if chunk:
                self.taken.append(bytes(chunk))
                self.buf += chunk
        return bytes(self.buf[:n])

    def replay(self) -> Iterator[bytes]:
        yield from self.taken
        self.taken = []
        yield from self.source


def max_vhd_length(virtual_size: int, block_size: int | None) -> int:
    """The most bytes a dynamic or differencing VHD of a `virtual_size`-byte disk can hold: its head
    (footer copy, header, BAT, with room for alignment), every block with its bitmap, the footer."""
    block = block_size or DEFAULT_BLOCK_SIZE
    blocks = -(-virtual_size // block)
    bitmap = _round_up(-(-block // SECTOR_SIZE // 8), SECTOR_SIZE)
    head = FOOTER_SIZE + HEADER_SIZE + _round_up(4 * blocks, SECTOR_SIZE) + HEAD_SLACK
    return head + blocks * (bitmap + block) + FOOTER_SIZE


def _round_up(value: int, unit: int) -> int:
    return -(-value // unit) * unit


def check_vhd_size(info: VhdInfo | None, length: int, virtual_size: int) -> None:
    """VhdError when a VHD's head disagrees with the disk it should hold (XO's virtual size of the VDI)."""
    if info is None:
        return
    if info.virtual_size != virtual_size:
        raise VhdError(f"the VHD says the disk holds {info.virtual_size} bytes, Xen Orchestra says "
                       f"{virtual_size}: not written")
    limit = max_vhd_length(virtual_size, info.block_size)
    if length > limit:
        raise VhdError(f"the VHD's head claims {length} bytes, more than a VHD of a {virtual_size}-byte disk "
                       f"can hold ({limit}): not written")


def measure_vhd_stream(chunks: Iterable[bytes], *, fixed_size: int | None = None) -> VhdMeasure:
    """Read just enough of a VHD stream to know its total length; the chunks are yielded unchanged.

    Dynamic and differencing VHDs are measured from their head (footer copy, header, BAT). A fixed VHD
    starts with disk data, so its size must come from elsewhere: pass `fixed_size` (the VDI's virtual
    size); a stream that does not start with a footer is then taken as fixed (length = size + 512).
    """
    head = _Head(iter(chunks))
    first = head.need(min(8, FOOTER_SIZE), "footer cookie") if fixed_size is not None else b""
    if fixed_size is not None and first != FOOTER_COOKIE:
        info = VhdInfo(disk_type="fixed", virtual_size=fixed_size, uuid=str(uuid.UUID(int=0)))
        return VhdMeasure(fixed_vhd_length(fixed_size), head.replay(), info)
    footer = VhdFooter.parse(head.need(FOOTER_SIZE, "footer"), "footer copy")
    if footer.disk_type == 2:
        raise VhdError("fixed VHD footer at the start of the stream: a fixed VHD has its footer at the end")
    if footer.data_offset > MAX_HEAD_BYTES:
        raise VhdError(f"bad VHD header offset {footer.data_offset}")
    header_end = footer.data_offset + HEADER_SIZE
    header = VhdHeader.parse(head.need(header_end, "header")[footer.data_offset :], footer)
    if header.table_offset < header_end:
        raise VhdError(f"VHD BAT offset {header.table_offset} overlaps the header (ends at {header_end})")
    bat_end = header.table_offset + 4 * header.max_table_entries
    bat = parse_bat(head.need(bat_end, "BAT")[header.table_offset :], header.max_table_entries)
    for index, sector in enumerate(bat):
        if sector != BLOCK_UNUSED and sector * SECTOR_SIZE < bat_end:
            raise VhdError(f"VHD BAT entry {index} points at sector {sector}, inside the head (ends at {bat_end})")
    return VhdMeasure(stream_length(footer, header, bat), head.replay(), VhdInfo.from_parts(footer, header))


# --- VHDs on a backup remote -------------------------------------------------------------------------


def is_vhd_alias(path: str | Path) -> bool:
    return str(path).endswith(".alias.vhd")


def resolve_vhd_alias(path: Path) -> Path:
    """The block-mode folder an `.alias.vhd` names (its content is a path relative to the alias's folder)."""
    if not is_vhd_alias(path):
        return path
    size = path.stat().st_size
    if size > ALIAS_MAX_PATH_LENGTH:
        raise VhdError(f"alias {path} is too big ({size} bytes)")
    target = path.read_text(encoding="utf-8").strip()
    if not target or is_vhd_alias(target):
        raise VhdError(f"alias {path} points at {target!r}: aliases must name a VHD, not an alias")
    return path.parent / target


def _decompress(data: bytes, method: str | None, where: Path) -> bytes:
    if method in (None, "none"):
        return data
    if method == "gzip":
        return gzip.decompress(data)
    if method == "brotli":
        try:
            import brotli  # type: ignore[import-not-found]
        except ImportError:
            try:
                import brotlicffi as brotli  # type: ignore[import-not-found,no-redef]
            except ImportError:
                raise VhdError(f"{where} is brotli-compressed: install the 'brotli' package to read it") from None
        return bytes(brotli.decompress(data))
    raise VhdError(f"{where}: unknown chunk filter {method!r}")


class VhdReader:
    """Random access to the blocks of one VHD file, fixed VHD, block-mode folder or `.alias.vhd`."""

    def __init__(self, path: Path) -> None:
        try:
            self._open(path)
        except VhdError:
            raise
        except (OSError, zlib.error, EOFError) as exc:  # gzip's BadGzipFile is an OSError
            raise VhdError(f"cannot read VHD {path}: {getattr(exc, 'strerror', None) or exc}") from None
        except (ValueError, TypeError, KeyError, IndexError, OverflowError, MemoryError) as exc:
            # a field no check foresaw (JSON, a filter list, an offset): one line, never a traceback
            raise VhdError(f"VHD {path} cannot be read: {exc.__class__.__name__}: {exc}") from None

    def _open(self, path: Path) -> None:
        self.path = path
        self.data_path = resolve_vhd_alias(path)
        self._filter: str | None = None
        if self.data_path.is_dir():
            filters_file = self.data_path / "chunk-filters.json"
            if filters_file.exists():
                filters = json.loads(filters_file.read_text())
                if not isinstance(filters, list) or not all(isinstance(f, str) for f in filters):
                    raise VhdError(f"{filters_file}: expected a list of filter names")
                self._filter = filters[0] if filters else None
            footer = VhdFooter.parse(self._chunk("footer"))
            self.header = VhdHeader.parse(self._chunk("header"), footer) if footer.disk_type != 2 else None
            if self.header is not None:
                bits = self._chunk("bat")
                self._present = [bool(bits[i >> 3] << (i & 7) & 0x80) if i >> 3 < len(bits) else False
                                 for i in range(self.header.max_table_entries)]
        else:
            with self.data_path.open("rb") as f:
                length = os.fstat(f.fileno()).st_size
                first = f.read(FOOTER_SIZE)
                if first[:8] != FOOTER_COOKIE:
                    f.seek(-FOOTER_SIZE, 2)
                    first = f.read(FOOTER_SIZE)
                footer = VhdFooter.parse(first)
                self.header = None
                if footer.disk_type != 2:
                    if footer.data_offset + HEADER_SIZE > length:
                        raise VhdError(f"VHD {path}: header offset {footer.data_offset} is past its end ({length})")
                    f.seek(footer.data_offset)
                    self.header = VhdHeader.parse(f.read(HEADER_SIZE), footer)
                    if self.header.table_offset + 4 * self.header.max_table_entries > length:
                        raise VhdError(f"VHD {path}: the BAT ({self.header.max_table_entries} entries at offset "
                                       f"{self.header.table_offset}) runs past its end ({length})")
                    f.seek(self.header.table_offset)
                    self._bat = parse_bat(f.read(4 * self.header.max_table_entries), self.header.max_table_entries)
        self.footer = footer
        self.info = replace(VhdInfo.from_parts(footer, self.header), path=path, data_path=self.data_path)

    def _chunk(self, name: str) -> bytes:
        where = self.data_path / name
        try:
            return _decompress(where.read_bytes(), self._filter, where)
        except FileNotFoundError:
            raise VhdError(f"block-mode VHD {self.data_path} lacks {name}") from None

    @property
    def block_size(self) -> int:
        return self.header.block_size if self.header else DEFAULT_BLOCK_SIZE

    def has_block(self, index: int) -> bool:
        if self.header is None:
            return True
        if self.data_path.is_dir():
            return self._present[index]
        return self._bat[index] != BLOCK_UNUSED

    def read_block(self, index: int) -> tuple[bytes, bytes] | None:
        """(sector bitmap, data) of a block, or None if absent. A fixed VHD reports every sector present."""
        bsize = self.block_size
        if self.header is None:
            with self.data_path.open("rb") as f:
                f.seek(index * bsize)
                data = f.read(min(bsize, self.footer.current_size - index * bsize))
            return b"\xff" * bitmap_size(bsize), data.ljust(bsize, b"\0")
        if not self.has_block(index):
            return None
        bmp = bitmap_size(bsize)
        if self.data_path.is_dir():
            raw = self._chunk(f"blocks/{index // 1000}/{index % 1000}")
        else:
            try:
                with self.data_path.open("rb") as f:
                    f.seek(self._bat[index] * SECTOR_SIZE)
                    raw = f.read(bmp + bsize)
            except OSError as exc:
                raise VhdError(f"cannot read block {index} of VHD {self.path}: {exc.strerror or exc}") from None
        if len(raw) != bmp + bsize:
            raise VhdError(f"{self.path}: block {index} is {len(raw)} bytes, expected {bmp + bsize}")
        return raw[:bmp], raw[bmp:]


def read_vhd_info(path: str | Path) -> VhdInfo:
    """Type, virtual size, uuid, parent name and uuid of a VHD file, block-mode folder or `.alias.vhd`."""
    return VhdReader(Path(path)).info


def vhd_chain(path: str | Path) -> list[VhdInfo]:
    """The VHD at `path`, then its parent, ... down to the first non-differencing VHD.

    Each parent is found through parentUnicodeName, relative to the child's folder, and must carry the
    uuid the child's header names.
    """
    chain = [read_vhd_info(path)]
    while chain[-1].disk_type == "differencing":
        child = chain[-1]
        assert child.path is not None
        if not child.parent_name:
            raise VhdError(f"differencing VHD {child.path} names no parent")
        parent_path = child.path.parent / child.parent_name
        if not parent_path.exists():
            raise VhdError(f"{child.path}: its parent {child.parent_name} is missing")
        parent = read_vhd_info(parent_path)
        if child.parent_uuid is not None and parent.uuid != child.parent_uuid:
            raise VhdError(f"{child.path}: parent {parent.path} has uuid {parent.uuid}, expected {child.parent_uuid}")
        if len(chain) > 1000:
            raise VhdError(f"VHD chain from {path} is longer than 1000")
        chain.append(parent)
    return chain


def _overlay(out: bytearray, bitmap: bytes, data: bytes) -> None:
    """Copy into `out` the sectors of `data` whose bit is set in `bitmap` (most significant bit first)."""
    for byte_index, bits in enumerate(bitmap[: len(data) // SECTOR_SIZE // 8]):
        if not bits:
            continue
        base = byte_index * 8 * SECTOR_SIZE
        if bits == 0xFF:
            out[base : base + 8 * SECTOR_SIZE] = data[base : base + 8 * SECTOR_SIZE]
            continue
        for bit in range(8):
            if bits & (0x80 >> bit):
                start = base + bit * SECTOR_SIZE
                out[start : start + SECTOR_SIZE] = data[start : start + SECTOR_SIZE]


def iter_chain_raw(path: str | Path) -> Iterator[bytes]:
    """The raw disk content the VHD at `path` describes, its ancestors merged in, one block at a time."""
    readers = [VhdReader(info.path) for info in vhd_chain(path) if info.path is not None]
    top = readers[0]
    size, bsize = top.footer.current_size, top.block_size
    if any(r.block_size != bsize for r in readers if r.header is not None):
        raise VhdError(f"VHD chain from {path} mixes block sizes")
    for index in range(math.ceil(size / bsize)):
        out = bytearray(bsize)
        for reader in reversed(readers):
            if index * bsize >= reader.footer.current_size:
                continue
            block = reader.read_block(index)
            if block is not None:
                _overlay(out, *block)
        yield bytes(out[: min(bsize, size - index * bsize)])
