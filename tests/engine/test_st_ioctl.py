"""The st backend without a tape device: struct layouts, ioctl numbers, status decoding, errno mapping.

The kernel side runs in the HIL tier (tests/hil, hil/run); here the device is a fake that answers
the way the st driver does (errno values and MTIOCGET states seen on a real st driver).
"""

from __future__ import annotations

import errno
import os
import platform
import stat
import struct
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from console.engine.drives import st_ioctl
from console.engine.drives.base import (
    BlankTape,
    DriveBusy,
    DriveIOError,
    EndOfMedium,
    NoTape,
    NotSupported,
    WriteProtected,
)
from console.engine.drives.st import StDrive, tape_index
from console.engine.drives.st_ioctl import (
    GENERIC_IOC,
    MTGET,
    MTOP,
    MTPOS,
    WIDE_DIRECTION_IOC,
    Gstat,
    MtGet,
    MtOp,
    StDevice,
    ioc_layout,
    ior,
    iow,
    pack_mtop,
    unpack_mtop,
)
from console.engine.drives.tape_alerts import decode_tapealert_page

LONG = struct.calcsize("l")
ONLINE_BOT = Gstat.ONLINE | Gstat.BOT


def mtget(gstat: int = ONLINE_BOT, fileno: int = 0, blkno: int = 0, block_size: int = 0, density: int = 0) -> MtGet:
    return MtGet(
        type=0x72, resid=0, dsreg=density << 24 | block_size, gstat=int(gstat), erreg=0, fileno=fileno, blkno=blkno
    )


Answer = bytes | int | Callable[[], bytes]


@dataclass
class FakeTape:
    """An open /dev/nstN that answers like st: queued read results, errno per operation."""

    path: Path = Path("/dev/nst0")
    read_only: bool = False
    state: MtGet = field(default_factory=mtget)
    reads: list[Answer] = field(default_factory=list)
    writes: list[int | Callable[[], int]] = field(default_factory=list)
    failing: dict[MtOp, int] = field(default_factory=dict)
    pos_answer: int | None = None  # None: EIO, like tgt
    ops: list[tuple[MtOp, int]] = field(default_factory=list)
    read_sizes: list[int] = field(default_factory=list)
    gets: int = 0
    get_errors: list[int] = field(default_factory=list)  # errno for the next MTIOCGETs
    written: list[int] = field(default_factory=list)
    closed: bool = False
    after_op: dict[MtOp, MtGet] = field(default_factory=dict)
    after_read: list[MtGet] = field(default_factory=list)

    def op(self, op: MtOp, count: int = 1) -> None:
        self.ops.append((op, count))
        if op in self.failing:
            raise OSError(self.failing[op], os.strerror(self.failing[op]))
        if op in self.after_op:
            self.state = self.after_op[op]

    def get(self) -> MtGet:
        self.gets += 1
        if self.get_errors:
            code = self.get_errors.pop(0)
            raise OSError(code, os.strerror(code))
        return self.state

    def pos(self) -> int:
        if self.pos_answer is None:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        return self.pos_answer

    def read(self, size: int) -> bytes:
        self.read_sizes.append(size)
        answer = self.reads.pop(0)
        if self.after_read:
            self.state = self.after_read.pop(0)
        if isinstance(answer, int):
            raise OSError(answer, os.strerror(answer))
        return answer() if callable(answer) else answer[:size]

    def write(self, data: bytes | bytearray | memoryview) -> int:
        answer = self.writes.pop(0) if self.writes else len(memoryview(data))
        if callable(answer):
            answer = answer()
        if answer < 0:
            raise OSError(-answer, os.strerror(-answer))
        self.written.append(answer)
        return answer

    def close(self) -> None:
        self.closed = True


def drive_on(tape: FakeTape, **kwargs: object) -> StDrive:
    return StDrive("d1", "LTO-5", Path("/dev/nst0"), opener=lambda _path: tape, **kwargs)  # type: ignore[arg-type]


