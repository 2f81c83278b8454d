"""Deterministic synthetic disks and the VHDs that describe them.

A `Layer` is what one backup run (or the first full) wrote: which blocks, and their bytes, all derived
from a seed. A `Disk` stacks layers, base first; its content is what a reader sees through the stack.
A `VhdImage` lays a block source out as a dynamic or differencing VHD, in exactly the order XO streams
an export: footer copy, dynamic header, BAT (padded to a sector), parent locator data, blocks in BAT
order (sector bitmap then data), footer. The same bytes make a valid VHD file.

Some blocks are compressible (text and zeros), the others random; a fraction of the blocks of a layer
can cover only part of their sectors (the bitmap then says which).
"""

from __future__ import annotations

import math
import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal, Protocol

from console.engine.tapeformat.vhd import (
    BLOCK_UNUSED,
    DEFAULT_BLOCK_SIZE,
    FOOTER_SIZE,
    HEADER_SIZE,
    NO_DATA_OFFSET,
    PLATFORM_W2RU,
    SECTOR_SIZE,
    ParentLocator,
    VhdFooter,
    VhdHeader,
    bitmap_size,
)

_POOL_SIZE = 1 << 20
_SLICE = 64 * 1024


@lru_cache(maxsize=64)
def _random_pool(seed: int) -> bytes:
    return random.Random(f"pool:{seed}").randbytes(_POOL_SIZE + _SLICE)


class BlockSource(Protocol):
    """Anything that can be laid out as a VHD: a virtual size, a block size and sparse blocks."""

    @property
    def virtual_size(self) -> int: ...

    @property
    def block_size(self) -> int: ...

    def block_ids(self) -> Sequence[int]: ...

    def block(self, index: int) -> tuple[bytes, bytes]:
        """(sector bitmap, data); data is zero where the bitmap is clear."""
        ...


def _blocks_in(virtual_size: int, block_size: int) -> int:
    return math.ceil(virtual_size / block_size)


