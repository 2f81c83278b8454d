"""The LTO facts, in one table: generations, native capacity, native rate and speed-matching floor,
which media a drive reads and writes, and the barcode convention (shared/reference/st-and-lto.md).

Capacity and rates are decimal (1 GB = 1000**3 bytes, 1 MB/s = 1000**2 bytes/s), as the LTO figures are quoted.
Rates are known for the generations this site runs (LTO-4 and LTO-5); the others have none here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

GB = 1000**3
MB = 1000**2


@dataclass(frozen=True, slots=True)
class Generation:
    name: str  # "LTO-5"
    number: int  # 5
    native_capacity: int  # bytes, uncompressed
    native_rate: float | None = None  # bytes/s, uncompressed
    floor_rate: float | None = None  # bytes/s: below this the drive cannot speed-match and shoe-shines


TABLE: dict[str, Generation] = {g.name: g for g in (
    Generation("LTO-3", 3, 400 * GB),
    Generation("LTO-4", 4, 800 * GB, 120 * MB, 40 * MB),
    Generation("LTO-5", 5, 1500 * GB, 140 * MB, 47 * MB),
    Generation("LTO-6", 6, 2500 * GB),
    Generation("LTO-7", 7, 6000 * GB),
    Generation("LTO-8", 8, 12000 * GB),
)}
GENERATIONS = tuple(TABLE)
NATIVE_CAPACITY: dict[str, int] = {name: g.native_capacity for name, g in TABLE.items()}
# Native rate and speed-matching floor per generation where known (bytes/s).
GENERATION_RATES: dict[str, tuple[float, float]] = {
    name: (g.native_rate, g.floor_rate) for name, g in TABLE.items()
    if g.native_rate is not None and g.floor_rate is not None
}
# SCSI density codes of LTO media (SSC, MODE SENSE block descriptor) -> generation.
DENSITY_GENERATIONS: dict[int, str] = {
    0x44: "LTO-3",
    0x46: "LTO-4",
    0x58: "LTO-5",
    0x5A: "LTO-6",
    0x5C: "LTO-7",
    0x5E: "LTO-8",
}
BARCODE = re.compile(r"^[A-Z0-9]{6}L([0-9])$")


def generation_number(generation: str) -> int:
    """'LTO-5' -> 5."""
    if generation not in TABLE:
        raise ValueError(f"unknown generation {generation!r}")
    return TABLE[generation].number


def drive_can_read(drive_generation: str, media_generation: str) -> bool:
    """An LTO drive reads its own generation and two back (LTO-8 only one back)."""
    d, m = generation_number(drive_generation), generation_number(media_generation)
    back = 1 if d >= 8 else 2
    return d - back <= m <= d


def drive_can_write(drive_generation: str, media_generation: str) -> bool:
    """An LTO drive writes its own generation and one back."""
    d, m = generation_number(drive_generation), generation_number(media_generation)
    return d - 1 <= m <= d


def generation_of_barcode(barcode: str) -> str:
    """LTO barcode convention: six characters then L and the generation digit (DEM001L5 -> LTO-5)."""
    return f"LTO-{barcode[-1]}"
