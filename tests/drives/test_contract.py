"""What every Drive backend must do: the Linux st semantics on /dev/nstN (shared/reference/st-and-lto.md).

Each test gets a drive loaded with a small, blank, writable cartridge (see conftest.py).
"""

from __future__ import annotations

import pytest

from console.engine.drives.base import (
    BlankTape,
    Drive,
    DriveIOError,
    EndOfMedium,
    NoTape,
    NotSupported,
    WriteProtected,
)
from tests.drives.blocks import READ_ALL, block, read_file, write_file
from tests.drives.conftest import DriveRig

KiB = 1024


def position(drive: Drive) -> tuple[int, int]:
    status = drive.status()
    return status.file_number, status.block_number


@pytest.fixture
def three_files(drive: Drive) -> dict[str, list[bytes]]:
    """file 0: A0 A1 | file 1: B0 B1 B2 | file 2: C0, each closed by a filemark; rewound."""
    files = {
        "A": [block(0, 1000), block(1, 2000)],
        "B": [block(10, 3000), block(11, 3000), block(12, 3000)],
        "C": [block(20, 512)],
    }
    for blocks in files.values():
        write_file(drive, blocks)
    drive.rewind()
    return files


# ---- blank tape and status
def test_a_blank_tape_reads_as_blank(drive: Drive) -> None:
    status = drive.status()
    assert status.online and status.bot
    assert (status.file_number, status.block_number) == (0, 0)
    with pytest.raises(BlankTape):
        drive.read_block(READ_ALL)
    drive.rewind()
    drive.write_block(block(0, 100))  # still usable after the blank check
    assert position(drive) == (0, 1)


def test_status_reports_the_loaded_tape_and_the_block_size(drive: Drive) -> None:
    drive.set_block_size(0)
    status = drive.status()
    assert status.online and not status.write_protected
    assert status.block_size == 0
    assert status.bot and not status.eot and not status.at_filemark
    assert not status.cleaning_requested
    assert status.media_generation is None or status.media_generation.startswith("LTO-")
    drive.set_block_size(512)
    assert drive.status().block_size == 512
    drive.write_block(block(0, 1024))
    after = drive.status()
    assert not after.bot and (after.file_number, after.block_number) == (0, 2)
    assert isinstance(after.to_json(), dict)


def test_counters_count_bytes_written_and_read(drive: Drive) -> None:
    before = drive.counters()
    write_file(drive, [block(0, 5000), block(1, 7000)])
    drive.rewind()
    assert read_file(drive) == [block(0, 5000), block(1, 7000)]
    after = drive.counters()
    assert after.bytes_written - before.bytes_written >= 12000
    assert after.bytes_read - before.bytes_read >= 12000


# ---- blocks
@pytest.mark.parametrize("sizes", [[1, 2, 3], [512, 1000, 65536], [262144, 1024 * KiB, 10]])
def test_variable_blocks_read_back_one_block_per_read(drive: Drive, sizes: list[int]) -> None:
    drive.set_block_size(0)
    blocks = [block(i, size) for i, size in enumerate(sizes)]
    write_file(drive, blocks)
    drive.rewind()
    assert [drive.read_block(READ_ALL) for _ in blocks] == blocks
    assert drive.read_block(READ_ALL) == b""


def test_a_read_buffer_smaller_than_the_block_fails_and_skips_it(drive: Drive) -> None:
    write_file(drive, [block(0, 4096), block(1, 100)])
    drive.rewind()
    with pytest.raises(DriveIOError):
        drive.read_block(1024)
    assert drive.read_block(READ_ALL) == block(1, 100)  # as st: the long block was passed over


@pytest.mark.parametrize("block_size", [512, 65536])
def test_fixed_blocks_round_trip_in_whole_blocks(drive: Drive, block_size: int) -> None:
    drive.set_block_size(block_size)
    data = block(0, block_size * 6)
    drive.write_block(data[: block_size * 4])  # one write, four blocks
    drive.write_block(data[block_size * 4 :])
    assert position(drive) == (0, 6)
    drive.write_filemarks(1)
    drive.rewind()
    first = drive.read_block(block_size * 3)
    second = drive.read_block(block_size * 16)
    assert len(first) == block_size * 3
    assert len(second) % block_size == 0
    rest = b"".join(read_file(drive, block_size * 16))
    assert first + second + rest == data


def test_fixed_mode_refuses_writes_that_are_not_whole_blocks(drive: Drive) -> None:
    drive.set_block_size(512)
    with pytest.raises(DriveIOError):
        drive.write_block(block(0, 1000))
    assert position(drive) == (0, 0)
    drive.write_block(block(1, 1024))
    assert position(drive) == (0, 2)


