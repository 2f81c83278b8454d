"""StDrive on the kernel st driver, inside the HIL guest (hil/run): tgt's virtual tapes on /dev/nst0..2.

What tgt cannot do (shared/reference/st-and-lto.md) is checked as such: READ POSITION and LOCATE fail,
so StDrive reports NotSupported and spacing over filemarks is the way back to a set; no LOG SENSE, so
no TapeAlert; no compression page setting.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from console.engine.drives.base import BlankTape, DriveIOError, EndOfMedium, NoTape, NotSupported, WriteProtected
from console.engine.drives.st import StDrive
from console.engine.tapeformat.tar_headers import RECORD_SIZE
from console.engine.tapeformat.tar_writer import TarSetWriter
from tests.hil.conftest import IN_GUEST

pytestmark = [pytest.mark.hil, pytest.mark.skipif(not IN_GUEST, reason="runs inside the HIL guest: hil/run")]

KiB = 1024
MiB = 1024 * KiB
READ_ALL = 2 * MiB  # larger than tgt's largest block (1 MiB): StDrive learns the limit
NST0, NST1 = Path("/dev/nst0"), Path("/dev/nst1")
BlankDrive = Callable[[Path], StDrive]


def block(number: int, size: int) -> bytes:
    stamp = f"<{number}:{size}>".encode()
    return (stamp * (size // len(stamp) + 1))[:size]


def write_file(drive: StDrive, blocks: list[bytes]) -> None:
    for data in blocks:
        drive.write_block(data)
    drive.write_filemarks(1)


def read_file(drive: StDrive) -> list[bytes]:
    blocks = []
    while data := drive.read_block(READ_ALL):
        blocks.append(data)
    return blocks


def position(drive: StDrive) -> tuple[int, int]:
    status = drive.status()
    return status.file_number, status.block_number


# ---- status
def test_status_of_a_loaded_blank_cartridge(blank_drive: BlankDrive) -> None:
    drive = blank_drive(NST0)
    status = drive.status()
    assert drive.kind == "st"
    assert status.online and status.bot and not status.write_protected
    assert (status.file_number, status.block_number, status.block_size) == (0, 0, 0)
    assert not (status.eod or status.eot or status.at_filemark or status.cleaning_requested)
    with pytest.raises(BlankTape):
        drive.read_block(READ_ALL)


def test_status_of_an_empty_drive_then_loading_again(blank_drive: BlankDrive) -> None:
    drive = blank_drive(NST0)
    drive.write_block(block(0, 1000))
    assert drive.eject() is None  # st writes the pending filemark, then unloads
    status = drive.status()
    assert not status.online and status.barcode is None
    assert (status.file_number, status.block_number) == (-1, -1)
    for operation in (lambda: drive.read_block(READ_ALL), lambda: drive.write_block(b"x"), drive.rewind):
        with pytest.raises(NoTape):
            operation()
    drive.load(timeout=30)  # tgt is ready again as soon as st opens the device afresh
    assert drive.status().online and drive.status().bot
    assert read_file(drive) == [block(0, 1000)]
    assert drive.read_block(READ_ALL) == b""


def test_a_write_protected_cartridge(write_protected_device: Path) -> None:
    drive = StDrive("wp", "LTO-4", write_protected_device)
    try:
        drive.rewind()
        assert drive.status().write_protected
        with pytest.raises(WriteProtected):
            drive.write_block(block(0, 100))
        with pytest.raises(WriteProtected):
            drive.write_filemarks(1)
        with pytest.raises(BlankTape):
            drive.read_block(READ_ALL)
    finally:
        drive.close()


# ---- data
def test_files_filemarks_spacing_and_end_of_data(blank_drive: BlankDrive) -> None:
    drive = blank_drive(NST1)
    files = [
        [block(0, 1000), block(1, 2000)],
        [block(10, 3000), block(11, 3000), block(12, 3000)],
        [block(20, 512)],
    ]
    for number, blocks in enumerate(files):
        write_file(drive, blocks)
        assert position(drive) == (number + 1, 0)
    drive.rewind()
    assert [read_file(drive) for _ in files] == files
    assert drive.read_block(READ_ALL) == b""  # end of data, right after the last filemark
    drive.rewind()
    drive.space_filemarks(2)
    assert position(drive) == (2, 0) and drive.status().at_filemark
    drive.space_filemarks(-1)  # back over the filemark that closes file 1 (tgt ends a block too far)
    assert position(drive) == (1, -1)
    drive.space_filemarks(1)  # forward over it again: the start of file 2, wherever MTBSF stopped
    assert position(drive) == (2, 0)
    assert read_file(drive) == files[2]
    drive.rewind()
    drive.space_records(1)
    assert position(drive) == (0, 1)
    assert drive.read_block(READ_ALL) == files[0][1]
    drive.space_records(-2)
    assert drive.read_block(READ_ALL) == files[0][0]
    drive.end_of_data()
    status = drive.status()
    assert status.eod and status.file_number == -1  # st's MTEOM leaves 8388607 on tgt: unknown
    write_file(drive, [block(30, 4000)])
    drive.rewind()
    drive.space_filemarks(3)
    assert read_file(drive) == [block(30, 4000)]


def test_blocks_up_to_the_drives_largest(blank_drive: BlankDrive) -> None:
    drive = blank_drive(NST1)
    blocks = [block(0, MiB), block(1, RECORD_SIZE), block(2, 4)]  # tgt takes 4 bytes to 1 MiB
    write_file(drive, blocks)
    drive.rewind()
    assert read_file(drive) == blocks  # 2 MiB reads are refused (EINVAL) by st here: retried with 1 MiB
    with pytest.raises(DriveIOError, match="does not take a 3-byte block"):
        drive.write_block(b"abc")


def test_a_short_read_buffer_skips_the_block(blank_drive: BlankDrive) -> None:
    drive = blank_drive(NST1)
    write_file(drive, [block(0, 4096), block(1, 100)])
    drive.rewind()
    with pytest.raises(DriveIOError, match="larger than the 1024-byte read buffer"):
        drive.read_block(1024)
    assert drive.read_block(READ_ALL) == block(1, 100)


def test_fixed_blocks_within_a_file(blank_drive: BlankDrive) -> None:
    drive = blank_drive(NST0)
    drive.set_block_size(512)
    data = block(0, 512 * 8)
    drive.write_block(data)
    assert drive.status().block_size == 512
    drive.write_filemarks(1)
    assert position(drive) == (1, 0)
    drive.rewind()
    assert drive.read_block(512 * 8) == data


# ---- end of the medium
def test_early_warning_at_the_image_size_then_alternating(blank_drive: BlankDrive, tape_bytes: int) -> None:
    drive = blank_drive(NST0)
    size = 64 * KiB
    written = 0
    while True:
        try:
            drive.write_block(block(written, size))
        except EndOfMedium:
            break
        written += 1
        assert written * size <= tape_bytes, "no early warning at the image size"
    assert written * size == tape_bytes  # the write that reached it completed, the next one got ENOSPC
    assert drive.status().eot
    outcomes = []
    for number in range(4):
        try:
            drive.write_block(block(written + number, size))
            outcomes.append(True)
        except EndOfMedium:
            outcomes.append(False)
    assert outcomes == [True, False, True, False]  # tgt has no physical end: this goes on
    drive.write_filemarks(1)  # the trailer's filemark
    drive.rewind()
    assert len(read_file(drive)) == written + 2


# ---- positions: not on tgt, spacing is the fallback
def test_read_position_and_locate_are_not_supported_and_spacing_is_the_fallback(blank_drive: BlankDrive) -> None:
    drive = blank_drive(NST1)
    write_file(drive, [block(0, 100), block(1, 100)])
    write_file(drive, [block(10, 100), block(11, 100), block(12, 100)])
    with pytest.raises(NotSupported, match="READ POSITION"):
        drive.tell_block()
    with pytest.raises(NotSupported, match="LOCATE"):
        drive.seek_block(4)
    with pytest.raises(NotSupported):
        drive.tell_block()  # still: the drive never answered one
    drive.rewind()  # the fallback: back to the set by its file number, then forward over blocks
    drive.space_filemarks(1)
    drive.space_records(2)
    assert drive.read_block(READ_ALL) == block(12, 100)


def test_compression_and_tapealert_are_not_available_on_tgt(blank_drive: BlankDrive) -> None:
    drive = blank_drive(NST0)
    with pytest.raises(NotSupported, match="compression"):
        drive.set_compression(True)
    assert drive.sg_device() is not None and drive.sg_device().exists()  # type: ignore[union-attr]
    with pytest.raises(NotSupported, match="TapeAlert not available: .*(Invalid opcode|not supported)"):
        drive.tape_alerts()


def test_counters_follow_the_kernels_byte_counts(blank_drive: BlankDrive) -> None:
    drive = blank_drive(NST0)
    assert drive.stats_dir() is not None
    before = drive.counters()
    write_file(drive, [block(0, 100 * KiB)] * 3)
    drive.rewind()
    assert len(read_file(drive)) == 3
    after = drive.counters()
    assert after.bytes_written - before.bytes_written == 300 * KiB
    # st counts a read as its buffer length less the residual the drive reports; through QEMU's
    # scsi-generic to tgt no residual arrives, so here each read counts its whole (1 MiB) buffer
    assert after.bytes_read - before.bytes_read >= 300 * KiB
    assert after.busy_seconds > before.busy_seconds


# ---- GNU tar reads what StDrive wrote
def test_gnu_tar_reads_a_set_written_through_stdrive(blank_drive: BlankDrive, tmp_path: Path) -> None:
    if shutil.which("tar") is None or shutil.which("mt") is None:
        pytest.skip("GNU tar and mt (mt-st) are needed")
    device = NST1
    drive = blank_drive(device)
    label = TarSetWriter(drive.write_block)  # tape file 0: a small label set
    label.add_member("LABEL.txt", 6, [b"HIL01\n"])
    label.finish({"kind": "label"})
    drive.write_filemarks(1)
    members = {"data/a.bin": block(1, 700 * KiB), "data/b.txt": b"hello tape\n" * 1000}
    backup = TarSetWriter(drive.write_block, RECORD_SIZE)  # tape file 1: the set, 256 KiB records
    for name, data in members.items():
        backup.add_member(name, len(data), [data])
    manifest = backup.finish({"job": "hil"})
    drive.write_filemarks(1)
    drive.close()  # release the device for mt and tar

    def shell(command: str) -> str:
        done = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"{command}: {done.stderr}"
        return done.stdout

    listing = shell(f"mt -f {device} rewind && mt -f {device} fsf 1 && tar -b 512 -tvf {device}")
    assert [line.split()[-1] for line in listing.splitlines()] == [*members, "MANIFEST.json"]
    shell(f"mt -f {device} rewind && mt -f {device} fsf 1 && tar -b 512 -xf {device} -C {tmp_path}")
    for name, data in members.items():
        assert (tmp_path / name).read_bytes() == data
        recorded = next(m for m in manifest["members"] if m["name"] == name)
        assert recorded["sha256"] == hashlib.sha256(data).hexdigest()
