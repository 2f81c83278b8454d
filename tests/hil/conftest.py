"""The HIL tier: tests that run inside the QEMU guest hil/run boots (the kernel st driver on tgt's virtual
tapes), and the host-side test that boots it. hil/run passes the guest its tapes in the environment:

    TAPECONSOLE_HIL_GUEST=1
    TAPECONSOLE_HIL_DRIVES=/dev/nst0=TCH001L4,/dev/nst1=TCH002L5,/dev/nst2=TCH003L4
    TAPECONSOLE_HIL_WRITE_PROTECTED=/dev/nst2        a read-only LUN, always blank
    TAPECONSOLE_HIL_TAPE_MB=32                       the size of the nst0 and nst1 images
    TAPECONSOLE_ST_BLANK=...                         how to blank them (tests/drives/st_backend.py)
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from console.engine.drives.base import DriveError
from console.engine.drives.st import StDrive
from tests.drives.st_backend import StTape, configured_tapes, open_blank_drive

IN_GUEST = os.environ.get("TAPECONSOLE_HIL_GUEST") == "1"


def hil_drives() -> dict[Path, str]:
    """Device -> barcode of the tapes hil/run attached."""
    drives = {}
    for item in os.environ.get("TAPECONSOLE_HIL_DRIVES", "").split(","):
        if "=" in item:
            device, barcode = item.split("=", 1)
            drives[Path(device)] = barcode
    return drives


@pytest.fixture
def tape_bytes() -> int:
    return int(os.environ["TAPECONSOLE_HIL_TAPE_MB"]) * 1024 * 1024


@pytest.fixture
def write_protected_device() -> Path:
    return Path(os.environ["TAPECONSOLE_HIL_WRITE_PROTECTED"])


@pytest.fixture
def blank_drive() -> Iterator[Callable[[Path], StDrive]]:
    """blank_drive(Path("/dev/nst1")): an StDrive on that device with a blank cartridge, variable blocks;
    closed after the test."""
    tapes: dict[Path, StTape] = {tape.device: tape for tape in configured_tapes()}
    opened: list[StDrive] = []

    def open_drive(device: Path) -> StDrive:
        generation = "LTO-" + hil_drives().get(device, "L5")[-1]
        opened.append(open_blank_drive(tapes[device], generation))
        return opened[-1]

    yield open_drive
    for drive in opened:
        with contextlib.suppress(DriveError):
            drive.close()
