"""A tape made by an attacker: what cannot be restored as a file is refused and listed, the rest restored;
a manifest that lies about a size, or that cannot be true of its tape file, is not believed."""

from __future__ import annotations

import tarfile
from pathlib import Path

from tests.restore.hostile_tape import Outer, append_to_tape, hostile_set

DISK = b"a legitimate disk\n" * 100


def scanned_hostile_set(rs, members: list[Outer], manifest: dict | None = None) -> tuple[dict, dict]:
    [normal] = rs.sets_of(rs.backup("nightly-vdi"))
    size = normal["record_size"]
    data, _ = hostile_set(members, size, manifest)
    append_to_tape(rs.service.slots["lto5"].drive, data, size)
    final = rs.scan("lto5")
    found = [s for s in rs.service.inventory.sets(barcode=normal["barcode"]) if s["id"] != normal["id"]]
    return final, (found[0] if found else {})


def test_links_devices_fifos_and_folders_on_tape_are_refused_and_listed(restore_site, tmp_path: Path) -> None:
    rs = restore_site()
    members = [Outer("vms/hard", kind=tarfile.LNKTYPE, linkname="/etc/passwd"),
               Outer("vms/null", kind=tarfile.CHRTYPE), Outer("vms/fifo", kind=tarfile.FIFOTYPE),
               Outer("vms/link", kind=tarfile.SYMTYPE, linkname="/tmp"), Outer("vms/folder/", kind=tarfile.DIRTYPE),
               Outer("vms/link/x.vhd", b"beneath the symlink\n"), Outer("vms/disk.vhd", DISK)]
    scan, record = scanned_hostile_set(rs, members)
    assert record, scan
    target = tmp_path / "target"
    final = rs.restore(record["id"], to=str(target))
    assert final["state"] == "done" and not final["ok"]
    refused = {r["name"]: r["why"] for r in final["refused"]}
    assert refused.keys() == {"vms/hard", "vms/null", "vms/fifo", "vms/link", "vms/folder/"}
    assert "a hard link to '/etc/passwd'" in refused["vms/hard"] and "a fifo" in refused["vms/fifo"]
    assert "a symlink" in refused["vms/link"] and "a character device" in refused["vms/null"]
    assert (target / "vms" / "disk.vhd").read_bytes() == DISK
    assert sorted(p.name for p in (target / "vms").iterdir()) == ["disk.vhd", "link"]  # link: the folder made
    assert [r["name"] for r in final["results"] if r["ok"]] == ["vms/link/x.vhd", "vms/disk.vhd"]
    assert (target / "vms" / "link").is_dir() and not (target / "vms" / "link").is_symlink()


def test_a_size_the_manifest_lies_about_is_a_problem_not_a_restored_file(restore_site, tmp_path: Path) -> None:
    rs = restore_site()
    lie = Outer("vms/short.vhd", DISK)
    scan, record = scanned_hostile_set(rs, [lie, Outer("vms/disk.vhd", DISK)])
    rs.service.inventory.update_set(record["id"], members=[
        {**m, "size": m["size"] + 4096} if m["name"] == "vms/short.vhd" else m for m in record["members"]])
    target = tmp_path / "target"
    final = rs.restore(record["id"], to=str(target))
    assert not final["ok"]
    [bad] = [r for r in final["results"] if not r["ok"]]
    assert bad["name"] == "vms/short.vhd" and "holds 1800 bytes, the inventory says 5896" in bad["problem"]
    assert not (target / "vms" / "short.vhd").exists()
    assert (target / "vms" / "disk.vhd").read_bytes() == DISK


def test_a_manifest_of_the_wrong_kinds_never_enters_the_inventory(restore_site) -> None:
    rs = restore_site()
    scan, record = scanned_hostile_set(rs, [Outer("vms/disk.vhd", DISK)], {"run": {"a": 1}})
    assert record == {}
    assert any("manifest is not believed (run must be a whole number" in n for n in scan["notes"]), scan["notes"]
    assert rs.manager.find("*")["files"] is not None  # find still answers for everyone


def test_a_manifest_claiming_more_than_its_tape_file_holds_is_not_believed(restore_site) -> None:
    rs = restore_site()
    huge = Outer("vms/huge.vhd", DISK, listed={"size": 10 * 1000**4})
    scan, record = scanned_hostile_set(rs, [huge])
    assert record == {}
    assert any("past the end of its tape file" in n for n in scan["notes"]), scan["notes"]


def test_a_set_complete_on_tape_that_the_inventory_calls_cut_is_marked_complete_by_scan(restore_site) -> None:
    rs = restore_site()
    [record] = rs.sets_of(rs.backup("nightly-vdi"))
    # what recovery records when the kill lands just after the set closed on tape
    rs.service.inventory.update_set(record["id"], state="incomplete", bytes=0, members=[], member_count=0, cut=True,
                                    error="interrupted: the daemon stopped while this set was written")
    final = rs.scan("lto5")
    assert final["ok"], final["problems"]
    [again] = rs.service.inventory.sets(barcode=record["barcode"])
    assert again["id"] == record["id"] and again["state"] == "complete" and again["error"] is None
    assert again["bytes"] == record["bytes"] and again["member_count"] == record["member_count"]