def test_fixed_mode_reads_variable_blocks_of_that_size(drive: Drive) -> None:
    drive.set_block_size(0)
    write_file(drive, [block(0, 512), block(1, 512)])
    drive.rewind()
    drive.set_block_size(512)
    assert b"".join(read_file(drive, 4096)) == block(0, 512) + block(1, 512)


# ---- filemarks and positions
def test_filemarks_number_the_files(drive: Drive) -> None:
    drive.write_block(block(0, 100))
    drive.write_block(block(1, 100))
    assert position(drive) == (0, 2)
    drive.write_filemarks(1)
    assert position(drive) == (1, 0)
    drive.write_block(block(2, 100))
    drive.write_filemarks(2)
    assert position(drive) == (3, 0)
    drive.rewind()
    assert read_file(drive) == [block(0, 100), block(1, 100)]
    status = drive.status()
    assert (status.file_number, status.block_number) == (1, 0)
    assert status.at_filemark
    assert read_file(drive) == [block(2, 100)]
    assert read_file(drive) == []  # the empty file between the two filemarks
    assert position(drive) == (3, 0)


def test_end_of_data_reads_as_two_empty_reads_then_fails(drive: Drive, three_files: dict) -> None:
    for name in "ABC":
        assert read_file(drive) == three_files[name]
    assert drive.read_block(READ_ALL) == b""  # the second b"" in a row: end of data
    with pytest.raises(DriveIOError):
        drive.read_block(READ_ALL)  # st answers EIO once end of data was reported


def test_space_forward_over_filemarks(drive: Drive, three_files: dict) -> None:
    drive.space_filemarks(2)
    status = drive.status()
    assert (status.file_number, status.block_number) == (2, 0)
    assert status.at_filemark
    assert read_file(drive) == three_files["C"]
    drive.rewind()
    drive.space_filemarks(1)
    assert read_file(drive) == three_files["B"]


def test_space_back_over_filemarks_ends_before_the_filemark(drive: Drive, three_files: dict) -> None:
    drive.space_filemarks(2)
    drive.read_block(READ_ALL)  # C0
    drive.space_filemarks(-1)
    assert position(drive) == (1, -1)  # st cannot know the block number there
    assert drive.read_block(READ_ALL) == b""  # the filemark that closes file 1
    assert position(drive) == (2, 0)
    assert read_file(drive) == three_files["C"]
    drive.space_filemarks(-3)
    assert position(drive) == (0, -1)
    assert drive.read_block(READ_ALL) == b""
    assert read_file(drive) == three_files["B"]


def test_spacing_past_the_recorded_filemarks_fails(drive: Drive, three_files: dict) -> None:
    with pytest.raises(DriveIOError):
        drive.space_filemarks(4)
    drive.rewind()
    drive.space_filemarks(1)
    with pytest.raises(DriveIOError):
        drive.space_filemarks(-2)
    assert drive.status().bot
    assert read_file(drive) == three_files["A"]


def test_space_over_records(drive: Drive, three_files: dict) -> None:
    drive.space_records(1)
    assert position(drive) == (0, 1)
    assert drive.read_block(READ_ALL) == three_files["A"][1]
    assert position(drive) == (0, 2)  # before the filemark
    drive.space_records(-2)
    assert position(drive) == (0, 0)
    assert drive.read_block(READ_ALL) == three_files["A"][0]
    drive.rewind()
    drive.space_filemarks(1)
    drive.space_records(2)
    assert drive.read_block(READ_ALL) == three_files["B"][2]


def test_space_over_records_stops_at_a_filemark(drive: Drive, three_files: dict) -> None:
    with pytest.raises(DriveIOError):
        drive.space_records(5)  # file 0 has two blocks
    assert position(drive) == (1, 0)  # forward: past the filemark
    assert drive.read_block(READ_ALL) == three_files["B"][0]
    with pytest.raises(DriveIOError):
        drive.space_records(-3)
    assert position(drive) == (0, -1)  # backward: on the BOT side of the filemark
    assert drive.read_block(READ_ALL) == b""
    assert drive.read_block(READ_ALL) == three_files["B"][0]


def test_space_over_records_stops_at_bot(drive: Drive, three_files: dict) -> None:
    drive.space_records(1)
    with pytest.raises(DriveIOError):
        drive.space_records(-5)
    assert drive.status().bot
    assert drive.read_block(READ_ALL) == three_files["A"][0]


def test_rewind_returns_to_bot(drive: Drive, three_files: dict) -> None:
    drive.space_filemarks(2)
    drive.rewind()
    status = drive.status()
    assert status.bot and (status.file_number, status.block_number) == (0, 0)
    assert not status.at_filemark


