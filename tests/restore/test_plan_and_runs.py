"""The plan (tapes in order, where each is, what to do, how long), and the life of a restore run."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from console.engine.refusals import NotFound, Refused
from console.engine.restore.plan import RestoreRequest


def test_an_offsite_tape_must_be_recalled_before_the_restore_starts(restore_site, tmp_path: Path) -> None:
    rs = restore_site(eject=True, scale=0.05)
    [record] = rs.sets_of(rs.backup("nightly-vdi"))
    rs.service.move_tape(record["barcode"], "offsite", "tester")
    request = RestoreRequest(record["id"], to_folder=str(tmp_path / "out"))
    plan = rs.manager.plan(request)
    [tape] = plan["tapes"]
    assert tape["where"] == "offsite (vault)" and tape["sets"][0]["file"] == record["file"]
    recall = f"tape {record['barcode']} is offsite (vault): recall it from vault, put it on the shelf and record " \
             f"it: tapeconsole onsite {record['barcode']}"
    assert plan["problems"] == [recall]
    with pytest.raises(Refused) as refused:
        rs.manager.start_restore(request, "tester")
    assert str(refused.value) == recall and not (tmp_path / "out").exists()
    rs.service.move_tape(record["barcode"], "shelf", "tester")
    plan = rs.manager.plan(request)
    assert plan["problems"] == [] and plan["tapes"][0]["todo"] == "loaded into drive lto5 from the shelf"
    final = rs.restore(record["id"], to=str(tmp_path / "out"))
    assert final["ok"] and rs.service.inventory.tape(record["barcode"])["location"] == "drive:lto5"


def test_the_estimate_follows_the_drive_rate_and_the_bytes_to_read(restore_site, tmp_path: Path) -> None:
    rs = restore_site(rate=50, scale=0.05)
    [record] = rs.sets_of(rs.backup("nightly-vdi"))
    whole = rs.manager.plan(RestoreRequest(record["id"], to_folder=str(tmp_path / "a")))
    one = rs.manager.plan(RestoreRequest(record["id"], to_folder=str(tmp_path / "a"), members=("*.vhd",)))
    read = whole["tapes"][0]["sets"][0]["bytes_to_read"]
    assert whole["estimated_seconds"] == pytest.approx(read / 50e6, abs=0.1) and whole["estimated_seconds"] > 0
    assert one["bytes"] < whole["bytes"] and {m["name"] for m in one["members"]} < {m["name"] for m in
                                                                                   whole["members"]}
    with pytest.raises(NotFound, match="has no member matching nothing-like-this"):
        rs.manager.plan(RestoreRequest(record["id"], to_folder=str(tmp_path), members=("nothing-like-this",)))
    with pytest.raises(NotFound, match="no drive named 'lto9'"):
        rs.manager.plan(RestoreRequest(record["id"], to_folder=str(tmp_path), drive="lto9"))
    with pytest.raises(Refused, match="drive lto4 \\(LTO-4\\) cannot read LTO-5 media"):
        rs.manager.plan(RestoreRequest(record["id"], to_folder=str(tmp_path), drive="lto4"))


def test_a_running_restore_shows_progress_holds_the_drive_and_can_be_cancelled(restore_site, tmp_path: Path) -> None:
    rs = restore_site(rate=20, scale=0.1)
    [record] = rs.sets_of(rs.backup("nightly-vdi"))
    out = tmp_path / "slow"
    started = rs.manager.start_restore(RestoreRequest(record["id"], to_folder=str(out)), "tester")
    deadline = time.monotonic() + 30
    while (snap := rs.manager.get(started["id"]))["bytes"] < 4 << 20:
        assert time.monotonic() < deadline, snap
        time.sleep(0.05)
    assert snap["state"] == "running" and snap["rate"] > 0 and snap["eta_seconds"] is not None
    assert snap["tape"] == record["tape"] and snap["member"] and snap["expected_bytes"] > snap["bytes"]
    assert rs.service.slots["lto5"].state() == "restoring"
    with pytest.raises(Refused, match="drive lto5 is busy: restoring set"):
        rs.manager.start_restore(RestoreRequest(record["id"], to_folder=str(tmp_path / "other")), "tester")
    rs.manager.cancel(started["id"], "tester")
    final = rs.finish(started)
    assert final["state"] == "cancelled" and not final["ok"] and final["error"] == "cancelled by the operator"
    assert not list(out.rglob(".*restoring"))  # the member being read is not left half-written
    assert any(not r["ok"] and "not finished" in r["problem"] for r in final["results"])
    assert rs.service.slots["lto5"].state() == "idle"
    assert [e["action"] for e in rs.service.inventory.audit_entries()][-3:] == ["restore", "cancel", "restore-end"]


def test_scan_refuses_a_drive_without_a_tape_and_a_blank_tape(restore_site) -> None:
    rs = restore_site()
    with pytest.raises(Refused, match="drive lto5 holds no tape: load the tape to scan first"):
        rs.manager.start_scan("lto5", "tester")
    rs.service.load("lto5", "TST004L5", "tester")
    final = rs.scan("lto5")
    assert final["state"] == "failed" and final["error"] == "the tape is blank: nothing to scan"


def test_run_history_survives_a_restart_and_a_cut_run_is_shown_interrupted(restore_site, tmp_path: Path) -> None:
    """Restore and verify runs are recorded in the inventory: a daemon that starts again lists the earlier ones,
    numbers new runs after them, and shows a run it was cut off from as interrupted (audited), never running."""
    from tests.restore.conftest import make_tree, manager_for

    rs = restore_site(autoload=False, eject=True)
    make_tree(rs.folder / "data")
    [record] = rs.sets_of(rs.backup("nightly-files"))
    tape = rs.service.inventory.tape(record["barcode"])
    rs.service.slots["lto4"].drive.load(record["barcode"])
    verified = rs.verify(tape["label"])
    assert verified["state"] == "done" and verified["ok"]
    rs.service.slots["lto4"].drive.eject()
    cut = rs.manager.start_restore(RestoreRequest(record["id"], to_folder=str(tmp_path / "out")), "tester")
    deadline = time.monotonic() + 30
    while rs.manager.get(cut["id"])["state"] != "waiting":  # for the tape nobody inserts
        assert time.monotonic() < deadline
        time.sleep(0.02)

    restarted = manager_for(rs.site, autoload=False)  # the daemon again, on the same inventory
    try:
        earlier = {r["id"]: r for r in restarted.list()}
        assert earlier[verified["id"]]["state"] == "done" and earlier[verified["id"]]["ok"]
        assert earlier[verified["id"]]["results"] == verified["results"]
        again = restarted.get(cut["id"])
        assert again["state"] == "interrupted" and not again["ok"]
        assert "the daemon stopped while this restore was waiting" in again["error"]
        assert again["plan"]["tapes"][0]["barcode"] == record["barcode"]
        assert not restarted.held_tapes(), "an interrupted restore holds no tape"
        audit = rs.service.inventory.audit_entries()
        assert any(e["action"] == "restore-interrupted" and e["run"] == cut["id"] for e in audit)
        rs.manager.cancel(cut["id"], "tester")  # the old daemon's thread: gone in a real restart
        rs.manager.wait(cut["id"], 30)
        rs.service.slots["lto4"].drive.load(record["barcode"])
        second = restarted.start_verify(tape["label"], None, "tester")
        assert second["id"] == cut["id"] + 1, "numbers go on after the runs recorded"
        restarted.wait(second["id"], 60)
        assert restarted.get(second["id"])["ok"]
        with pytest.raises(NotFound):
            restarted.get(second["id"] + 1)
    finally:
        if rs.manager.get(cut["id"])["state"] not in ("done", "failed", "cancelled"):
            rs.manager.cancel(cut["id"], "tester")
            rs.manager.wait(cut["id"], 30)
        restarted.close()
        if rs.service.slots["lto4"].drive.status().online:
            rs.service.slots["lto4"].drive.eject()
