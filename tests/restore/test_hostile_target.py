"""A restore writes inside its target folder and nowhere else, whatever is planted there or swapped in."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.engine.pipeline.parts import SourceMember
from console.engine.refusals import Refused
from console.engine.restore.catalog import Member
from console.engine.restore.extract import FolderSink
from console.engine.restore.sink import TargetRefused


def members_of(rs, members: dict[str, bytes]) -> None:
    rs.service.jobs.members_for = lambda job, run: [
        SourceMember(name, len(data), lambda data=data: [data], source=f"xo:vdi/{i}")
        for i, (name, data) in enumerate(members.items())]


def test_a_symlink_planted_at_the_temporary_name_is_never_followed(restore_site, tmp_path: Path) -> None:
    rs = restore_site()
    members_of(rs, {"vms/a.vhd": b"tape data " * 1000})
    [record] = rs.sets_of(rs.backup("nightly-vdi"))
    victim = rs.service.config.daemon.state_dir / "victim.json"
    victim.write_text("the daemon's own state\n")
    target = tmp_path / "target"
    (target / "vms").mkdir(parents=True)
    (target / "vms" / ".a.vhd.restoring").symlink_to(victim)
    final = rs.restore(record["id"], to=str(target), force=True)
    assert final["ok"], final["problems"]
    assert victim.read_text() == "the daemon's own state\n"
    assert (target / "vms" / "a.vhd").read_bytes() == b"tape data " * 1000
    assert (target / "vms" / "a.vhd").stat().st_mode & 0o077 == 0
    assert [p.name for p in (target / "vms").iterdir() if p.name.endswith(".restoring")] == [".a.vhd.restoring"]


def test_a_member_beneath_a_file_is_skipped_and_the_rest_restored(restore_site, tmp_path: Path) -> None:
    rs = restore_site()
    members_of(rs, {"vms/a": b"a file\n", "vms/a/x.vhd": b"beneath a file\n", "vms/b.vhd": b"the disk after\n"})
    [record] = rs.sets_of(rs.backup("nightly-vdi"))
    target = tmp_path / "target"
    final = rs.restore(record["id"], to=str(target))
    assert final["state"] == "done" and not final["ok"], final
    assert [r["name"] for r in final["refused"]] == ["vms/a/x.vhd"]
    assert "not a folder" in final["refused"][0]["why"]
    assert (target / "vms" / "b.vhd").read_bytes() == b"the disk after\n"
    assert (target / "vms" / "a").read_bytes() == b"a file\n"


def test_a_symlink_inside_the_target_is_not_written_through(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "inside").mkdir()
    (root / "vms").symlink_to(root / "inside")  # inside today; whoever planted it may point it out tomorrow
    sink = FolderSink(root)
    with pytest.raises(TargetRefused, match="symlink or a file"):
        sink.begin(Member("vms/x.vhd", []), 0)
    sink.close()
    assert list((root / "inside").iterdir()) == []


def test_swapping_the_target_for_a_symlink_after_it_was_opened_changes_nothing(tmp_path: Path) -> None:
    state = tmp_path / "var"
    state.mkdir()
    root = tmp_path / "target"
    root.mkdir()
    sink = FolderSink(root, forbidden=[state])
    sink.begin(Member("first.vhd", []), 1_700_000_000)
    sink.write(memoryview(b"one"))
    moved = tmp_path / "moved"
    root.rename(moved)
    root.symlink_to(state)  # the attacker's swap, after the daemon checked and opened the folder
    assert sink.finish(Member("first.vhd", []))["ok"]
    sink.begin(Member("sub/second.vhd", []), 1_700_000_000)
    sink.write(memoryview(b"two"))
    assert sink.finish(Member("sub/second.vhd", []))["ok"]
    sink.close()
    assert list(state.iterdir()) == []
    assert (moved / "first.vhd").read_bytes() == b"one" and (moved / "sub" / "second.vhd").read_bytes() == b"two"
    assert (moved / "first.vhd").stat().st_mtime == 1_700_000_000


def test_the_target_is_checked_on_what_was_opened_not_on_its_path(tmp_path: Path) -> None:
    from console.engine.restore.target_folder import TargetFolder

    state = tmp_path / "var"
    (state / "inside").mkdir(parents=True)
    (tmp_path / "link").symlink_to(state)
    with pytest.raises(Refused, match="not a folder"):
        TargetFolder(tmp_path / "link", [state])
    with pytest.raises(Refused, match="where the daemon keeps"):
        TargetFolder(tmp_path / "link" / "inside", [state])
    with pytest.raises(Refused, match="where the daemon keeps"):
        TargetFolder(tmp_path, [state])  # holds the state folder
    TargetFolder(state / "inside", [tmp_path / "elsewhere"]).close()  # a place that does not exist: no matter


def test_a_file_of_an_archive_that_breaks_off_is_not_left_under_its_name(tmp_path: Path) -> None:
    import gzip
    import io
    import random
    import tarfile

    from console.engine.restore.extract import FileTreeSink

    data = random.Random(5).randbytes(2 * 1024 * 1024)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, content in (("share/small.txt", b"whole\n"), ("share/big.bin", data)):
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    archive = gzip.compress(buffer.getvalue(), compresslevel=1)
    root = tmp_path / "root"
    sink = FileTreeSink(root)
    member = Member("backup.tar.gz", [])
    sink.begin(member, 0)
    half = len(archive) // 2
    for at in range(0, half, 65536):
        sink.write(memoryview(archive[at:min(at + 65536, half)]))
    sink.abort(member, "the tape broke")
    sink.close()
    assert (root / "share" / "small.txt").read_bytes() == b"whole\n"
    assert not (root / "share" / "big.bin").exists()
