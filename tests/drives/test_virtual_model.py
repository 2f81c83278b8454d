"""The virtual drive against a plain list model of a tape, over random sequences of operations.

The model is a list of blocks and filemarks (None) and a position; it follows st: writing anywhere cuts
the tape there, and rewind or seek right after a write first adds a filemark.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from console.engine.drives.base import BlankTape, DriveIOError
from console.engine.drives.shelf import Shelf
from console.engine.drives.virtual import VirtualDrive
from tests.drives.blocks import READ_ALL, block

FIXED = 512

operations = st.lists(
    st.one_of(
        st.tuples(st.just("write"), st.sampled_from([1, 7, FIXED, FIXED, 4096])),
        st.tuples(st.just("fixed"), st.integers(1, 4)),  # that many 512-byte blocks in one write
        st.tuples(st.just("filemarks"), st.integers(1, 2)),
        st.tuples(st.just("seek"), st.floats(0, 1)),
        st.tuples(st.just("rewind"), st.just(0)),
        st.tuples(st.just("back"), st.integers(1, 3)),
        st.tuples(st.just("read"), st.just(0)),
    ),
    max_size=25,
)


class TapeModel:
    def __init__(self) -> None:
        self.items: list[bytes | None] = []
        self.position = 0
        self.writing = False

    def record(self, items: list[bytes | None]) -> None:
        self.items[self.position :] = items
        self.position += len(items)

    def close_file(self) -> None:
        if self.writing:
            self.record([None])
            self.writing = False

    def space_back(self, count: int) -> bool:
        """MTBSR: False when it stopped early at BOT or at a filemark, as the drive then fails."""
        self.writing = False
        for _ in range(count):
            if self.position == 0:
                return False
            self.position -= 1
            if self.items[self.position] is None:
                return False
        return True


def apply(drive: VirtualDrive, model: TapeModel, operation: str, argument: float, number: int) -> None:
    if operation == "write":
        data = block(number, int(argument))
        drive.write_block(data)
        model.record([data])
        model.writing = True
    elif operation == "fixed":
        data = block(number, FIXED * int(argument))
        drive.set_block_size(FIXED)
        drive.write_block(data)
        drive.set_block_size(0)
        model.record([data[i : i + FIXED] for i in range(0, len(data), FIXED)])
        model.writing = True
    elif operation == "filemarks":
        drive.write_filemarks(int(argument))
        model.record([None] * int(argument))
        model.writing = False
    elif operation == "seek":
        model.close_file()
        target = round(argument * len(model.items))
        drive.seek_block(target)
        model.position = target
    elif operation == "rewind":
        drive.rewind()
        model.close_file()
        model.position = 0
    elif operation == "read":
        if model.position < len(model.items):  # reads at end of data are checked in check_contents
            item = model.items[model.position]
            assert drive.read_block(READ_ALL) == (b"" if item is None else item)
            model.position += 1
            model.writing = False
    elif operation == "back":
        if model.space_back(int(argument)):
            drive.space_records(-int(argument))
        else:
            try:
                drive.space_records(-int(argument))
            except DriveIOError:
                pass
            else:
                raise AssertionError("spacing back should have stopped at BOT or a filemark")


def check_position(drive: VirtualDrive, model: TapeModel) -> None:
    assert drive.tell_block() == model.position
    status = drive.status()
    before = model.items[: model.position]
    if status.file_number != -1:
        assert status.file_number == before.count(None)
    if status.block_number != -1:
        last_filemark = max((i for i, item in enumerate(before) if item is None), default=-1)
        assert status.block_number == model.position - last_filemark - 1


def check_contents(drive: VirtualDrive, model: TapeModel) -> None:
    drive.rewind()
    model.close_file()
    for item in model.items:
        assert drive.read_block(READ_ALL) == (b"" if item is None else item)
    if not model.items:
        try:
            drive.read_block(READ_ALL)
        except BlankTape:
            return
        raise AssertionError("a blank tape should read as blank")
    if model.items[-1] is None:
        assert drive.read_block(READ_ALL) == b""
    else:
        try:
            drive.read_block(READ_ALL)
        except DriveIOError:
            return
        raise AssertionError("end of data without a filemark should fail like st")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_the_drive_keeps_the_tape_a_list_would(steps: list[tuple[str, float]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        shelf = Shelf(Path(folder))
        shelf.ensure("MOD001L5", 64 * 1024 * 1024)
        drive = VirtualDrive("model", "LTO-5", shelf)
        drive.load("MOD001L5")
        model = TapeModel()
        for number, (operation, argument) in enumerate(steps):
            apply(drive, model, operation, argument, number)
            check_position(drive, model)
        check_contents(drive, model)
        drive.close()
        reopened = VirtualDrive("model", "LTO-5", shelf)  # the image read back from its run headers
        check_contents(reopened, model)
        reopened.close()