def test_end_of_data_then_append(drive: Drive) -> None:
    write_file(drive, [block(0, 100)])
    drive.rewind()
    drive.end_of_data()
    status = drive.status()
    assert not status.bot
    assert status.file_number in (1, -1)  # -1: the backend cannot know
    write_file(drive, [block(1, 200), block(2, 300)])
    drive.rewind()
    assert read_file(drive) == [block(0, 100)]
    assert read_file(drive) == [block(1, 200), block(2, 300)]
    assert drive.read_block(READ_ALL) == b""


def test_end_of_data_on_a_blank_tape_stays_at_bot(drive: Drive) -> None:
    drive.end_of_data()
    write_file(drive, [block(0, 100)])
    drive.rewind()
    assert read_file(drive) == [block(0, 100)]


# ---- the implicit filemark
def _assert_one_closed_file(drive: Drive, blocks: list[bytes]) -> None:
    drive.rewind()
    assert read_file(drive) == blocks
    assert drive.read_block(READ_ALL) == b""  # end of data right after that filemark


def test_rewind_after_a_write_closes_the_file(drive: Drive) -> None:
    drive.write_block(block(0, 100))
    drive.rewind()
    _assert_one_closed_file(drive, [block(0, 100)])


def test_eject_after_a_write_closes_the_file(rig: DriveRig) -> None:
    rig.drive.write_block(block(0, 100))
    rig.drive.eject()
    rig.reload()
    _assert_one_closed_file(rig.drive, [block(0, 100)])


def test_space_back_after_a_write_closes_the_file_and_counts_its_filemark(drive: Drive) -> None:
    write_file(drive, [block(0, 100)])
    drive.write_block(block(1, 100))
    drive.space_filemarks(-1)  # like st: writes a filemark, then spaces back over two
    assert position(drive) == (0, -1)
    assert drive.read_block(READ_ALL) == b""
    assert read_file(drive) == [block(1, 100)]
    assert drive.read_block(READ_ALL) == b""


def test_spacing_forward_after_a_write_writes_no_filemark(drive: Drive) -> None:
    drive.write_block(block(0, 100))
    with pytest.raises(DriveIOError):
        drive.space_filemarks(1)
    drive.rewind()  # nor does this rewind: the last operation was a space, not a write
    assert drive.read_block(READ_ALL) == block(0, 100)
    with pytest.raises(DriveIOError):
        drive.read_block(READ_ALL)  # end of data with no filemark before it


# ---- overwriting
def test_writing_in_the_middle_truncates_the_rest(drive: Drive, three_files: dict) -> None:
    drive.space_records(1)
    drive.write_block(block(99, 700))
    drive.write_filemarks(1)
    drive.rewind()
    assert read_file(drive) == [three_files["A"][0], block(99, 700)]
    assert drive.read_block(READ_ALL) == b""  # files 1 and 2 are gone


def test_a_filemark_in_the_middle_truncates_the_rest(drive: Drive, three_files: dict) -> None:
    drive.space_filemarks(1)
    drive.write_filemarks(1)
    drive.rewind()
    assert read_file(drive) == three_files["A"]
    assert read_file(drive) == []
    assert drive.read_block(READ_ALL) == b""


def test_relabelling_at_bot_forgets_everything(drive: Drive, three_files: dict) -> None:
    write_file(drive, [block(50, 300)])
    drive.rewind()
    assert read_file(drive) == [block(50, 300)]
    assert drive.read_block(READ_ALL) == b""


# ---- tell and seek
def _tell(drive: Drive) -> int:
    try:
        return drive.tell_block()
    except NotSupported as exc:
        pytest.skip(f"this backend has no READ POSITION: {exc}")


def _seek(drive: Drive, block_number: int) -> None:
    try:
        drive.seek_block(block_number)
    except NotSupported as exc:
        pytest.skip(f"this backend has no LOCATE: {exc}")


def test_tell_counts_blocks_and_filemarks(drive: Drive) -> None:
    assert _tell(drive) == 0
    drive.write_block(block(0, 100))
    assert _tell(drive) == 1
    drive.write_filemarks(1)
    assert _tell(drive) == 2
    drive.set_block_size(512)
    drive.write_block(block(1, 2048))  # four fixed blocks
    assert _tell(drive) == 6


