"""Crash safety of cartridge images: what was written before a filemark survives anything."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from console.engine.drives.base import BlankTape, DriveIOError
from console.engine.drives.shelf import Shelf
from console.engine.drives.tape_image import RUN_HEADER_BYTES
from console.engine.drives.virtual import VirtualDrive
from tests.drives.blocks import READ_ALL, block, read_file, write_file

ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import sys
from pathlib import Path
from console.engine.drives.shelf import Shelf
from console.engine.drives.virtual import VirtualDrive
from tests.drives.blocks import block

drive = VirtualDrive("crash", "LTO-5", Shelf(Path(sys.argv[1])))
drive.load("KIL001L5")
for n in range(40):
    drive.write_block(block(n, 4096))
drive.write_filemarks(1)
for n in range(40, 60):
    drive.write_block(block(n, 1000 + n))
drive.write_filemarks(1)
print("safe", flush=True)
n = 100
while True:
    drive.write_block(block(n, 65536 if n % 3 else 777))
    n += 1
    if n % 50 == 0:
        drive.write_filemarks(1)
"""


def _read_after_crash(drive: VirtualDrive) -> int:
    """Check the tape the writer left; returns how many blocks after the safe point were intact."""
    assert read_file(drive) == [block(n, 4096) for n in range(40)]
    assert read_file(drive) == [block(n, 1000 + n) for n in range(40, 60)]
    number = 100
    while True:
        try:
            data = drive.read_block(READ_ALL)
        except DriveIOError:
            return number - 100  # end of data in the middle of a file: the torn tail was cut
        if data == b"":
            if number % 50:
                pytest.fail(f"a filemark after block {number - 1} that the writer never wrote")
            if drive.status().eod:
                return number - 100
            continue
        assert data == block(number, 65536 if number % 3 else 777), f"block {number} damaged"
        number += 1


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.3])
def test_kill_9_while_writing_keeps_everything_before_the_filemark(tmp_path: Path, delay: float) -> None:
    shelf = Shelf(tmp_path)
    shelf.ensure("KIL001L5")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "safe"
        time.sleep(delay)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(10)
    drive = VirtualDrive("crash", "LTO-5", shelf)  # the cartridge is still in the drive after the crash
    assert drive.status().online and drive.status().bot
    intact = _read_after_crash(drive)
    if delay >= 0.05:
        assert intact > 0
    # the repaired image takes new data where the intact data ends
    drive.end_of_data()
    write_file(drive, [block(9999, 123)])
    drive.space_filemarks(-1)
    drive.space_records(-1)
    assert read_file(drive) == [block(9999, 123)]


def _tape_with_a_tail(folder: Path) -> tuple[Shelf, VirtualDrive, int, bytes]:
    """A tape of one safe file, then more data and filemarks; returns the image size after the safe file."""
    shelf = Shelf(folder)
    shelf.ensure("CUT001L5", 4 * 1024 * 1024)
    drive = VirtualDrive("cut", "LTO-5", shelf)
    drive.load("CUT001L5")
    write_file(drive, [block(n, 300) for n in range(5)])
    image = shelf.image_path("CUT001L5")
    safe = image.stat().st_size
    for size in (100, 100, 50, 100):
        drive.write_block(block(size, size))
    drive.write_filemarks(1)
    drive.write_block(block(70, 70))
    drive.end_of_data()  # no longer writing: close() adds no filemark
    drive.close()
    return shelf, drive, safe, image.read_bytes()


TAIL = [block(100, 100), block(100, 100), block(50, 50), block(100, 100), b"", block(70, 70)]


def _read_tail(drive: VirtualDrive) -> list[bytes]:
    """Blocks and filemarks (b"") up to end of data."""
    items: list[bytes] = []
    while True:
        at_end = drive.status().eod
        try:
            data = drive.read_block(READ_ALL)
        except DriveIOError:
            return items
        if at_end:
            assert data == b""
            return items
        items.append(data)


def test_a_torn_tail_is_cut_wherever_the_crash_happened(tmp_path: Path) -> None:
    shelf, drive, safe, full = _tape_with_a_tail(tmp_path)
    image = shelf.image_path("CUT001L5")
    seen = set()
    for cut in range(safe, len(full) + 1):
        image.write_bytes(full[:cut])
        drive.rewind()  # reopens the image
        assert read_file(drive) == [block(n, 300) for n in range(5)], f"cut at {cut}"
        tail = _read_tail(drive)
        assert tail == TAIL[: len(tail)], f"cut at {cut}"
        seen.add(len(tail))
        drive.close()
    assert seen == set(range(len(TAIL) + 1))  # every prefix of the tail, and nothing else


def test_a_damaged_tail_header_loses_only_what_followed_the_last_filemark(tmp_path: Path) -> None:
    shelf, drive, _safe, full = _tape_with_a_tail(tmp_path)
    image = shelf.image_path("CUT001L5")
    tail_header = len(full) - 70 - RUN_HEADER_BYTES
    damaged = bytearray(full)
    damaged[tail_header + 12] ^= 0xFF  # a half-updated count, say
    image.write_bytes(bytes(damaged))
    drive.rewind()
    assert read_file(drive) == [block(n, 300) for n in range(5)]
    assert read_file(drive) == TAIL[:4]
    assert drive.read_block(READ_ALL) == b""  # end of data right after that filemark
    assert image.stat().st_size == tail_header


def test_garbage_after_the_last_record_is_cut(tmp_path: Path) -> None:
    shelf, drive, _safe, full = _tape_with_a_tail(tmp_path)
    image = shelf.image_path("CUT001L5")
    image.write_bytes(full + os.urandom(1000))
    drive.rewind()
    read_file(drive)
    assert _read_tail(drive) == TAIL
    assert image.stat().st_size == len(full)


def test_a_file_that_is_not_a_cartridge_image_is_left_alone(tmp_path: Path) -> None:
    shelf = Shelf(tmp_path)
    shelf.ensure("BAD001L5")
    image = shelf.image_path("BAD001L5")
    image.write_bytes(b"this is somebody's tar file" * 10)
    drive = VirtualDrive("lto5", "LTO-5", shelf)
    with pytest.raises(DriveIOError, match="not a tapeconsole cartridge image"):
        drive.load("BAD001L5")
    assert shelf.location("BAD001L5") is None and not drive.status().online
    assert image.read_bytes() == b"this is somebody's tar file" * 10


def test_an_empty_image_is_a_blank_tape(tmp_path: Path) -> None:
    shelf = Shelf(tmp_path)
    shelf.ensure("NEW001L5")
    drive = VirtualDrive("lto5", "LTO-5", shelf)
    drive.load("NEW001L5")
    with pytest.raises(BlankTape, match="NEW001L5"):
        drive.read_block(READ_ALL)