# ---- structs and request numbers
def test_struct_layouts_follow_the_c_layout_of_this_platform() -> None:
    assert MTOP.size == 8  # short, 2 bytes padding, int
    assert MTPOS.size == LONG
    assert MTGET.size == 5 * LONG + 2 * 4  # 48 on 64-bit, 28 on 32-bit: no tail padding either way
    assert unpack_mtop(pack_mtop(MtOp.FSF, 3)) == (MtOp.FSF, 3)
    assert pack_mtop(MtOp.WEOF, 2)[4:] == struct.pack("=i", 2)  # mt_count sits at offset 4


def test_request_numbers_equal_the_kernels_for_x86_64() -> None:
    assert iow("m", 1, 8, GENERIC_IOC) == 0x40086D01
    assert ior("m", 2, 48, GENERIC_IOC) == 0x80306D02
    assert ior("m", 3, 8, GENERIC_IOC) == 0x80086D03
    if platform.machine() == "x86_64":
        assert (st_ioctl.MTIOCTOP, st_ioctl.MTIOCGET, st_ioctl.MTIOCPOS) == (0x40086D01, 0x80306D02, 0x80086D03)


def test_request_numbers_use_the_architectures_ioc_layout() -> None:
    assert ioc_layout("x86_64") is GENERIC_IOC and ioc_layout("aarch64") is GENERIC_IOC
    assert ioc_layout("ppc64le") is WIDE_DIRECTION_IOC and ioc_layout("mips64") is WIDE_DIRECTION_IOC
    assert iow("m", 1, 8, WIDE_DIRECTION_IOC) == 0x80086D01  # powerpc: _IOC_WRITE is 4, 13 size bits
    assert ior("m", 2, 48, WIDE_DIRECTION_IOC) == 0x40306D02
    with pytest.raises(ValueError):
        iow("m", 1, 1 << 13, WIDE_DIRECTION_IOC)


def test_mtget_round_trips_and_splits_dsreg() -> None:
    state = mtget(Gstat.ONLINE | Gstat.EOF, fileno=3, blkno=0, block_size=262144, density=0x58)
    again = MtGet.unpack(state.pack())
    assert again == state
    assert (again.block_size, again.density) == (262144, 0x58)
    assert again.flags == Gstat.ONLINE | Gstat.EOF


def test_device_layer_packs_its_ioctls(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int, bytes]] = []
    answer = mtget(ONLINE_BOT, block_size=512).pack()

    def fake_ioctl(fd: int, request: int, arg: bytes) -> bytes:
        calls.append((fd, request, arg))
        return answer if request == st_ioctl.MTIOCGET else MTPOS.pack(77) if request == st_ioctl.MTIOCPOS else arg

    monkeypatch.setattr(st_ioctl.fcntl, "ioctl", fake_ioctl)
    device = StDevice(Path("/dev/nst0"), 42, read_only=False)
    device.op(MtOp.FSF, 2)
    assert calls[-1] == (42, st_ioctl.MTIOCTOP, pack_mtop(MtOp.FSF, 2))
    assert device.get().block_size == 512
    assert calls[-1][1:] == (st_ioctl.MTIOCGET, bytes(MTGET.size))
    assert device.pos() == 77


def test_open_falls_back_to_read_only_on_a_write_protected_cartridge(monkeypatch: pytest.MonkeyPatch) -> None:
    modes: list[int] = []

    def fake_open(path: Path, flags: int) -> int:
        modes.append(flags & os.O_ACCMODE)
        assert flags & os.O_NONBLOCK
        if flags & os.O_ACCMODE == os.O_RDWR:
            raise OSError(errno.EROFS, "Read-only file system")
        return 9

    monkeypatch.setattr(st_ioctl.os, "open", fake_open)
    device = StDevice.open(Path("/dev/nst0"))
    assert device.read_only and device.fd == 9
    assert modes == [os.O_RDWR, os.O_RDONLY]


# ---- status
def test_status_decodes_the_general_status_bits() -> None:
    gstat = Gstat.ONLINE | Gstat.WR_PROT | Gstat.EOT | Gstat.EOF | Gstat.CLN
    tape = FakeTape(state=mtget(gstat, fileno=4, blkno=0, block_size=512, density=0x46))
    status = drive_on(tape).status()
    assert status.online and status.write_protected and status.eot and status.at_filemark
    assert status.cleaning_requested and not status.bot and not status.eod
    assert (status.file_number, status.block_number, status.block_size) == (4, 0, 512)
    assert status.media_generation == "LTO-4"
    assert status.barcode is None


