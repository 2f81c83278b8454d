"""The shelf: a folder of virtual cartridges, and where each one is - on the shelf or in a drive.

A cartridge is two files: `<BARCODE>.tape`, the image a virtual drive records on (see virtual.py), and
`<BARCODE>.json`, what is known about the cartridge itself: generation, capacity, early-warning zone and
the position of its write-protect tab. `shelf-state.json` records which drive holds which cartridge, so a
cartridge is never in two drives at once and a drive finds its cartridge again after a restart. Every JSON
file is replaced atomically (temp file, fsync, rename), and changes to the state happen under a file lock
so two processes sharing a shelf cannot both take the same cartridge.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from console.engine.drives.base import DriveError
from console.engine.durable import fsync_folder
from console.wire.lto import GENERATIONS, NATIVE_CAPACITY

GB = 1000**3
GiB = 1024**3

# Native (uncompressed) capacity per generation, the default size of a new cartridge.

_BARCODE = re.compile(r"[A-Z0-9]{6}L([0-9])")
STATE_FILE = "shelf-state.json"
LOCK_FILE = ".shelf.lock"


def generation_of(barcode: str) -> str:
    """'DEM001L5' -> 'LTO-5'. ValueError (one line) when the barcode does not follow the LTO convention."""
    match = _BARCODE.fullmatch(barcode) if isinstance(barcode, str) else None
    if match is None:
        raise ValueError(
            f"{barcode!r} is not an LTO barcode: six capital letters or digits, then L and the generation, "
            "e.g. DEM001L5"
        )
    generation = f"LTO-{match.group(1)}"
    if generation not in GENERATIONS:
        raise ValueError(f"barcode {barcode!r}: {generation} media is not supported ({', '.join(GENERATIONS)})")
    return generation


class ShelfError(DriveError):
    """A cartridge is unknown, damaged, or not where the operation needs it."""


@dataclass(frozen=True, slots=True)
class CartridgeInfo:
    """One virtual cartridge as the shelf knows it."""

    barcode: str
    generation: str
    capacity_bytes: int  # the physical end: no write goes past it
    early_warning_bytes: int  # size of the early-warning zone just before the physical end
    write_protected: bool  # the cartridge's write-protect tab
    location: str | None  # the drive that holds it, None when it is on the shelf
    image_bytes: int  # size of its image file on disk

    @property
    def early_warning_at(self) -> int:
        """Bytes recorded from BOT at which early warning starts."""
        return self.capacity_bytes - self.early_warning_bytes

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class Shelf:
    """A folder of virtual cartridges."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._thread_lock = threading.RLock()

    def __repr__(self) -> str:
        return f"Shelf({str(self.path)!r})"

    # ---- cartridges
    def ensure(
        self,
        barcode: str,
        capacity_bytes: int | None = None,
        write_protected: bool = False,
        *,
        early_warning_bytes: int | None = None,
    ) -> CartridgeInfo:
        """The cartridge `barcode`, created blank if the shelf does not have it yet.

        capacity_bytes defaults to the generation's native capacity (the image only grows with what is
        written); early_warning_bytes, the zone before the end where early warning holds, defaults to 2%
        of the capacity, at most 4 GiB. An existing cartridge is returned as it is.
        """
        generation = generation_of(barcode)
        capacity = NATIVE_CAPACITY[generation] if capacity_bytes is None else int(capacity_bytes)
        if capacity <= 0:
            raise ValueError(f"cartridge {barcode}: capacity must be above 0 bytes, got {capacity}")
        warning = min(capacity // 50, 4 * GiB) if early_warning_bytes is None else int(early_warning_bytes)
        if not 0 <= warning < capacity:
            raise ValueError(
                f"cartridge {barcode}: early-warning zone of {warning} bytes does not fit in {capacity} bytes"
            )
        with self._locked():
            if not self._meta_path(barcode).exists():
                self.image_path(barcode).touch(mode=0o600, exist_ok=True)  # an empty image is a blank tape
                _write_json_atomically(
                    self._meta_path(barcode),
                    {
                        "barcode": barcode,
                        "generation": generation,
                        "capacity_bytes": capacity,
                        "early_warning_bytes": warning,
                        "write_protected": bool(write_protected),
                    },
                )
            return self._info(barcode, self._read_state())

    def barcodes(self) -> list[str]:
        """Every cartridge of this shelf, in drives or not, sorted."""
        found = []
        for meta in self.path.glob("*.json"):
            try:
                generation_of(meta.stem)
            except ValueError:
                continue
            found.append(meta.stem)
        return sorted(found)

    def info(self, barcode: str) -> CartridgeInfo:
        with self._locked():
            return self._info(barcode, self._read_state())

    def set_write_protected(self, barcode: str, protected: bool) -> CartridgeInfo:
        """Slide the write-protect tab; only possible while the cartridge is on the shelf."""
        with self._locked():
            state = self._read_state()
            info = self._info(barcode, state)
            if info.location is not None:
                raise ShelfError(f"cartridge {barcode} is in drive {info.location}: eject it to move its tab")
            meta = self._read_meta(barcode)
            meta["write_protected"] = bool(protected)
            _write_json_atomically(self._meta_path(barcode), meta)
            return self._info(barcode, state)

    def image_path(self, barcode: str) -> Path:
        self._check_barcode(barcode)
        return self.path / f"{barcode}.tape"

    # ---- where cartridges are
    def location(self, barcode: str) -> str | None:
        """The drive holding `barcode`, None when it is on the shelf."""
        return self.info(barcode).location

    def loaded_in(self, drive_name: str) -> str | None:
        """The barcode of the cartridge in drive `drive_name`, None when it holds none."""
        with self._locked():
            for barcode, drive in self._read_state().items():
                if drive == drive_name:
                    return barcode
        return None

    def take(self, barcode: str, drive_name: str) -> CartridgeInfo:
        """Move a cartridge from the shelf into a drive."""
        with self._locked():
            state = self._read_state()
            info = self._info(barcode, state)
            if info.location == drive_name:
                return info
            if info.location is not None:
                raise ShelfError(f"cartridge {barcode} is in drive {info.location}, not on the shelf")
            for other, drive in state.items():
                if drive == drive_name:
                    raise ShelfError(f"drive {drive_name} already holds {other}: eject it first")
            state[barcode] = drive_name
            self._write_state(state)
            return self._info(barcode, state)

    def put_back(self, barcode: str, drive_name: str) -> None:
        """Return a cartridge from drive `drive_name` to the shelf."""
        with self._locked():
            state = self._read_state()
            where = state.get(barcode)
            if where is None:
                return
            if where != drive_name:
                raise ShelfError(f"cartridge {barcode} is in drive {where}, not in {drive_name}")
            del state[barcode]
            self._write_state(state)

    # ---- files
    def _meta_path(self, barcode: str) -> Path:
        self._check_barcode(barcode)
        return self.path / f"{barcode}.json"

    def _check_barcode(self, barcode: str) -> None:
        try:
            generation_of(barcode)
        except ValueError as exc:
            raise ShelfError(str(exc)) from None

    def _read_meta(self, barcode: str) -> dict[str, Any]:
        path = self._meta_path(barcode)
        try:
            meta = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ShelfError(f"no cartridge {barcode} on the shelf {self.path}") from None
        except (OSError, ValueError) as exc:
            raise ShelfError(f"cartridge {barcode}: cannot read {path.name}: {exc}") from None
        if not isinstance(meta, dict):
            raise ShelfError(f"cartridge {barcode}: {path.name} is not a JSON object")
        return meta

    def _info(self, barcode: str, state: dict[str, str]) -> CartridgeInfo:
        meta = self._read_meta(barcode)
        try:
            image = self.image_path(barcode).stat().st_size
        except FileNotFoundError:
            raise ShelfError(f"cartridge {barcode}: its image {barcode}.tape is missing from {self.path}") from None
        try:
            return CartridgeInfo(
                barcode=barcode,
                generation=str(meta.get("generation") or generation_of(barcode)),
                capacity_bytes=int(meta["capacity_bytes"]),
                early_warning_bytes=int(meta["early_warning_bytes"]),
                write_protected=bool(meta.get("write_protected", False)),
                location=state.get(barcode),
                image_bytes=image,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ShelfError(f"cartridge {barcode}: {barcode}.json is damaged ({exc!r})") from None

    def _read_state(self) -> dict[str, str]:
        """barcode -> drive name, for every cartridge that is in a drive."""
        path = self.path / STATE_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise ShelfError(f"shelf {self.path}: cannot read {STATE_FILE}: {exc}") from None
        in_drives = raw.get("in_drives", {}) if isinstance(raw, dict) else None
        if not isinstance(in_drives, dict):
            raise ShelfError(f"shelf {self.path}: {STATE_FILE} is damaged")
        return {str(barcode): str(drive) for barcode, drive in in_drives.items()}

    def _write_state(self, state: dict[str, str]) -> None:
        _write_json_atomically(self.path / STATE_FILE, {"version": 1, "in_drives": dict(sorted(state.items()))})

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time, across threads and processes."""
        with self._thread_lock, open(self.path / LOCK_FILE, "a+b") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            yield


def _write_json_atomically(path: Path, data: dict[str, Any]) -> None:
    """Replace `path` so that a reader (or a crash) sees either the old or the new content, never a mix."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2, sort_keys=True)
            out.write("\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_folder(path.parent)