def test_seek_goes_to_a_told_position(drive: Drive, three_files: dict) -> None:
    drive.space_filemarks(1)
    start_of_b = _tell(drive)
    assert start_of_b == 3  # A0 A1 filemark
    drive.rewind()
    _seek(drive, start_of_b + 2)
    assert drive.read_block(READ_ALL) == three_files["B"][2]
    _seek(drive, 2)
    assert drive.read_block(READ_ALL) == b""  # the filemark after file 0
    _seek(drive, 0)
    status = drive.status()
    assert status.bot and (status.file_number, status.block_number) == (0, 0)
    assert drive.read_block(READ_ALL) == three_files["A"][0]


def test_seek_past_end_of_data_fails(drive: Drive, three_files: dict) -> None:
    _seek(drive, 9)  # end of data: 6 blocks and 3 filemarks
    with pytest.raises(DriveIOError):
        drive.read_block(READ_ALL)  # end of data, not right after a read filemark: EIO as st
    drive.write_block(block(30, 100))
    with pytest.raises(DriveIOError):
        _seek(drive, 100)


def test_seek_after_a_write_closes_the_file(drive: Drive) -> None:
    drive.write_block(block(0, 100))
    _seek(drive, 0)
    _assert_one_closed_file(drive, [block(0, 100)])


# ---- end of medium
def test_early_warning_then_alternating_end_of_medium_until_the_end(rig: DriveRig) -> None:
    drive, size = rig.drive, 64 * KiB
    limit = rig.capacity_bytes // size + 8
    outcomes: list[bool] = []  # True: the write succeeded
    written: list[bytes] = []
    eot_before_first_refusal = False
    for number in range(limit * 2):
        data = block(number, size)
        try:
            drive.write_block(data)
        except EndOfMedium:
            outcomes.append(False)
            if len(outcomes) >= 2 and not outcomes[-2]:
                break
            continue
        outcomes.append(True)
        written.append(data)
        if False not in outcomes:
            eot_before_first_refusal = drive.status().eot
    else:
        pytest.fail(f"no physical end after {len(outcomes)} writes: {outcomes}")

    assert eot_before_first_refusal, "the write that reaches early warning completes and sets EOT"
    tail = outcomes[outcomes.index(False) :]  # refused, allowed, refused, ... then refused for good
    assert tail[:2] == [False, True], outcomes
    assert tail[-2:] == [False, False]
    assert tail[:-2] == [False, True] * ((len(tail) - 2) // 2), outcomes
    assert len(written) * size <= rig.capacity_bytes
    for _ in range(3):
        with pytest.raises(EndOfMedium):
            drive.write_block(block(0, size))
    drive.write_filemarks(1)  # a trailer's filemark still goes on
    drive.rewind()
    assert read_file(drive) == written
    assert drive.read_block(READ_ALL) == b""


def test_a_trailer_fits_after_early_warning(rig: DriveRig) -> None:
    drive, size = rig.drive, 64 * KiB
    number = 0
    while not drive.status().eot:
        drive.write_block(block(number, size))
        number += 1
    with pytest.raises(EndOfMedium):
        drive.write_block(block(number, size))
    drive.write_block(block(-1, 1000))  # the trailer
    drive.write_filemarks(1)
    drive.rewind()
    blocks = read_file(drive)
    assert len(blocks) == number + 1 and blocks[-1] == block(-1, 1000)


# ---- write-protect and no tape
def test_a_write_protected_tape_refuses_writes_but_reads(rig: DriveRig) -> None:
    write_file(rig.drive, [block(0, 100)])
    if rig.write_protect is None:
        pytest.skip("this backend cannot make its tape write-protected")
    rig.write_protect()
    drive = rig.drive
    assert drive.status().write_protected
    with pytest.raises(WriteProtected):
        drive.write_block(block(1, 100))
    with pytest.raises(WriteProtected):
        drive.write_filemarks(1)
    assert read_file(drive) == [block(0, 100)]


def test_eject_leaves_the_drive_without_a_tape(rig: DriveRig) -> None:
    drive = rig.drive
    write_file(drive, [block(0, 100)])
    ejected = drive.eject()
    assert ejected is None or isinstance(ejected, str)
    status = drive.status()
    assert not status.online and status.barcode is None
    assert (status.file_number, status.block_number) == (-1, -1)
    operations = [
        lambda: drive.read_block(READ_ALL),
        lambda: drive.write_block(block(1, 100)),
        lambda: drive.write_filemarks(1),
        drive.rewind,
        lambda: drive.space_filemarks(1),
        lambda: drive.space_records(1),
        drive.end_of_data,
        lambda: drive.set_block_size(0),
        drive.eject,
    ]
    for operation in operations:
        with pytest.raises(NoTape):
            operation()
    rig.reload()
    status = drive.status()
    assert status.online and status.bot
    assert read_file(drive) == [block(0, 100)]