def test_status_of_an_empty_drive() -> None:
    tape = FakeTape(state=mtget(Gstat.DR_OPEN | Gstat.BOT))
    status = drive_on(tape).status()
    assert not status.online and not status.bot
    assert (status.file_number, status.block_number) == (-1, -1)
    assert status.media_generation is None


def test_absurd_positions_read_as_unknown() -> None:
    tape = FakeTape(state=mtget(Gstat.ONLINE | Gstat.EOD, fileno=8388607, blkno=-1))  # st after MTEOM on tgt
    status = drive_on(tape).status()
    assert (status.file_number, status.block_number) == (-1, -1) and status.eod


def test_a_read_only_open_reports_write_protection() -> None:
    status = drive_on(FakeTape(read_only=True)).status()
    assert status.write_protected


def test_a_rewinding_device_is_refused() -> None:
    with pytest.raises(ValueError, match="nst"):
        StDrive("d1", "LTO-4", Path("/dev/st0"))
    assert tape_index(Path("/dev/nst1")) == 1 and tape_index(Path("/dev/nst2l")) == 2
    assert tape_index(Path("/dev/sda")) is None


# ---- errno mapping
@pytest.mark.parametrize(
    ("code", "exception"),
    [
        (errno.ENOSPC, EndOfMedium),
        (errno.EROFS, WriteProtected),
        (errno.EACCES, WriteProtected),
        (errno.ENOMEDIUM, NoTape),
        (errno.EIO, DriveIOError),
        (errno.EINVAL, DriveIOError),
    ],
)
def test_write_errors(code: int, exception: type[Exception]) -> None:
    tape = FakeTape(state=mtget(Gstat.ONLINE, blkno=5), writes=[-code])
    with pytest.raises(exception):
        drive_on(tape).write_block(b"x" * 100)


def test_eio_on_a_write_past_early_warning_is_the_end_of_the_medium() -> None:
    tape = FakeTape(state=mtget(Gstat.ONLINE | Gstat.EOT, blkno=5), writes=[-errno.EIO])
    with pytest.raises(EndOfMedium, match="physical end"):
        drive_on(tape).write_block(b"x" * 100)


def test_a_short_write_is_the_end_of_the_medium() -> None:
    tape = FakeTape(state=mtget(Gstat.ONLINE, block_size=512), writes=[1024])
    with pytest.raises(EndOfMedium, match="1024 of 2048"):
        drive_on(tape).write_block(bytes(2048))


def test_early_warning_alternates_then_a_trailer_fits() -> None:
    tape = FakeTape(state=mtget(Gstat.ONLINE, blkno=5), writes=[100, -errno.ENOSPC, 100, -errno.ENOSPC])
    drive = drive_on(tape)
    drive.write_block(bytes(100))
    with pytest.raises(EndOfMedium, match="early warning"):
        drive.write_block(bytes(100))
    drive.write_block(bytes(100))
    with pytest.raises(EndOfMedium):
        drive.write_block(bytes(100))
    assert drive.counters().bytes_written == 200


def test_early_warning_stays_reported_while_writes_alternate() -> None:
    # st shows EOT after the write that reached early warning, EOD after the refused one
    tape = FakeTape(state=mtget(Gstat.ONLINE, blkno=5), writes=[-errno.ENOSPC])
    tape.state = mtget(Gstat.ONLINE | Gstat.EOD, blkno=5)
    drive = drive_on(tape)
    with pytest.raises(EndOfMedium):
        drive.write_block(bytes(100))
    assert drive.status().eot
    drive.write_filemarks(1)
    assert drive.status().eot
    tape.state = mtget(ONLINE_BOT)
    drive.rewind()
    assert not drive.status().eot


def test_early_warning_that_st_reports_to_mtiocget_refuses_the_next_write() -> None:
    # variable-block writes go out behind the write() call; st's MTIOCGET waits for them and, when
    # one met early warning, fails with ENOSPC itself and forgets it
    tape = FakeTape(state=mtget(Gstat.ONLINE, blkno=5))
    drive = drive_on(tape)
    drive.write_block(bytes(100))
    tape.get_errors.append(errno.ENOSPC)
    assert drive.status().eot
    with pytest.raises(EndOfMedium, match="early warning"):
        drive.write_block(bytes(100))
    drive.write_block(bytes(100))  # the trailer
    assert tape.written == [100, 100]


