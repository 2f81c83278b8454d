"""Drive backends for the contract suite (test_contract.py).

The `rig` fixture yields, once per backend in BACKENDS, a drive loaded with a small, blank, writable
cartridge, plus what the tests need to reload it or make it write-protected. A backend that cannot run
here is skipped with its reason.

Adding the real st backend is one entry, along these lines (a tgt image of a few MiB behind /dev/nst0,
see shared/reference/hil-recipe.md; `start` yields a DriveRig around an StDrive on /dev/nst0):

    Backend("st", start=_st_on_nst0, missing=lambda: None if Path("/dev/nst0").exists() else
            "no /dev/nst0 here", marks=(pytest.mark.hil,))
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from console.engine.drives.base import Drive, DriveError
from console.engine.drives.shelf import Shelf
from console.engine.drives.virtual import VirtualDrive

KiB = 1024
MiB = 1024 * KiB

SMALL_CAPACITY = 2 * MiB
SMALL_EARLY_WARNING = 256 * KiB
CONTRACT_BARCODE = "CON001L5"


@dataclass
class DriveRig:
    """A drive under test and the backend-specific handles the contract tests need."""

    drive: Drive
    capacity_bytes: int  # what fits on the loaded cartridge, at most
    reload: Callable[[], None]  # load the same cartridge again after an eject
    write_protect: Callable[[], None] | None = None  # reload it write-protected; None when not possible


@dataclass(frozen=True)
class Backend:
    name: str
    start: Callable[[Path], Iterator[DriveRig]]  # a generator: set up, yield the rig, clean up
    missing: Callable[[], str | None] = lambda: None  # why it cannot run here; None when it can
    marks: tuple[Any, ...] = field(default=())


def _virtual(folder: Path) -> Iterator[DriveRig]:
    shelf = Shelf(folder / "shelf")
    shelf.ensure(CONTRACT_BARCODE, SMALL_CAPACITY, early_warning_bytes=SMALL_EARLY_WARNING)
    drive = VirtualDrive("contract", "LTO-5", shelf)
    drive.load(CONTRACT_BARCODE)

    def reload() -> None:
        drive.load(CONTRACT_BARCODE)

    def write_protect() -> None:
        if drive.status().online:
            drive.eject()
        shelf.set_write_protected(CONTRACT_BARCODE, True)
        drive.load(CONTRACT_BARCODE)

    yield DriveRig(drive, SMALL_CAPACITY, reload, write_protect)
    with contextlib.suppress(DriveError):
        drive.close()


BACKENDS = [
    Backend("virtual", start=_virtual),
]

# ---- added for the real st backend (tests/drives/st_backend.py): one backend per device named in
# TAPECONSOLE_ST_DEVICES ("/dev/nst0,/dev/nst1"), marked hil; none when the variable is unset.
from tests.drives.st_backend import st_backends  # noqa: E402 - needs Backend and DriveRig defined above

BACKENDS += st_backends()
# ---- end of the st backend addition


@pytest.fixture(params=[pytest.param(b, id=b.name, marks=b.marks) for b in BACKENDS])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DriveRig]:
    backend: Backend = request.param
    reason = backend.missing()
    if reason is not None:
        pytest.skip(f"{backend.name} backend: {reason}")
    with contextlib.contextmanager(backend.start)(tmp_path) as prepared:
        yield prepared


@pytest.fixture
def drive(rig: DriveRig) -> Drive:
    return rig.drive
