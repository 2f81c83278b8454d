"""What can be restored, from which night, from which tapes, and the member names the daemon is asked for."""

from __future__ import annotations

import copy

from console.client import restore_plan
from tests.console.fake_daemon import recording


def catalogue(answers: dict) -> tuple[list[dict], dict[int, dict], list[dict]]:
    sets = answers["/sets"]
    details = {s["id"]: answers[f"/sets/{s['id']}"] for s in sets}
    return sets, details, answers["/jobs"]


def test_targets_are_vm_disks_and_file_trees() -> None:
    found = restore_plan.targets(*catalogue(recording("morning")))
    titles = [t.title for t in found]
    assert "VM mail01: disk mail01_system.vhd" in titles and "VM dc01: disk dc01_system.vhd" in titles
    assert titles[-1] == "File tree of job nightly-files"
    assert len([t for t in found if t.kind == "vm-disk"]) == 8  # vm.json members are not disks
    assert all(t.job == "nightly-vdi" for t in found if t.kind == "vm-disk")


def test_each_night_that_holds_the_disk_newest_first() -> None:
    sets, details, jobs = catalogue(recording("morning"))
    disk = next(t for t in restore_plan.targets(sets, details, jobs) if t.title.startswith("VM mail01: disk mail01_s"))
    nights = restore_plan.nights(disk, sets, details)
    assert [(n.run, n.sets, n.state) for n in nights] == [(3, (3,), "complete"), (1, (1,), "complete")]


def test_an_overwritten_set_is_no_restore_point() -> None:
    answers = copy.deepcopy(recording("morning"))
    answers["/sets"][0]["state"] = "overwritten"  # set 1, night one's VDI set
    sets, details, jobs = catalogue(answers)
    disk = next(t for t in restore_plan.targets(sets, details, jobs) if t.kind == "vm-disk")
    assert [n.run for n in restore_plan.nights(disk, sets, details)] == [3]


def test_the_tapes_say_where_they_are_and_which_drive_reads_them() -> None:
    answers = copy.deepcopy(recording("morning"))
    sets, details, jobs = catalogue(answers)
    tree = next(t for t in restore_plan.targets(sets, details, jobs) if t.kind == "file-tree")
    night = restore_plan.nights(tree, sets, details)[0]
    [need] = restore_plan.tapes_needed(night, sets, answers["/tapes"], answers["/drives"])
    assert (need.barcode, need.drive, need.ready, need.tape_files) == ("DEM102L4", "lto4", False, (1,))
    assert need.todo == "DEM102L4 is on the shelf: insert it into drive lto4."
    tape = next(t for t in answers["/tapes"] if t["barcode"] == "DEM102L4")
    tape["location"] = "offsite:offsite-vault"
    [need] = restore_plan.tapes_needed(night, sets, answers["/tapes"], answers["/drives"])
    assert need.todo == "DEM102L4 is offsite (offsite-vault): bring it back first."
    tape["location"] = "drive:lto5"  # an LTO-5 drive reads LTO-4 tapes too
    [need] = restore_plan.tapes_needed(night, sets, answers["/tapes"], answers["/drives"])
    assert (need.drive, need.ready) == ("lto5", True)


def test_an_lto5_tape_is_never_sent_to_the_lto4_drive() -> None:
    answers = recording("morning")
    sets, details, jobs = catalogue(answers)
    disk = next(t for t in restore_plan.targets(sets, details, jobs) if t.kind == "vm-disk")
    night = restore_plan.nights(disk, sets, details)[0]
    drives = [d for d in answers["/drives"] if d["name"] == "lto4"]
    [need] = restore_plan.tapes_needed(night, sets, answers["/tapes"], drives)
    assert need.drive is None and "No drive here can read LTO-5" in need.todo


def test_the_disk_is_asked_for_by_its_member_names_parts_joined() -> None:
    answers = recording("morning")
    sets, details, jobs = catalogue(answers)
    disk = next(t for t in restore_plan.targets(sets, details, jobs) if "files01_shares" in t.title)
    night = restore_plan.nights(disk, sets, details)[0]
    [name] = restore_plan.disk_members(disk, night, details)
    assert name.startswith("vms/files01-") and name.endswith(".vhd")  # its two .partNNNN pieces: one member
    tree = next(t for t in restore_plan.targets(sets, details, jobs) if t.kind == "file-tree")
    assert restore_plan.disk_members(tree, restore_plan.nights(tree, sets, details)[0], details) == []