def test_a_write_error_that_st_reports_to_mtiocget_fails_the_next_operation() -> None:
    tape = FakeTape(state=mtget(Gstat.ONLINE, blkno=5))
    drive = drive_on(tape)
    drive.write_block(bytes(100))
    tape.get_errors.append(errno.EIO)
    drive.status()
    with pytest.raises(DriveIOError, match="an earlier write failed"):
        drive.write_filemarks(1)
    drive.write_filemarks(1)
    assert tape.ops == [(MtOp.WEOF, 1)]


def test_a_failing_mtiocget_outside_writing_is_an_io_error() -> None:
    tape = FakeTape(get_errors=[errno.EIO])
    drive = drive_on(tape)
    assert not drive.status().online
    drive.rewind()
    assert drive.status().online


def test_a_read_only_drive_refuses_writes_without_trying() -> None:
    tape = FakeTape(read_only=True)
    drive = drive_on(tape)
    with pytest.raises(WriteProtected):
        drive.write_block(b"x")
    with pytest.raises(WriteProtected):
        drive.write_filemarks(1)
    assert tape.ops == []


def test_a_filemark_on_a_write_protected_tape() -> None:
    tape = FakeTape(failing={MtOp.WEOF: errno.EACCES})
    with pytest.raises(WriteProtected):
        drive_on(tape).write_filemarks(1)


def test_a_read_buffer_smaller_than_the_block() -> None:
    tape = FakeTape(state=mtget(Gstat.ONLINE, blkno=1), reads=[errno.ENOMEM])
    with pytest.raises(DriveIOError, match="larger than the 1024-byte read buffer"):
        drive_on(tape).read_block(1024)


def test_eio_at_bot_is_a_blank_tape_and_elsewhere_an_io_error() -> None:
    with pytest.raises(BlankTape):
        drive_on(FakeTape(reads=[errno.EIO])).read_block(65536)
    with pytest.raises(DriveIOError) as caught:
        drive_on(FakeTape(state=mtget(Gstat.ONLINE, blkno=7), reads=[errno.EIO])).read_block(65536)
    assert not isinstance(caught.value, BlankTape)


def test_no_medium_is_no_tape() -> None:
    tape = FakeTape(state=mtget(Gstat.DR_OPEN), reads=[errno.ENOMEDIUM], failing={MtOp.REW: errno.ENOMEDIUM})
    drive = drive_on(tape)
    with pytest.raises(NoTape):
        drive.read_block(100)
    with pytest.raises(NoTape):
        drive.rewind()


def test_eio_while_no_tape_is_ready_is_no_tape() -> None:
    tape = FakeTape(state=mtget(Gstat(0)), failing={MtOp.FSF: errno.EIO})  # loading: neither online nor empty
    with pytest.raises(NoTape):
        drive_on(tape).space_filemarks(1)


def test_a_read_larger_than_the_drives_largest_block_is_retried_smaller() -> None:
    tape = FakeTape(state=mtget(Gstat.ONLINE, blkno=3), reads=[errno.EINVAL, b"a" * 5000, b"b" * 10])
    drive = drive_on(tape)
    assert drive.read_block(2 * 1024 * 1024) == b"a" * 5000
    assert drive.read_block(2 * 1024 * 1024) == b"b" * 10
    assert tape.read_sizes == [2 * 1024 * 1024, 1024 * 1024, 1024 * 1024]


def test_a_filemark_reads_as_empty() -> None:
    tape = FakeTape(state=mtget(Gstat.ONLINE, blkno=2), reads=[b""], after_read=[mtget(Gstat.ONLINE | Gstat.EOF, 1)])
    drive = drive_on(tape)
    assert drive.read_block(65536) == b""
    assert drive.status().at_filemark


def test_end_of_data_reads_empty_once_then_fails() -> None:
    after_fm = mtget(Gstat.ONLINE | Gstat.EOF, fileno=1)
    at_eod = mtget(Gstat.ONLINE | Gstat.EOD, fileno=2)
    tape = FakeTape(state=after_fm, reads=[b""], after_read=[at_eod])
    drive = drive_on(tape)
    assert drive.read_block(65536) == b""
    with pytest.raises(DriveIOError, match="end of data"):
        drive.read_block(65536)
    assert len(tape.read_sizes) == 1


