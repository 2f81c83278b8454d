"""The virtual drive beyond the contract: shelf and generation rules, persistence, speed, threads."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from console.engine.drives.base import (
    DriveBusy,
    DriveError,
    DriveIOError,
    MediaIncompatible,
    NoTape,
    WriteProtected,
)
from console.engine.drives.shelf import Shelf
from console.engine.drives.speed import MB, SpeedModel
from console.engine.drives.virtual import MAX_BLOCK_BYTES, VirtualDrive
from tests.drives.blocks import READ_ALL, block, read_file, write_file
from tests.drives.fake_clock import FakeClock

KiB = 1024
MiB = 1024 * KiB


@pytest.fixture
def shelf(tmp_path: Path) -> Shelf:
    shelf = Shelf(tmp_path / "shelf")
    for barcode in ("DEM001L5", "DEM002L5", "DEM101L4", "OLD001L3", "NEW001L6"):
        shelf.ensure(barcode, 4 * MiB, early_warning_bytes=512 * KiB)
    return shelf


# ---- shelf rules
def test_load_takes_the_cartridge_off_the_shelf_and_eject_returns_it(shelf: Shelf) -> None:
    drive = VirtualDrive("lto5", "LTO-5", shelf)
    assert not drive.status().online
    drive.load("DEM001L5")
    status = drive.status()
    assert (status.barcode, status.media_generation) == ("DEM001L5", "LTO-5")
    assert shelf.location("DEM001L5") == "lto5"
    assert drive.eject() == "DEM001L5"
    assert shelf.location("DEM001L5") is None


def test_a_cartridge_cannot_be_in_two_drives(shelf: Shelf) -> None:
    first, second = VirtualDrive("a", "LTO-5", shelf), VirtualDrive("b", "LTO-5", shelf)
    first.load("DEM001L5")
    with pytest.raises(DriveError, match="DEM001L5 is in drive a"):
        second.load("DEM001L5")
    assert not second.status().online


def test_a_drive_holds_one_cartridge(shelf: Shelf) -> None:
    drive = VirtualDrive("lto5", "LTO-5", shelf)
    drive.load("DEM001L5")
    drive.load("DEM001L5")  # the same one again: nothing to do
    drive.load()  # MTLOAD on a loaded drive: nothing to do
    with pytest.raises(DriveError, match="already holds DEM001L5: eject it first"):
        drive.load("DEM002L5")
    assert shelf.location("DEM002L5") is None


def test_loading_needs_a_known_cartridge(shelf: Shelf) -> None:
    drive = VirtualDrive("lto5", "LTO-5", shelf)
    with pytest.raises(DriveError, match="no cartridge DEM009L5 on the shelf"):
        drive.load("DEM009L5")
    with pytest.raises(DriveError, match="not an LTO barcode"):
        drive.load("nonsense")
    with pytest.raises(NoTape, match="name one from the shelf"):
        drive.load()


# ---- generations
@pytest.mark.parametrize(
    ("drive_generation", "barcode", "expected"),
    [
        ("LTO-5", "DEM001L5", "writable"),
        ("LTO-5", "DEM101L4", "writable"),  # one generation back
        ("LTO-5", "OLD001L3", "read-only"),  # two back: read only
        ("LTO-6", "DEM101L4", "read-only"),
        ("LTO-4", "DEM001L5", "incompatible"),  # newer media
        ("LTO-4", "OLD001L3", "writable"),
        ("LTO-8", "DEM001L5", "incompatible"),  # LTO-8 reads only one back
    ],
)
def test_generation_rules(shelf: Shelf, drive_generation: str, barcode: str, expected: str) -> None:
    drive = VirtualDrive("d", drive_generation, shelf)
    if expected == "incompatible":
        with pytest.raises(MediaIncompatible, match=barcode):
            drive.load(barcode)
        assert shelf.location(barcode) is None and not drive.status().online
        return
    drive.load(barcode)
    assert drive.status().write_protected == (expected == "read-only")
    if expected == "read-only":
        with pytest.raises(WriteProtected, match="reads but cannot write"):
            drive.write_block(b"x" * 100)
    else:
        write_file(drive, [block(0, 100)])
        drive.rewind()
        assert read_file(drive) == [block(0, 100)]


def test_read_only_media_still_reads(shelf: Shelf) -> None:
    writer = VirtualDrive("lto4", "LTO-4", shelf)
    writer.load("OLD001L3")
    write_file(writer, [block(0, 100)])
    writer.eject()
    reader = VirtualDrive("lto5", "LTO-5", shelf)
    reader.load("OLD001L3")
    assert read_file(reader) == [block(0, 100)]


def test_an_unknown_drive_generation_is_refused(shelf: Shelf) -> None:
    with pytest.raises(ValueError, match="LTO-9"):
        VirtualDrive("d", "LTO-9", shelf)


# ---- persistence
def test_the_loaded_cartridge_survives_a_restart_at_bot(shelf: Shelf) -> None:
    drive = VirtualDrive("lto5", "LTO-5", shelf)
    drive.load("DEM001L5")
    write_file(drive, [block(0, 100), block(1, 200)])
    drive.write_block(block(2, 300))
    drive.close()  # writes the filemark st writes on close after a write
    again = VirtualDrive("lto5", "LTO-5", shelf)
    status = again.status()
    assert status.online and status.barcode == "DEM001L5" and status.bot
    assert read_file(again) == [block(0, 100), block(1, 200)]
    assert read_file(again) == [block(2, 300)]
    assert again.read_block(READ_ALL) == b""
    assert not VirtualDrive("lto4", "LTO-4", shelf).status().online


def test_a_drive_reconfigured_to_another_generation_rejects_its_cartridge(shelf: Shelf) -> None:
    VirtualDrive("slot1", "LTO-5", shelf).load("DEM001L5")
    drive = VirtualDrive("slot1", "LTO-4", shelf)
    assert not drive.status().online
    assert shelf.location("DEM001L5") is None


def test_an_open_cartridge_image_is_not_shared(shelf: Shelf) -> None:
    drive = VirtualDrive("lto5", "LTO-5", shelf)
    drive.load("DEM001L5")
    with pytest.raises(DriveBusy, match="in use"):
        VirtualDrive("lto5", "LTO-5", shelf)  # a second process driving the same drive


def test_the_drive_picks_up_where_it_was_after_close(shelf: Shelf) -> None:
    drive = VirtualDrive("lto5", "LTO-5", shelf)
    drive.load("DEM001L5")
    write_file(drive, [block(0, 100)])
    drive.write_block(block(1, 100))
    drive.close()
    assert drive.status().file_number == 2
    drive.write_block(block(2, 100))  # reopens the image, at the position it had
    drive.rewind()
    assert read_file(drive) == [block(0, 100)]
    assert read_file(drive) == [block(1, 100)]
    assert read_file(drive) == [block(2, 100)]
    assert drive.read_block(READ_ALL) == b""


# ---- st details the contract leaves open
def test_positions_st_cannot_know_read_as_minus_one(shelf: Shelf) -> None:
    drive = VirtualDrive("lto5", "LTO-5", shelf)
    drive.load("DEM001L5")
    write_file(drive, [block(0, 100), block(1, 100)])
    write_file(drive, [block(2, 100)])
    drive.seek_block(4)
    status = drive.status()
    assert (status.file_number, status.block_number) == (-1, -1)  # as st after MTSEEK
    drive.rewind()
    drive.end_of_data()
    status = drive.status()
    assert (status.file_number, status.block_number) == (2, -1)  # as st after MTEOM
    assert status.eod and not status.bot
    drive.rewind()
    drive.space_filemarks(1)
    assert drive.status().block_number == 0


def test_status_tells_where_the_tape_is(shelf: Shelf) -> None:
    drive = VirtualDrive("lto5", "LTO-5", shelf)
    drive.load("DEM001L5")  # 4 MiB, early warning from 3.5 MiB on
    write_file(drive, [block(0, 100)])
    assert drive.status().eod
    drive.seek_block(0)
    assert not drive.status().eod
    drive.seek_block(2)
    assert drive.status().eod  # the virtual drive knows, where st only knows after reading there
    for number in range(14):
        drive.write_block(block(number, 256 * KiB))
    assert drive.status().eot
    drive.rewind()
    assert not drive.status().eot
    drive.end_of_data()
    assert drive.status().eot  # past early warning, whatever happened before


def test_block_size_limits(shelf: Shelf) -> None:
    drive = VirtualDrive("lto5", "LTO-5", shelf)
    with pytest.raises(NoTape):
        drive.set_block_size(512)
    drive.load("DEM001L5")
    for bad in (-1, MAX_BLOCK_BYTES + 1):
        with pytest.raises(DriveIOError):
            drive.set_block_size(bad)
    with pytest.raises(DriveIOError, match="over"):
        drive.write_block(bytes(MAX_BLOCK_BYTES + 1))
    drive.write_block(b"")  # st writes nothing for a zero-byte write
    assert drive.status().bot


def test_fixed_mode_refuses_blocks_of_another_size(shelf: Shelf) -> None:
    drive = VirtualDrive("lto5", "LTO-5", shelf)
    drive.load("DEM001L5")
    write_file(drive, [block(0, 1000)])
    drive.rewind()
    drive.set_block_size(512)
    with pytest.raises(DriveIOError, match="1000-byte block"):
        drive.read_block(4096)
    drive.set_block_size(0)
    assert drive.read_block(READ_ALL) == block(0, 1000)  # the refused read did not move the tape


def test_writes_accept_any_byte_buffer(shelf: Shelf) -> None:
    drive = VirtualDrive("lto5", "LTO-5", shelf)
    drive.load("DEM001L5")
    drive.write_block(bytearray(b"abc"))
    drive.write_block(memoryview(b"--defg--")[2:6])
    drive.write_block(memoryview(bytes(range(8))).cast("I"))  # two 4-byte items are 8 bytes
    drive.rewind()
    assert read_file(drive) == [b"abc", b"defg", bytes(range(8))]


def test_counters_count_exactly(shelf: Shelf) -> None:
    drive = VirtualDrive("lto5", "LTO-5", shelf)
    drive.load("DEM001L5")
    write_file(drive, [block(0, 1000), block(1, 24)])
    drive.rewind()
    read_file(drive)
    counters = drive.counters()
    assert (counters.bytes_written, counters.bytes_read, counters.shoe_shine_events) == (1024, 1024, 0)
    assert counters.busy_seconds > 0


# ---- speed
def test_a_slow_host_shows_as_shoe_shine_in_the_counters(shelf: Shelf) -> None:
    clock = FakeClock()
    speed = SpeedModel(100 * MB, 40 * MB, 1 * MiB, 0.01, clock=clock, sleep=clock.sleep)
    drive = VirtualDrive("lto5", "LTO-5", shelf, speed=speed)
    drive.load("DEM001L5")
    for number in range(40):  # 64 KiB every 10 ms: 6.5 MB/s, far below the floor
        clock.advance(0.01)
        drive.write_block(block(number, 64 * KiB))
    drive.write_filemarks(1)
    counters = drive.counters()
    assert counters.shoe_shine_events >= 2
    assert counters.busy_seconds > 0  # time the drive spent waiting on the tape, on the model's clock


def test_the_speed_model_paces_writes_and_reads(shelf: Shelf) -> None:
    clock = FakeClock()
    speed = SpeedModel(100 * MB, 40 * MB, 256 * KiB, 1.0, clock=clock, sleep=clock.sleep)
    paced = VirtualDrive("paced", "LTO-5", shelf, speed=speed)
    paced.load("DEM001L5")
    for number in range(32):  # 2 MiB
        paced.write_block(block(number, 64 * KiB))
    paced.write_filemarks(1)
    assert clock.now == pytest.approx(32 * 64 * KiB / (100 * MB))
    paced.rewind()
    read_file(paced)
    assert clock.now == pytest.approx(2 * 32 * 64 * KiB / (100 * MB))


# ---- threads
def test_status_answers_at_once_while_another_thread_writes_slowly(shelf: Shelf) -> None:
    sleeping = threading.Event()

    def sleep(seconds: float) -> None:
        sleeping.set()
        time.sleep(seconds)

    speed = SpeedModel(4 * MB, 1 * MB, 64 * KiB, 0.0, sleep=sleep)
    drive = VirtualDrive("lto5", "LTO-5", shelf, speed=speed)
    drive.load("DEM001L5")
    errors: list[Exception] = []

    def writer() -> None:
        try:
            for number in range(3):  # each 1 MiB block waits about 0.26 s for the previous one
                drive.write_block(block(number, MiB))
        except Exception as exc:  # reported by the main thread
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert sleeping.wait(5.0)
        started = time.monotonic()
        status = drive.status()
        counters = drive.counters()
        answered = time.monotonic() - started
        assert answered < 0.1  # the write it overlaps takes about 0.26 s per block
        assert status.online and status.barcode == "DEM001L5"
        assert counters.bytes_written >= MiB
        with pytest.raises(DriveBusy, match="busy writing"):
            drive.rewind()
        assert thread.is_alive()  # all of this happened during the write
    finally:
        thread.join(10.0)
    assert not errors
    assert drive.counters().bytes_written == 3 * MiB
    assert drive.status().block_number == 3
