"""One file restored by seeking to its frame: only that frame comes off the tape; old archives still restore."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from console.engine.inventory.file_index import FileIndex
from console.engine.inventory.frame_table import FrameTable
from console.engine.jobs.files_job import index_key, index_path
from console.engine.restore.extract import PIPE_CHUNKS
from console.engine.sources.compression import pigz_path
from tests.restore.conftest import make_tree

CODECS = {"zstd": "backup.tar.zst", "gzip": "backup.tar.gz", "none": "backup.tar"}


def big_tree(root: Path) -> Path:
    """make_tree's mail and shares, and a records folder (last in the tar) of some MiB: many 1 MiB frames."""
    make_tree(root)
    rng = random.Random(5)
    for i in range(24):
        path = root / "shares" / "records" / f"scan{i:02d}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(300_000))
    return root


def site_with_frames(restore_site, codec: str):  # noqa: ANN001, ANN201 - fixtures
    rs = restore_site(part_mib=2, lto4_gib=0.5, extra=f'compression = "{codec}"\nframe_mib = 1\n')
    big_tree(rs.folder / "data")
    run = rs.backup("nightly-files")
    [record] = rs.sets_of(run)
    return rs, run, record


@pytest.mark.parametrize("codec", list(CODECS))
def test_one_file_near_the_end_reads_only_its_frame(restore_site, tmp_path: Path, codec: str) -> None:
    if codec == "gzip" and pigz_path() is None:
        pytest.skip("pigz not installed: zlib threads write the same frames")
    rs, run, record = site_with_frames(restore_site, codec)
    assert {m["name"].split(".part")[0] for m in record["members"]} == {CODECS[codec]}
    config = rs.service.config
    with FileIndex(index_path(config)) as index, FrameTable(index_path(config)) as table:
        key = index_key(run["id"])
        wanted = index.get(key, "shares/records/scan22.pdf")
        assert wanted is not None
        frames = table.frames(key)
        frame = table.frame_holding(key, wanted.offset)
    assert frame is not None and len(frames) > 6 and frame.number >= len(frames) - 3
    out = tmp_path / "one"
    final = rs.restore(record["id"], to=str(out), members=["shares/records/scan22.pdf"])
    assert final["ok"], final["problems"] or final["error"]
    restored = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()]
    assert restored == ["shares/records/scan22.pdf"]
    assert (out / restored[0]).read_bytes() == (rs.folder / "data" / restored[0]).read_bytes()
    # the drive read from the frame's record on, and not much past the file: the frame (and the next one,
    # as the file crosses into it), plus what the unpacking pipe holds
    size = record["record_size"]
    reads = final["drive_reads"]
    later = [f.packed_offset for f in frames if f.tar_offset > wanted.data_offset + wanted.size]
    span = (later[0] if later else sum(m["size"] for m in record["members"])) - frame.packed_offset
    assert reads["bytes_read"] <= span + (PIPE_CHUNKS + 3) * size
    assert reads["bytes_read"] < record["bytes"] / 3
    assert reads["seeks"] == 1, reads["positioning"]  # straight to the frame's record (or the part's header)

    # a whole restore still reads straight through, and so does a verify
    whole = tmp_path / "whole"
    final = rs.restore(record["id"], to=str(whole))
    assert final["ok"] and final["drive_reads"]["bytes_read"] >= sum(m["size"] for m in record["members"])
    assert (whole / "shares" / "records" / "scan03.pdf").read_bytes() == \
        (rs.folder / "data" / "shares" / "records" / "scan03.pdf").read_bytes()
    assert rs.verify(record["tape"])["ok"]


def test_an_archive_without_frames_is_read_from_its_start(restore_site, tmp_path: Path) -> None:
    """A tape written before frames: one gzip stream, no frame table; the restore reads it through."""
    rs = restore_site(part_mib=2, lto4_gib=0.5, extra='compression = "gzip"\n')  # 64 MiB frames: one stream
    big_tree(rs.folder / "data")
    run = rs.backup("nightly-files")
    [record] = rs.sets_of(run)
    with FrameTable(index_path(rs.service.config)) as table:
        assert len(table.frames(index_key(run["id"]))) == 1
        table.forget(index_key(run["id"]))  # as an index from before this version has it
    out = tmp_path / "old"
    final = rs.restore(record["id"], to=str(out), members=["shares/records/scan22.pdf"])
    assert final["ok"], final["problems"] or final["error"]
    assert (out / "shares/records/scan22.pdf").read_bytes() == \
        (rs.folder / "data/shares/records/scan22.pdf").read_bytes()
    reads = final["drive_reads"]
    assert not any("frame at byte" in p for p in reads["positioning"])
    assert reads["bytes_read"] > record["bytes"] * 0.8  # from the set's start up to the file