def test_a_full_buffer_with_an_end_of_data_report_is_not_a_block() -> None:
    # st hands out its buffer when the drive reports EOM without a residual (tgt at end of data)
    garbage = bytes(65536)
    after_fm = mtget(Gstat.ONLINE | Gstat.EOF, fileno=1)
    tape = FakeTape(state=after_fm, reads=[garbage], after_read=[mtget(Gstat.ONLINE | Gstat.EOD, fileno=1, blkno=1)])
    drive = drive_on(tape)
    assert drive.read_block(65536) == b""
    with pytest.raises(DriveIOError):
        drive.read_block(65536)
    assert drive.counters().bytes_read == 0


def test_a_retried_read_that_returns_the_buffer_with_an_end_of_data_report_is_not_a_block() -> None:
    after_fm = mtget(Gstat.ONLINE | Gstat.EOF, fileno=1)
    garbage = bytes(1024 * 1024)
    tape = FakeTape(
        state=after_fm, reads=[errno.EINVAL, garbage], after_read=[after_fm, mtget(Gstat.ONLINE | Gstat.EOD)]
    )
    assert drive_on(tape).read_block(2 * 1024 * 1024) == b""


def test_a_full_buffer_with_an_end_of_medium_report_at_bot_is_a_blank_tape() -> None:
    tape = FakeTape(reads=[bytes(65536)], after_read=[mtget(Gstat.ONLINE | Gstat.EOT, blkno=1)])
    with pytest.raises(BlankTape):
        drive_on(tape).read_block(65536)


def test_a_full_buffer_with_an_end_of_medium_report_elsewhere_is_an_io_error() -> None:
    tape = FakeTape(
        state=mtget(Gstat.ONLINE, blkno=1), reads=[bytes(4096)], after_read=[mtget(Gstat.ONLINE | Gstat.EOT, blkno=2)]
    )
    with pytest.raises(DriveIOError, match="end of data"):
        drive_on(tape).read_block(4096)


def test_a_block_that_fills_the_buffer_is_data() -> None:
    tape = FakeTape(state=mtget(Gstat.ONLINE, blkno=1), reads=[b"z" * 4096], after_read=[mtget(Gstat.ONLINE, blkno=2)])
    assert drive_on(tape).read_block(4096) == b"z" * 4096


def test_position_ioctls_that_fail_on_a_drive_without_them_are_not_supported() -> None:
    tape = FakeTape(failing={MtOp.SEEK: errno.EIO})
    drive = drive_on(tape)
    with pytest.raises(NotSupported):
        drive.tell_block()
    with pytest.raises(NotSupported):
        drive.seek_block(3)


def test_position_ioctls_that_worked_before_fail_as_io_errors() -> None:
    tape = FakeTape(pos_answer=12)
    drive = drive_on(tape)
    assert drive.tell_block() == 12
    tape.failing[MtOp.SEEK] = errno.EIO
    with pytest.raises(DriveIOError) as caught:
        drive.seek_block(500)
    assert not isinstance(caught.value, NotSupported)


def test_compression_that_the_drive_refuses_is_not_supported() -> None:
    tape = FakeTape(failing={MtOp.COMPRESSION: errno.EIO})
    with pytest.raises(NotSupported):
        drive_on(tape).set_compression(True)
    drive_on(FakeTape()).set_compression(False)


def test_operations_map_to_mt_ops() -> None:
    tape = FakeTape()
    drive = drive_on(tape)
    drive.set_block_size(262144)
    drive.write_filemarks(2)
    drive.space_filemarks(3)
    drive.space_filemarks(-2)
    drive.space_records(4)
    drive.space_records(-1)
    drive.space_records(0)
    drive.end_of_data()
    drive.rewind()
    assert drive.eject() is None
    assert tape.ops == [
        (MtOp.SETBLK, 262144),
        (MtOp.WEOF, 2),
        (MtOp.FSF, 3),
        (MtOp.BSF, 2),
        (MtOp.FSR, 4),
        (MtOp.BSR, 1),
        (MtOp.EOM, 1),
        (MtOp.REW, 1),
        (MtOp.OFFL, 1),
    ]


