"""The restore walkthrough's model without a screen: each step, going on and back, and each refusal.

The catalog is the one the recorded daemon answers (tests/console/data/morning.json: two nights of both
nightly jobs, sets 1 and 3 on DEM001L5 and DEM002L5 for nightly-vdi, 2 and 4 on DEM101L4 and DEM102L4 for
nightly-files, every tape on the shelf, both drives empty)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from console.client.restore_request import TargetProblem
from console.client.restore_walk import RestoreWalk, Words
from console.wire.restore_catalog import RestoreCatalog
from tests.console.fake_daemon import catalog_of, recording

Json = dict[str, Any]
DISK = "vm:dc01/dc01_system-8591c7a0-6eb3-4d0d-b88a-f5b0f9a7a6f4.vhd"
TREE = "files:nightly-files"


def answers() -> dict[str, Any]:
    return copy.deepcopy(recording("morning"))


def walk_of(recorded: dict[str, Any] | None = None) -> RestoreWalk:
    walk = RestoreWalk(home="/home/op")
    walk.load(RestoreCatalog.from_json(catalog_of(recorded or answers())))
    return walk


def shelf(walk: RestoreWalk, recorded: dict[str, Any] | None = None) -> None:
    recorded = recorded or answers()
    walk.see_tapes(recorded["/tapes"], recorded["/drives"])


def row(path: str, run: int, size: int = 100, night: str = "2026-11-27") -> Json:
    return {"path": path, "run": run, "size": size, "night": night, "job": "nightly-files"}


# ---- 1 What
def test_before_the_catalog_and_when_it_cannot_be_had_the_list_says_so() -> None:
    walk = RestoreWalk()
    [looking] = walk.what_choices()
    assert looking.id is None and looking.disabled and looking.words.plain == "Looking for backup sets…"
    walk.load_failed("HTTP 503: busy")
    [problem] = walk.what_choices()
    assert problem.disabled and problem.words.plain == "Cannot list the backup sets: HTTP 503: busy"
    walk.load(RestoreCatalog([], {}, [], []))
    [empty] = walk.what_choices()
    assert empty.disabled and empty.words.plain.startswith("No backup set yet: run a backup first")


def test_the_targets_are_the_disks_then_the_file_trees() -> None:
    choices = walk_of().what_choices()
    assert [c.id for c in choices][0] == DISK and choices[-1].id == TREE and len(choices) == 9
    assert choices[0].words.plain == "VM dc01: disk dc01_system.vhd  vm disk · job nightly-vdi"
    assert not any(c.disabled for c in choices)


def test_a_set_without_its_member_list_offers_no_disk() -> None:
    recorded = answers()
    recorded["/sets"][2]["state"] = "writing"  # night two's VDI set is not restorable: night one's still is
    walk = walk_of(recorded)
    walk.choose_target(DISK)
    assert [n.run for n in walk.nights()] == [1]


def test_a_restore_running_at_the_opening_is_followed_once_and_only_from_the_start() -> None:
    recorded = answers()
    recorded["/restores"] = [{"id": 1, "kind": "restore", "state": "done"},
                             {"id": 2, "kind": "verify", "state": "running"},
                             {"id": 3, "kind": "restore", "state": "running"},
                             {"id": 4, "kind": "restore", "state": "waiting"}]
    walk = walk_of(recorded)
    assert walk.follow_running() == recorded["/restores"][3]
    assert walk.step == "run" and walk.history == [] and walk.follow_running() is None
    later = walk_of(recorded)
    later.choose_target(DISK)
    assert later.follow_running() is None and later.step == "night"
    recorded["/restores"] = recorded["/restores"][:2]
    assert walk_of(recorded).follow_running() is None


# ---- a VM's disk, to the end
def test_a_disk_goes_from_what_to_the_run_and_back_and_ends_in_its_request() -> None:
    walk = walk_of()
    walk.choose_target(DISK)
    assert (walk.step, walk.history) == ("night", ["what"])
    assert walk.night_question() == Words("Which night of [b]$what[/b]?", {"what": "VM dc01: disk dc01_system.vhd"})
    nights = walk.night_choices()
    assert [c.id for c in nights] == ["3", "1"] and not any(c.disabled for c in nights)
    assert "  run 3  complete  " in nights[0].words.plain and nights[0].words.plain.endswith("1 set(s)")
    walk.choose_night("3")
    shelf(walk)
    assert walk.step == "tapes" and walk.night is not None and walk.night.sets == (3,)
    assert walk.tape_lines() == ["• DEM002L5, tape file 1: DEM002L5 is on the shelf: insert it into drive lto5."]
    assert walk.tapes_next().plain.startswith("Press i to insert them now")
    [put_in] = walk.put_in()
    assert (put_in.barcode, put_in.drive, put_in.reason, put_in.job) == ("DEM002L5", "lto5", "restore", "nightly-vdi")

    walk.to_target()
    assert walk.step == "target" and walk.disk and not walk.to_xo
    assert walk.target_typed == "/home/op/restore-dc01-run3"
    assert walk.target_about().startswith("From set 3 (run 3, on tape DEM002L5): the disk's members.")
    assert walk.hint().startswith("From the command line: tapeconsole restore 3 --to /home/op/restore-dc01-run3 "
                                  "--member vms/dc01-")
    request = walk.request("/srv/x")
    assert request["set"] == 3 and request["to"] == "/srv/x" and request["force"] is False
    assert request["members"] and all(m.startswith("vms/dc01-") and "dc01_system" in m for m in request["members"])

    # back, step by step, to the start: there Esc closes
    assert walk.can_go_back and walk.back() and walk.step == "tapes"
    assert walk.back() and walk.step == "night"
    assert walk.back() and walk.step == "what" and not walk.can_go_back and not walk.back()


def test_where_to_refuses_what_is_not_a_folder_or_an_sr_and_each_kind_keeps_its_text() -> None:
    walk = walk_of()
    walk.choose_target(DISK)
    walk.choose_night("3")
    shelf(walk)
    walk.to_target()
    with pytest.raises(TargetProblem):
        walk.target_of("srv/x")
    assert "'srv/x' is not an absolute path" in walk.target_problem
    walk.type_target("/srv/restore/dc01")
    assert walk.target_problem == "" and walk.target_of("/srv/restore//dc01/") == "/srv/restore/dc01"

    walk.set_target_kind(True)
    assert walk.to_xo and walk.target_typed == "" and "SR's uuid" in walk.target_label
    assert "--to-xo SR_UUID" in walk.hint()
    with pytest.raises(TargetProblem):
        walk.target_of("not-a-uuid")
    assert "'not-a-uuid' is not an SR uuid" in walk.target_problem
    sr = "8C2F7D7E-1B4A-4C3E-9F00-5D6E7F8A9B0C"
    walk.type_target(sr)
    assert walk.target_of(sr) == sr.lower()
    request = walk.request(sr.lower())
    assert request["to_xo"] == sr.lower() and "to" not in request and "force" in request
    walk.set_target_kind(False)
    assert walk.target_typed == "/srv/restore/dc01"  # the folder typed before is still there

    title, body = walk.folder_question("/srv/x", 1001)
    assert title == "Restore into /srv/x?" and "already holds more than 1000 file(s)" in body
    walk.not_started("/srv/x")
    assert walk.target_problem.startswith("Not started: /srv/x is not empty")
    walk.refused("Refused (HTTP 409): tape DEM002L5 is offsite")
    assert walk.target_problem == "Refused (HTTP 409): tape DEM002L5 is offsite" and walk.step == "target"

    assert walk.started() == "VM dc01: disk dc01_system.vhd, night of " + walk.tapes_question().values["night"]
    assert walk.step == "run" and not walk.can_go_back
    assert walk.step_index() == 4 and walk.step_index(run_ended=True) == 5
    walk.again()
    assert (walk.step, walk.history, walk.night, walk.needs) == ("what", [], None, [])
    assert walk.typed["folder"] == "/srv/restore/dc01"  # kept for the next restore


def test_the_tapes_say_where_each_is_and_what_to_do() -> None:
    recorded = answers()
    tape = next(t for t in recorded["/tapes"] if t["barcode"] == "DEM002L5")
    walk = walk_of(recorded)
    walk.choose_target(DISK)
    walk.choose_night("3")
    tape["location"] = "offsite:offsite-vault"
    shelf(walk, recorded)
    assert walk.tape_lines() == ["• DEM002L5, tape file 1: DEM002L5 is offsite (offsite-vault): bring it back first."]
    assert [p.location for p in walk.put_in()] == ["offsite:offsite-vault"]
    assert [n.barcode for n in walk.offsite_needs()] == ["DEM002L5"]
    hint = walk.tapes_next().plain  # the recall step, never "the restore asks for each tape"
    assert hint.startswith("Offsite: DEM002L5 (offsite-vault). The restore cannot read a tape before it is back")
    assert "press i (or Enter) for the recall step" in hint and "asks for each tape" not in hint
    tape["location"] = "drive:lto5"
    next(d for d in recorded["/drives"] if d["name"] == "lto5")["loaded"] = "DEM002L5"
    shelf(walk, recorded)
    assert walk.tape_lines()[0].startswith("✔ DEM002L5") and walk.put_in() == ()
    assert walk.tapes_next().plain == "Every tape is in its drive. Press Enter to choose where the restore goes."
    for drive in recorded["/drives"]:
        drive["generation"] = "LTO-3"  # none can read LTO-5
    tape["location"] = "shelf"
    shelf(walk, recorded)
    assert walk.tapes_next().plain == "No drive here can take these tapes: ask the operator."
    assert walk.put_in() == ()


def test_a_night_that_did_not_complete_is_said_before_the_tapes() -> None:
    recorded = answers()
    recorded["/sets"][2]["state"] = "failed"
    walk = walk_of(recorded)
    walk.choose_target(DISK)
    walk.choose_night("3")
    shelf(walk, recorded)
    assert walk.tapes_next().plain.startswith("This night's set is failed: only the members it finished can come back.")


# ---- a file tree: which files
def test_a_file_tree_asks_which_files_and_lists_one_line_per_path() -> None:
    walk = walk_of()
    walk.choose_target(TREE)
    assert walk.step == "files" and "file tree of job [b]$job[/b]" in walk.files_question().markup
    assert walk.find_path(" /mail/box1 ") == "/find?pattern=mail%2Fbox1&limit=200"
    assert walk.find_pattern("  /  ") == "" and not walk.wants_find(" / ")
    rows, more = walk.rows_of({"files": [row("mail/box1/3.eml", 4), {"path": "x", "job": "nightly-vdi"}],
                               "truncated": True})
    assert [r["path"] for r in rows] == ["mail/box1/3.eml"] and more
    walk.files_listed("box1", [row("mail/box1/3.eml", 4), row("mail/box1/3.eml", 2), row("mail/box1/4.eml", 4)],
                      True)
    assert [c.words.plain for c in walk.file_choices()] == ["mail/box1/3.eml  100 B · night of 2026-11-27",
                                                            "mail/box1/4.eml  100 B · night of 2026-11-27"]
    assert walk.files_status.text == "2+ file(s) found." and not walk.files_status.problem
    walk.files_listed("nope", [], False)
    assert walk.files_status.problem and "No file of job nightly-files holds 'nope'" in walk.files_status.text
    walk.files_unsearchable("Refused (HTTP 400): bad pattern")
    assert walk.files_status.problem and walk.files_status.text.endswith("bad pattern") and walk.step == "files"
    walk.files_cleared()
    assert walk.file_choices() == [] and walk.files_status.text == "Empty: the whole file tree is restored."


def test_a_path_that_matches_nothing_stays_on_the_files_step() -> None:
    walk = walk_of()
    walk.choose_target(TREE)
    assert not walk.accept_paths("mail/box9", [row("mail/box9.txt", 4)], False)
    assert walk.step == "files" and walk.files_status.problem
    assert "Nothing in the backups of job nightly-files is 'mail/box9'" in walk.files_status.text


def test_a_path_that_matches_marks_the_nights_that_hold_it() -> None:
    walk = walk_of()
    walk.choose_target(TREE)
    assert walk.accept_paths("/mail/box1", [row("mail/box1/3.eml", 4), row("mail/box1/4.eml", 4)], False)
    assert (walk.step, walk.history) == ("night", ["what", "files"])
    assert walk.what() == "mail/box1 (job nightly-files)" and walk.paths == ["mail/box1"]
    four, two = walk.night_choices()
    assert (four.id, four.disabled) == ("4", False) and four.words.plain.endswith("· 2 file(s) match")
    assert (two.id, two.disabled) == ("2", True) and two.words.plain.endswith("· no file matches")
    walk.choose_night("4")
    shelf(walk)
    walk.to_target()
    assert walk.target_typed == "/home/op/restore-nightly-files-run4" and not walk.disk
    assert "only mail/box1" in walk.target_about()
    assert walk.request("/srv/x", force=True) == {"set": 4, "members": ["mail/box1"], "force": True, "to": "/srv/x"}
    assert walk.hint().endswith("--to /home/op/restore-nightly-files-run4 --member mail/box1 --wait")


def test_a_cut_search_cannot_say_a_night_holds_nothing() -> None:
    walk = walk_of()
    walk.choose_target(TREE)
    walk.accept_paths("mail", [row("mail/box1/3.eml", 4)], True)
    four, two = walk.night_choices()
    assert four.words.plain.endswith("· 1+ file(s) match") and not two.disabled


def test_a_file_picked_from_the_list_is_exactly_that_file() -> None:
    walk = walk_of()
    walk.choose_target(TREE)
    walk.files_listed("box", [row("mail/box[1]/3.eml", 4), row("mail/box[1]/3.eml", 2)], False)
    walk.pick_file(0)
    assert walk.step == "night" and walk.paths == ["mail/box[[]1]/3.eml"] and walk.path_text == "mail/box[1]/3.eml"
    # the list holds the newest copy of each path only, so the older night is not offered for it (as before)
    assert [c.disabled for c in walk.night_choices()] == [False, True]


def test_the_whole_tree_needs_no_search_and_every_night_holds_it() -> None:
    walk = walk_of()
    walk.choose_target(TREE)
    assert walk.accept_paths("  ")
    assert walk.paths == [] and walk.what() == "the whole file tree of job nightly-files"
    assert [c.id for c in walk.night_choices()] == ["4", "2"]
    walk.choose_night("2")
    shelf(walk)
    walk.to_target()
    assert "every file" in walk.target_about() and walk.request("/srv/x")["members"] == []
    # choosing a target again forgets the paths of the one before
    walk.again()
    walk.choose_target(TREE)
    assert (walk.paths, walk.found, walk.found_all, walk.files_status.text) == ([], [], True, "")


def test_a_refusal_reads_as_words_without_an_http_status() -> None:
    from console.client.daemon_client import DaemonError
    from widgets.restore_run import refusal

    assert refusal(DaemonError(409, "tape DEM001L5 is offsite")) == "Refused: tape DEM001L5 is offsite"
    assert "HTTP" not in refusal(DaemonError(500, "the drive failed")) + refusal(DaemonError(404, "no run 3"))