@dataclass(frozen=True)
class Layer:
    """The blocks one write pass left on a disk, derived from `seed`."""

    seed: int
    virtual_size: int
    allocated: float = 0.5  # fraction of the disk's blocks present
    compressible: float = 0.5  # fraction of present blocks that are text and zeros rather than random
    partial: float = 0.0  # fraction of present blocks that cover only some of their sectors
    block_size: int = DEFAULT_BLOCK_SIZE

    def __post_init__(self) -> None:
        if self.virtual_size <= 0 or self.virtual_size % SECTOR_SIZE:
            raise ValueError(f"virtual size {self.virtual_size} must be a positive multiple of 512")
        ratio = self.block_size // SECTOR_SIZE
        if self.block_size % SECTOR_SIZE or ratio & (ratio - 1) or ratio == 0:
            raise ValueError(f"block size {self.block_size} must be a power of two times 512")

    @cached_property
    def _ids(self) -> tuple[int, ...]:
        rng = random.Random(f"alloc:{self.seed}")
        n = _blocks_in(self.virtual_size, self.block_size)
        return tuple(i for i in range(n) if rng.random() < self.allocated)

    def block_ids(self) -> Sequence[int]:
        return self._ids

    @cached_property
    def id_set(self) -> frozenset[int]:
        return frozenset(self._ids)

    def _sectors_in(self, index: int) -> int:
        per_block = self.block_size // SECTOR_SIZE
        return min(per_block, (self.virtual_size - index * self.block_size) // SECTOR_SIZE)

    def block(self, index: int) -> tuple[bytes, bytes]:
        rng = random.Random(f"block:{self.seed}:{index}")
        bsize = self.block_size
        if rng.random() < self.compressible:
            text = f"tapeconsole synthetic disk seed {self.seed} block {index:08d} ".encode()
            half = bsize // 2
            data = bytearray((text * (half // len(text) + 1))[:half] + bytes(bsize - half))
        else:
            pool = _random_pool(self.seed)
            piece = min(_SLICE, bsize)
            data = bytearray(
                b"".join(pool[o : o + piece] for o in (rng.randrange(_POOL_SIZE) for _ in range(bsize // piece)))
            )
        sectors = self._sectors_in(index)
        first, last = 0, sectors
        if rng.random() < self.partial and sectors > 1:
            first = rng.randrange(sectors - 1)
            last = rng.randrange(first + 1, sectors + 1)
        data[: first * SECTOR_SIZE] = bytes(first * SECTOR_SIZE)
        data[last * SECTOR_SIZE :] = bytes(bsize - last * SECTOR_SIZE)
        return _bitmap_for(first, last, bsize), bytes(data)


def _bitmap_for(first: int, last: int, block_size: int) -> bytes:
    """A sector bitmap (most significant bit first) with sectors [first, last) set."""
    bits = bytearray(bitmap_size(block_size))
    full_from, full_to = math.ceil(first / 8), last // 8
    if full_from < full_to:
        bits[full_from:full_to] = b"\xff" * (full_to - full_from)
        edges = list(range(first, full_from * 8)) + list(range(full_to * 8, last))
    else:
        edges = list(range(first, last))
    for sector in edges:
        bits[sector >> 3] |= 0x80 >> (sector & 7)
    return bytes(bits)


@dataclass(frozen=True)
class Disk:
    """Layers stacked base first: the disk a reader sees through all of them."""

    layers: tuple[Layer, ...]

    def __post_init__(self) -> None:
        if not self.layers:
            raise ValueError("a disk needs at least one layer")
        if len({layer.block_size for layer in self.layers}) != 1:
            raise ValueError("all layers of a disk must share one block size")

    @property
    def virtual_size(self) -> int:
        return self.layers[-1].virtual_size

    @property
    def block_size(self) -> int:
        return self.layers[0].block_size

    @cached_property
    def _ids(self) -> tuple[int, ...]:
        n = _blocks_in(self.virtual_size, self.block_size)
        return tuple(sorted({i for layer in self.layers for i in layer.block_ids() if i < n}))

    def block_ids(self) -> Sequence[int]:
        return self._ids

    def block(self, index: int) -> tuple[bytes, bytes]:
        present = [layer for layer in self.layers if index in layer.id_set]
        if len(present) == 1:
            return present[0].block(index)
        bitmap = bytearray(bitmap_size(self.block_size))
        data = bytearray(self.block_size)
        for layer in present:
            bits, payload = layer.block(index)
            for i, b in enumerate(bits):
                bitmap[i] |= b
            _overlay(data, bits, payload)
        return bytes(bitmap), bytes(data)

    def top(self, count: int) -> Disk:
        """The disk as it was after its first `count` layers."""
        return Disk(self.layers[:count])


def _overlay(out: bytearray, bitmap: bytes, data: bytes) -> None:
    """Copy the sectors of `data` whose bitmap bit is set into `out`, a whole run of set bytes at once."""
    run = 8 * SECTOR_SIZE  # bytes covered by one bitmap byte
    usable = bitmap[: len(data) // run]
    index = 0
    while index < len(usable):
        if usable[index] == 0xFF:
            end = index
            while end < len(usable) and usable[end] == 0xFF:
                end += 1
            out[index * run : end * run] = data[index * run : end * run]
            index = end
            continue
        bits = usable[index]
        for bit in range(8):
            if bits & (0x80 >> bit):
                start = index * run + bit * SECTOR_SIZE
                out[start : start + SECTOR_SIZE] = data[start : start + SECTOR_SIZE]
        index += 1


def raw_chunks(source: BlockSource) -> Iterator[bytes]:
    """The raw content of `source`, `virtual_size` bytes, one block at a time."""
    size, bsize = source.virtual_size, source.block_size
    present = set(source.block_ids())
    zero = bytes(bsize)
    for index in range(_blocks_in(size, bsize)):
        data = source.block(index)[1] if index in present else zero
        yield data[: min(bsize, size - index * bsize)]


@dataclass(frozen=True)
class VhdImage:
    """A block source laid out as a dynamic or differencing VHD, XO's export order."""

    source: BlockSource
    uuid: uuid.UUID
    disk_type: Literal["dynamic", "differencing"] = "dynamic"
    parent_uuid: uuid.UUID | None = None
    parent_name: str = ""  # parentUnicodeName: on an XO remote, the parent's path relative to this file
    parent_timestamp: int = 0
    timestamp: int = 0  # VHD epoch seconds
    locator: bool = True  # differencing only: also name the parent in a W2ru parent locator
    block_ids: tuple[int, ...] = field(init=False)

    def __post_init__(self) -> None:
        n = _blocks_in(self.source.virtual_size, self.source.block_size)
        object.__setattr__(self, "block_ids", tuple(i for i in self.source.block_ids() if i < n))

    @cached_property
    def _plan(self) -> tuple[VhdHeader, bytes, bytes, int]:
        """(header, BAT bytes padded to a sector, locator data, sector of the first block)."""
        src = self.source
        entries = _blocks_in(src.virtual_size, src.block_size)
        table_offset = FOOTER_SIZE + HEADER_SIZE
        bat_bytes = math.ceil(entries * 4 / SECTOR_SIZE) * SECTOR_SIZE
        locator_data = b""
        locators: tuple[ParentLocator, ...] = ()
        if self.disk_type == "differencing" and self.locator and self.parent_name:
            locator_data = (".\\" + self.parent_name.replace("/", "\\")).encode("utf-16-le")
            space = math.ceil(len(locator_data) / SECTOR_SIZE) * SECTOR_SIZE
            locators = (ParentLocator(PLATFORM_W2RU, space, len(locator_data), table_offset + bat_bytes),)
            locator_data = locator_data.ljust(space, b"\0")
        first_sector = (table_offset + bat_bytes + len(locator_data)) // SECTOR_SIZE
        sectors_per_block = (bitmap_size(src.block_size) + src.block_size) // SECTOR_SIZE
        bat = [BLOCK_UNUSED] * entries
        for n, index in enumerate(self.block_ids):
            bat[index] = first_sector + n * sectors_per_block
        header = VhdHeader(
            table_offset=table_offset,
            max_table_entries=entries,
            block_size=src.block_size,
            parent_uuid=self.parent_uuid if self.disk_type == "differencing" else None,
            parent_timestamp=self.parent_timestamp,
            parent_unicode_name=self.parent_name if self.disk_type == "differencing" else "",
            parent_locators=locators,
        )
        bat_raw = b"".join(x.to_bytes(4, "big") for x in bat).ljust(bat_bytes, b"\xff")
        return header, bat_raw, locator_data, first_sector

    @property
    def header(self) -> VhdHeader:
        return self._plan[0]

    @cached_property
    def head(self) -> bytes:
        """Footer copy, header, BAT and parent locator data: everything before the first block."""
        header, bat, locator_data, _ = self._plan
        return self.footer + header.pack() + bat + locator_data

    @cached_property
    def footer(self) -> bytes:
        return VhdFooter(
            disk_type=3 if self.disk_type == "dynamic" else 4,
            current_size=self.source.virtual_size,
            uuid=self.uuid,
            timestamp=self.timestamp,
        ).pack()

    @property
    def length(self) -> int:
        first_sector = self._plan[3]
        full_block = bitmap_size(self.source.block_size) + self.source.block_size
        return first_sector * SECTOR_SIZE + len(self.block_ids) * full_block + FOOTER_SIZE

    def chunks(self) -> Iterator[bytes]:
        """The export, in order: head, then each block's bitmap and data, then the footer."""
        yield self.head
        for index in self.block_ids:
            bitmap, data = self.source.block(index)
            yield bitmap + data
        yield self.footer

    def write(self, path: Path) -> Path:
        with path.open("wb") as f:
            for chunk in self.chunks():
                f.write(chunk)
        return path


def fixed_vhd_chunks(source: BlockSource, vhd_uuid: uuid.UUID, timestamp: int = 0) -> Iterator[bytes]:
    """A fixed VHD: the raw disk, then a footer of type 2."""
    yield from raw_chunks(source)
    yield VhdFooter(
        disk_type=2, current_size=source.virtual_size, uuid=vhd_uuid, data_offset=NO_DATA_OFFSET, timestamp=timestamp
    ).pack()