def test_busy_device_on_open() -> None:
    def opener(_path: Path) -> FakeTape:
        raise OSError(errno.EBUSY, "Device or resource busy")

    drive = StDrive("d1", "LTO-4", Path("/dev/nst0"), opener=opener)
    with pytest.raises(DriveBusy, match="another program"):
        drive.rewind()
    assert not drive.status().online


def test_close_releases_the_device_and_the_next_operation_reopens_it() -> None:
    opened: list[FakeTape] = []

    def opener(_path: Path) -> FakeTape:
        opened.append(FakeTape())
        return opened[-1]

    drive = StDrive("d1", "LTO-4", Path("/dev/nst0"), opener=opener)
    drive.rewind()
    drive.close()
    assert opened[0].closed
    drive.status()  # does not take the device back by itself
    assert len(opened) == 1
    drive.rewind()
    assert len(opened) == 2


# ---- threads
def test_status_does_not_wait_behind_a_running_operation() -> None:
    started, release = threading.Event(), threading.Event()

    def slow_write() -> int:
        started.set()
        assert release.wait(5)
        return 100

    tape = FakeTape(state=mtget(Gstat.ONLINE, blkno=7), writes=[slow_write])
    drive = drive_on(tape)
    drive.status()
    writer = threading.Thread(target=drive.write_block, args=(bytes(100),))
    writer.start()
    try:
        assert started.wait(5)
        gets = tape.gets
        status = drive.status()  # returns the snapshot at once
        assert status.online and status.block_number == 7
        assert tape.gets == gets
        with pytest.raises(DriveBusy, match="busy writing"):
            drive.rewind()
    finally:
        release.set()
        writer.join(5)
    assert drive.counters().bytes_written == 100


def test_fixed_block_streaming_does_not_ask_the_driver_between_blocks() -> None:
    # MTIOCGET makes st flush its buffer: in fixed-block mode a backspace over read-ahead blocks
    tape = FakeTape(state=mtget(Gstat.ONLINE | Gstat.BOT, block_size=512), reads=[bytes(1024), bytes(1024)])
    drive = drive_on(tape)
    drive.status()
    gets = tape.gets
    drive.read_block(1024)
    drive.read_block(1024)
    status = drive.status()
    assert tape.gets == gets
    assert status.block_number == 4 and not status.bot
    drive.rewind()
    assert tape.gets > gets


# ---- load
def test_load_polls_until_a_cartridge_is_ready() -> None:
    now = [0.0]
    answers = iter([mtget(Gstat.DR_OPEN), mtget(Gstat.DR_OPEN), mtget(Gstat.DR_OPEN), mtget(ONLINE_BOT)])
    tapes: list[FakeTape] = []

    def opener(_path: Path) -> FakeTape:
        tapes.append(FakeTape(state=next(answers)))
        return tapes[-1]

    drive = StDrive(
        "d1",
        "LTO-5",
        Path("/dev/nst0"),
        opener=opener,
        poll_interval=2.0,
        clock=lambda: now[0],
        sleep=lambda seconds: now.__setitem__(0, now[0] + seconds),
    )
    drive.load("TCH001L5", timeout=60)
    assert drive.status().online
    assert now[0] == pytest.approx(6.0)  # three polls found the drive empty, two seconds apart
    assert all(tape.closed for tape in tapes[:-1])
    assert (MtOp.LOAD, 1) in tapes[0].ops  # a cartridge left in the drive unloaded gets loaded
    assert tapes[-1].ops == [(MtOp.REW, 1)]  # and the one that came online starts at BOT


def test_load_gives_up_after_the_timeout() -> None:
    now = [0.0]
    drive = StDrive(
        "d1",
        "LTO-5",
        Path("/dev/nst0"),
        opener=lambda _path: FakeTape(state=mtget(Gstat.DR_OPEN)),
        clock=lambda: now[0],
        sleep=lambda seconds: now.__setitem__(0, now[0] + seconds),
    )
    with pytest.raises(NoTape, match="within 10 s"):
        drive.load(timeout=10)
    assert now[0] == pytest.approx(10.0)


