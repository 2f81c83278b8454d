"""File-tree sets restored to a folder: the files themselves, byte for byte, under the roots' names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from console.engine.refusals import BadRequest, Refused
from console.engine.restore.plan import RestoreRequest
from tests.restore.conftest import make_tree, same_tree


def test_a_file_tree_set_restores_as_the_files_themselves(restore_site, tmp_path: Path) -> None:
    rs = restore_site(part_mib=1)
    make_tree(rs.folder / "data")
    run = rs.backup("nightly-files")
    record = rs.sets_of(run)[0]
    assert len([m for m in record["members"] if m["name"].startswith("backup.tar.zst.part")]) >= 2
    out = tmp_path / "restored"
    final = rs.restore(record["id"], to=str(out))
    assert final["state"] == "done" and final["ok"], final["problems"] or final["error"]
    assert same_tree(rs.folder / "data" / "mail", out / "mail")
    assert same_tree(rs.folder / "data" / "shares", out / "shares")
    assert sorted(p.name for p in out.iterdir()) == ["mail", "shares"]  # no backup.tar.zst, no MANIFEST.json
    doc = rs.folder / "data" / "shares" / "dept1" / "doc1.txt"
    assert (out / "shares" / "dept1" / "doc1.txt").stat().st_mtime == int(doc.stat().st_mtime)
    [result] = final["results"]
    assert result["files"] == 30 * 2 + 12 * 2 and result["replaced"] == 0 and result["refused"] == 0
    # progress like a backup's: bytes against the expected total, the tape, how the drive got there
    assert final["bytes"] == final["expected_bytes"] == sum(m["size"] for m in record["members"])
    assert final["tape"] == record["tape"] and {"rate", "eta_seconds", "member"} <= final.keys()
    assert final["drive_reads"]["positioning"] == [f"set {record['id']}: seek to block {record['first_block']}"]


def test_a_restore_never_writes_to_the_tape(restore_site, tmp_path: Path) -> None:
    rs = restore_site()
    make_tree(rs.folder / "data")
    run = rs.backup("nightly-files")
    record = rs.sets_of(run)[0]
    drive = rs.service.slots["lto4"].drive
    image = rs.service.shelf.image_path(record["barcode"])
    written, size, mtime = drive.counters().bytes_written, image.stat().st_size, image.stat().st_mtime_ns
    assert rs.restore(record["id"], to=str(tmp_path / "a"))["ok"]
    assert rs.verify(record["tape"])["ok"]
    assert drive.counters().bytes_written == written
    assert (image.stat().st_size, image.stat().st_mtime_ns) == (size, mtime)


def test_member_globs_restore_only_those_files_and_stop_reading_once_found(restore_site, tmp_path: Path) -> None:
    rs = restore_site(part_mib=1)
    make_tree(rs.folder / "data")
    run = rs.backup("nightly-files")
    record = rs.sets_of(run)[0]
    out = tmp_path / "some"
    final = rs.restore(record["id"], to=str(out), members=["mail/alice/Maildir/cur/1700000003.alice.eml"])
    assert final["ok"], final["problems"]
    files = [p for p in out.rglob("*") if p.is_file()]
    assert [p.relative_to(out).as_posix() for p in files] == ["mail/alice/Maildir/cur/1700000003.alice.eml"]
    assert files[0].read_bytes() == (rs.folder / "data/mail/alice/Maildir/cur/1700000003.alice.eml").read_bytes()
    # the file index said how many files match: the rest of the archive stayed on the tape
    assert "the rest of the archive was not read" in " ".join(final["notes"])
    assert final["drive_reads"]["blocks_read"] < record["bytes"] // record["record_size"]

    # a folder as --member selects everything under it
    folder = tmp_path / "dept2"
    final = rs.restore(record["id"], to=str(folder), members=["shares/dept2"])
    assert final["ok"], final["problems"]
    assert same_tree(rs.folder / "data" / "shares" / "dept2", folder / "shares" / "dept2")
    assert not (folder / "mail").exists()


def test_a_folder_that_is_not_empty_is_refused_unless_forced_and_replaced_files_are_listed(
        restore_site, tmp_path: Path) -> None:
    rs = restore_site()
    make_tree(rs.folder / "data")
    record = rs.sets_of(rs.backup("nightly-files"))[0]
    out = tmp_path / "busy"
    (out / "shares" / "dept0").mkdir(parents=True)
    (out / "shares" / "dept0" / "doc0.txt").write_text("local changes\n")
    (out / "keep.txt").write_text("mine\n")
    request = RestoreRequest(record["id"], to_folder=str(out))
    with pytest.raises(Refused, match=f"folder {out} is not empty.*--force"):
        rs.manager.start_restore(request, "tester")
    final = rs.restore(record["id"], to=str(out), force=True)
    assert final["ok"], final["problems"]
    [result] = final["results"]
    assert result["replaced"] == 1 and result["replaced_paths"] == ["shares/dept0/doc0.txt"]
    assert final["notes"] == [f"1 file(s) that were in {out} replaced: shares/dept0/doc0.txt"]
    assert (out / "keep.txt").read_text() == "mine\n"
    assert same_tree(rs.folder / "data" / "shares", out / "shares")


def test_targets_that_could_touch_a_tape_or_the_daemon_are_refused(restore_site, tmp_path: Path) -> None:
    rs = restore_site()
    make_tree(rs.folder / "data")
    record = rs.sets_of(rs.backup("nightly-files"))[0]
    state = rs.service.config.daemon.state_dir
    for folder, why in (
        ("/dev/null", "is a device, not a folder: a restore never writes to a tape"),
        (str(state / "restore"), "where the daemon keeps its cartridges"),
        (str(rs.service.config.shelf.path), "where the daemon keeps its cartridges"),
        (str(tmp_path / "no" / "such"), f"folder {tmp_path / 'no'} does not exist"),
        (str(rs.folder / "config.toml"), "is not a folder"),
        ("/proc/tapeconsole-restore", "(may not create folder|cannot create restore folder) /proc/tapeconsole-restore"),
    ):
        with pytest.raises(Refused, match=why):
            rs.manager.start_restore(RestoreRequest(record["id"], to_folder=folder), "tester")
    with pytest.raises(BadRequest, match="must be an absolute path"):
        rs.manager.start_restore(RestoreRequest(record["id"], to_folder="relative/dir"), "tester")
    with pytest.raises(BadRequest, match="file-tree set: restore it to a folder"):
        rs.manager.start_restore(RestoreRequest(record["id"], to_xo="some-sr"), "tester")
    assert not (state / "restore").exists() and os.listdir(rs.service.config.shelf.path)
