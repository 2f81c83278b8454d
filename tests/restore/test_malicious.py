"""A crafted backup.tar.gz on tape: nothing lands outside the target; what is refused is reported."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

from console.engine.pipeline.parts import SourceMember
from console.engine.restore.extract import FolderSink, member_path
from console.engine.restore.sink import TargetRefused


def crafted_archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        def add(name: str, data: bytes = b"", **fields: object) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            for key, value in fields.items():
                setattr(info, key, value)
            tar.addfile(info, io.BytesIO(data) if data else None)

        add("share/", type=tarfile.DIRTYPE, mode=0o755)
        add("share/ok.txt", b"fine\n")
        add("../escaped.txt", b"up and out\n")
        add("share/../../escaped2.txt", b"up and out again\n")
        add("/tmp/tapeconsole-absolute.txt", b"absolute\n")
        add("share/passwd-link", type=tarfile.SYMTYPE, linkname="/etc/passwd")
        add("share/up-link", type=tarfile.SYMTYPE, linkname="../../outside")
        add("share/hard", type=tarfile.LNKTYPE, linkname="/etc/passwd")
        add("share/null", type=tarfile.CHRTYPE, devmajor=1, devminor=3)
        add("share/fifo", type=tarfile.FIFOTYPE)
        add("share/setuid.sh", b"#!/bin/sh\n", mode=0o4755)
        add("share/inner-link", type=tarfile.SYMTYPE, linkname="ok.txt")
    return gzip.compress(buffer.getvalue())


def test_a_crafted_archive_is_refused_member_by_member_and_reported(restore_site, tmp_path: Path) -> None:
    rs = restore_site()
    data = crafted_archive()
    rs.service.jobs.members_for = lambda job, run: [
        SourceMember("backup.tar.gz", len(data), lambda: [data], source="files:crafted")]
    [record] = rs.sets_of(rs.backup("nightly-files"))
    area = tmp_path / "area"
    target = area / "target"
    target.mkdir(parents=True)
    final = rs.restore(record["id"], to=str(target))
    assert final["state"] == "done" and not final["ok"]  # not everything asked for was restored
    refused = {r["name"]: r["why"] for r in final["refused"]}
    assert refused.keys() == {"../escaped.txt", "share/../../escaped2.txt", "/tmp/tapeconsole-absolute.txt",
                              "share/passwd-link", "share/up-link", "share/hard", "share/null", "share/fifo"}
    assert "absolute path" in refused["/tmp/tapeconsole-absolute.txt"]
    assert "'..'" in refused["../escaped.txt"] and "'..'" in refused["share/../../escaped2.txt"]
    assert "absolute" in refused["share/passwd-link"] and "outside" in refused["share/up-link"]
    assert "special file" in refused["share/null"] and "special file" in refused["share/fifo"]
    assert len(final["problems"]) == len(refused) and all("refused" in p for p in final["problems"])
    # what is fine is there, tamed by the data filter; nothing else anywhere
    assert (target / "share" / "ok.txt").read_bytes() == b"fine\n"
    assert os.readlink(target / "share" / "inner-link") == "ok.txt"
    assert not (target / "share" / "setuid.sh").stat().st_mode & 0o6000
    assert sorted(p.name for p in (target / "share").iterdir()) == ["inner-link", "ok.txt", "setuid.sh"]
    assert sorted(p.name for p in area.rglob("*")) == ["inner-link", "ok.txt", "setuid.sh", "share", "target"]
    assert not Path("/tmp/tapeconsole-absolute.txt").exists()


def test_member_names_from_tape_cannot_leave_the_folder(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (root / "vms").symlink_to(tmp_path)  # planted before the restore
    for name, why in (("/etc/cron.d/x", "absolute path"), ("../x.vhd", "'..'"), ("a/../../x", "'..'"),
                      ("vms/x.vhd", "symlink in the target leads out"), ("", "empty")):
        try:
            member_path(root, name)
        except TargetRefused as exc:
            assert why in str(exc), (name, exc)
        else:
            raise AssertionError(f"{name!r} was accepted")
    assert member_path(root, "ok/x.vhd") == root / "ok" / "x.vhd"
    assert FolderSink(root).refused == []