def test_load_of_a_loaded_drive_returns_at_once() -> None:
    tape = FakeTape()
    drive = drive_on(tape)
    drive.status()
    drive.load()
    assert not tape.closed and tape.ops == []


# ---- sysfs: counters, sg device
def _fake_sysfs(root: Path, written: int, read: int) -> Path:
    stats = root / "class" / "scsi_tape" / "st0" / "stats"
    stats.mkdir(parents=True)
    (stats / "write_byte_cnt").write_text(f"{written}\n")
    (stats / "read_byte_cnt").write_text(f"{read}\n")
    (root / "class" / "scsi_tape" / "st0" / "device" / "scsi_generic" / "sg3").mkdir(parents=True)
    return root


def test_counters_come_from_sysfs_when_present(tmp_path: Path) -> None:
    drive = drive_on(FakeTape(), sysfs=_fake_sysfs(tmp_path, 123456, 789))
    counters = drive.counters()
    assert (counters.bytes_written, counters.bytes_read) == (123456, 789)
    assert drive.sg_device() == Path("/dev/sg3")


def test_counters_without_sysfs_count_what_went_through(tmp_path: Path) -> None:
    tape = FakeTape(state=mtget(Gstat.ONLINE, blkno=1), reads=[b"r" * 30])
    drive = drive_on(tape, sysfs=tmp_path)
    drive.write_block(bytes(70))
    drive.read_block(4096)
    counters = drive.counters()
    assert (counters.bytes_written, counters.bytes_read) == (70, 30)
    assert counters.busy_seconds >= 0
    assert drive.sg_device() is None


# ---- TapeAlert
def _page_12(*flags: int) -> bytes:
    bits = sum(1 << (64 - flag) for flag in flags)
    return bytes([0x12, 0, 0, 12]) + bytes([0, 0, 0x03, 8]) + bits.to_bytes(8, "big")


def _page_2e(*flags: int) -> bytes:
    params = b"".join(code.to_bytes(2, "big") + bytes([0, 1, 1 if code in flags else 0]) for code in range(1, 65))
    return bytes([0x2E, 0]) + len(params).to_bytes(2, "big") + params


def test_tapealert_pages_decode() -> None:
    assert decode_tapealert_page(_page_12(0x03, 0x14, 0x40)) == [0x03, 0x14, 0x40]
    assert decode_tapealert_page(_page_12()) == []
    assert decode_tapealert_page(_page_2e(0x01, 0x26)) == [0x01, 0x26]
    with pytest.raises(ValueError):
        decode_tapealert_page(bytes([0x0D, 0, 0, 0]))


def _fake_sg_logs(folder: Path, body: str) -> str:
    script = folder / "sg_logs"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return str(script)


def test_tape_alerts_names_the_set_flags(tmp_path: Path) -> None:
    (tmp_path / "page").write_bytes(_page_12(0x04, 0x14))
    program = _fake_sg_logs(tmp_path, f'case "$*" in *0x12*) cat {tmp_path}/page;; *) exit 9;; esac\n')
    drive = drive_on(FakeTape(), sysfs=_fake_sysfs(tmp_path / "sys", 0, 0), sg_logs=program)
    assert drive.tape_alerts() == ["media", "clean now"]


def test_tape_alerts_says_why_it_is_not_available(tmp_path: Path) -> None:
    sysfs = _fake_sysfs(tmp_path / "sys", 0, 0)
    missing = drive_on(FakeTape(), sysfs=sysfs, sg_logs=str(tmp_path / "no-such-sg_logs"))
    with pytest.raises(NotSupported, match="TapeAlert not available: .* not installed"):
        missing.tape_alerts()
    program = _fake_sg_logs(tmp_path, "echo 'sg_logs failed: Illegal request, Invalid opcode' >&2; exit 9\n")
    with pytest.raises(NotSupported, match="TapeAlert not available: .*Invalid opcode"):
        drive_on(FakeTape(), sysfs=sysfs, sg_logs=program).tape_alerts()
    with pytest.raises(NotSupported, match="TapeAlert not available: no SCSI generic device"):
        drive_on(FakeTape(), sysfs=tmp_path / "empty", sg_logs=program).tape_alerts()
