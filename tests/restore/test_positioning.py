"""Positioning fast: a member at the end of a large set is reached by block seek, else by spacing records,
else by reading from the set's start; the blocks read show the difference."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

import pytest

from console.engine.drives.base import Drive, NotSupported
from console.engine.pipeline.parts import SourceMember

MEMBERS = 48
MEMBER_BYTES = 2 * 1024 * 1024 + 1000  # not a whole number of records: headers land mid-record


class LimitedDrive:
    """The virtual drive as one that cannot seek (like tgt), or cannot space records either."""

    def __init__(self, drive: Drive, *, seek: bool, space: bool) -> None:
        self._drive, self._seek, self._space = drive, seek, space

    def __getattr__(self, name: str) -> Any:
        return getattr(self._drive, name)

    def tell_block(self) -> int:
        if not self._seek:
            raise NotSupported(f"drive {self._drive.name}: no READ POSITION")
        return self._drive.tell_block()

    def seek_block(self, block: int) -> None:
        if not self._seek:
            raise NotSupported(f"drive {self._drive.name}: no LOCATE")
        self._drive.seek_block(block)

    def space_records(self, count: int) -> None:
        if not self._space:
            raise NotSupported(f"drive {self._drive.name}: no MTFSR")
        self._drive.space_records(count)


@pytest.fixture
def large_set(restore_site):  # noqa: ANN201
    rs = restore_site(lto5_gib=0.5, part_mib=64)
    rng = random.Random(3)
    blobs = {f"disks/disk{i:02d}.raw": rng.randbytes(MEMBER_BYTES) for i in range(MEMBERS)}
    rs.service.jobs.members_for = lambda job, run: [
        SourceMember(name, len(data), lambda data=data: [data], source="test") for name, data in blobs.items()]
    [record] = rs.sets_of(rs.backup("nightly-vdi"))
    return rs, record, blobs


def restore_last(rs, record: dict, out: Path, *, seek: bool, space: bool) -> dict:  # noqa: ANN001
    slot = rs.service.slots["lto5"]
    real = slot.drive
    slot.drive = LimitedDrive(real, seek=seek, space=space)
    before = real.counters().bytes_read
    try:
        final = rs.restore(record["id"], to=str(out), members=["disks/disk47.raw"])
    finally:
        slot.drive = real
    final["bytes_off_tape"] = real.counters().bytes_read - before
    return final


def test_a_member_at_the_end_of_a_large_set_is_reached_by_seek_space_or_reading(large_set, tmp_path: Path) -> None:
    rs, record, blobs = large_set
    size = record["record_size"]
    records = record["bytes"] // size
    last = next(m for m in record["members"] if m["name"] == "disks/disk47.raw")
    start = last["header_offset"] // size
    end = -(-(last["offset"] + last["size"]) // size)
    assert records > 350 and start > 330

    seek = restore_last(rs, record, tmp_path / "seek", seek=True, space=True)
    space = restore_last(rs, record, tmp_path / "space", seek=False, space=True)
    read = restore_last(rs, record, tmp_path / "read", seek=False, space=False)
    for final, folder in ((seek, "seek"), (space, "space"), (read, "read")):
        assert final["ok"], final["problems"]
        data = (tmp_path / folder / "disks" / "disk47.raw").read_bytes()
        assert hashlib.sha256(data).digest() == hashlib.sha256(blobs["disks/disk47.raw"]).digest()

    # seek: straight to first_block + the member's record, then only the member's records
    assert seek["drive_reads"]["seeks"] == 1 and seek["drive_reads"]["records_spaced"] == 0
    assert seek["drive_reads"]["positioning"] == [f"set {record['id']}: seek to block {record['first_block'] + start}"]
    assert seek["drive_reads"]["blocks_read"] == end - start
    assert seek["bytes_off_tape"] == (end - start) * size
    # no seek (tgt): filemarks, then MTFSR over the records before the member: the same blocks cross the bus
    assert space["drive_reads"]["seeks"] == 0 and space["drive_reads"]["records_spaced"] == start
    assert space["drive_reads"]["blocks_read"] == end - start
    assert "cannot seek" in space["drive_reads"]["positioning"][0]
    # neither: the set is read from its start up to the member's end
    assert read["drive_reads"]["blocks_read"] == end
    assert read["bytes_off_tape"] == end * size
    print(f"\nset of {records} records; member in records {start}..{end - 1}: blocks read "
          f"with seek {seek['drive_reads']['blocks_read']}, spacing {space['drive_reads']['blocks_read']} "
          f"(+{start} spaced), reading forward {read['drive_reads']['blocks_read']}")


def test_a_seek_that_lands_wrong_falls_back_to_reading_the_set(large_set, tmp_path: Path) -> None:
    rs, record, blobs = large_set
    rs.service.inventory.update_set(record["id"], first_block=record["first_block"] + 7)  # a wrong catalog
    final = rs.restore(record["id"], to=str(tmp_path / "x"), members=["disks/disk03.raw"])
    assert final["ok"], final["problems"]
    assert (tmp_path / "x" / "disks" / "disk03.raw").read_bytes() == blobs["disks/disk03.raw"]
    assert "reading the set from its start" in final["drive_reads"]["positioning"][0]
