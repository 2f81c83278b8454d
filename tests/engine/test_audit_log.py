"""The audit log: a hash-chained JSON-Lines file beside the inventory; verify names what was changed or removed."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tinydb import TinyDB

from console.engine.inventory import AtomicJSONStorage, Inventory
from console.engine.inventory import audit_log as audit_module
from console.engine.inventory.audit_log import (
    GENESIS,
    canonical,
    inventory_beside,
    recorded_tip_in_file,
    verify_log,
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 3, 0, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def open_inventory(folder: Path) -> Inventory:
    return Inventory(folder / "inventory.json", clock=Clock())


def five(folder: Path) -> tuple[Inventory, Path]:
    inv = open_inventory(folder)
    for n, user in enumerate(["alice", "bob", "alice", "carol", "alice"], start=1):
        inv.audit("label", user, barcode=f"DEM00{n}L5", pool="vdi-daily")
    return inv, folder / "inventory.audit.log"


def lines_of(path: Path) -> list[str]:
    return path.read_text(encoding="ascii").splitlines(keepends=True)


def test_entries_are_chained_and_verify_says_intact(tmp_path: Path) -> None:
    inv, log = five(tmp_path)
    raw = [json.loads(line) for line in lines_of(log)]
    assert [e["seq"] for e in raw] == [1, 2, 3, 4, 5]
    assert raw[0]["prev"] == GENESIS
    for before, entry in zip(raw, raw[1:], strict=False):
        assert entry["prev"] == before["hash"]
    for entry, line in zip(raw, lines_of(log), strict=True):
        body = {k: v for k, v in entry.items() if k != "hash"}
        assert entry["hash"] == hashlib.sha256(canonical(body)).hexdigest()
        assert line == canonical(entry).decode() + "\n"  # canonical JSON, one entry a line
    assert raw[2]["time"] == "2026-11-20T03:00:03+00:00" and raw[2]["details"] == {
        "barcode": "DEM003L5", "pool": "vdi-daily"}
    result = inv.verify_audit()
    assert result.ok and result.entries == 5 and result.tip.hash == raw[-1]["hash"]
    assert result.summary() == f"audit log intact: 5 entries, tip {raw[-1]['hash'][:12]}"
    # callers see the same flat entries as before: time, user, action and the details beside them
    assert inv.audit_entries(2) == [
        {"seq": 4, "time": raw[3]["time"], "user": "carol", "action": "label", "barcode": "DEM004L5",
         "pool": "vdi-daily"},
        {"seq": 5, "time": raw[4]["time"], "user": "alice", "action": "label", "barcode": "DEM005L5",
         "pool": "vdi-daily"},
    ]
    assert [e["user"] for e in inv.audit_entries()] == ["alice", "bob", "alice", "carol", "alice"]
    assert inv.get_state("audit_tip") == {"seq": 5, "hash": raw[-1]["hash"]}
    inv.close()
    # reopened: the tip comes back from the last line and the chain goes on
    again = open_inventory(tmp_path)
    entry = again.audit("eject", "bob", drive="lto5")
    last = json.loads(lines_of(log)[-1])
    assert entry["seq"] == 6 and last["prev"] == raw[-1]["hash"] and again.verify_audit().ok


def test_opening_and_appending_never_read_the_log_from_its_start(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    inv, _log = five(tmp_path)
    inv.close()

    def no_scan(*args: object, **kwargs: object) -> None:
        raise AssertionError("the whole log was read")

    monkeypatch.setattr(audit_module, "forward_lines", no_scan)
    again = open_inventory(tmp_path)
    assert again.audit("load", "alice")["seq"] == 6
    assert [e["seq"] for e in again.audit_entries(3)] == [4, 5, 6]


def test_a_changed_field_names_the_entry(tmp_path: Path) -> None:
    inv, log = five(tmp_path)
    lines = lines_of(log)
    entry = json.loads(lines[2])
    entry["details"]["barcode"] = "DEM999L5"
    log.write_text("".join(lines[:2] + [json.dumps(entry) + "\n"] + lines[3:]))
    result = inv.verify_audit()
    assert not result.ok and result.problems == 1
    assert result.problem == "entry 3 (2026-11-20T03:00:03+00:00, label by alice) was changed"


def test_a_changed_entry_whose_hash_was_recomputed_is_caught_by_the_next_link(tmp_path: Path) -> None:
    inv, log = five(tmp_path)
    lines = lines_of(log)
    entry = json.loads(lines[1])
    entry["user"] = "mallory"
    entry["hash"] = hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()
    log.write_text("".join(lines[:1] + [canonical(entry).decode() + "\n"] + lines[2:]))
    assert inv.verify_audit().problem == (
        "entry 2 (2026-11-20T03:00:02+00:00, label by mallory) was changed: entry 3 does not link to it")


def test_a_removed_middle_line_is_missing(tmp_path: Path) -> None:
    inv, log = five(tmp_path)
    lines = lines_of(log)
    log.write_text("".join(lines[:2] + lines[3:]))
    result = inv.verify_audit()
    assert result.problem == "entry 3 is missing (after entry 2)" and result.entries == 4
    log.write_text("".join(lines[2:]))
    assert inv.verify_audit().problem == "entries 1 to 2 are missing (at the start of the log)"


def test_a_removed_last_line_is_caught_by_the_recorded_tip_and_stays_marked(tmp_path: Path) -> None:
    inv, log = five(tmp_path)
    lines = lines_of(log)
    log.write_text("".join(lines[:-1]))
    assert inv.verify_audit().problem == (
        "the log ends at entry 4 but the inventory recorded entry 5: entries were removed from the end")
    inv.close()
    # the daemon starts again: it goes on, but records what it found, so the removal is never forgotten
    again = open_inventory(tmp_path)
    again.audit("load", "alice")
    result = again.verify_audit()
    assert not result.ok and result.problem is not None
    assert result.problem.startswith("entries were removed from the end before 2026-11-20T")
    assert "the log ended at entry 4 but the inventory had recorded entry 5" in result.problem
    actions = [e["action"] for e in again.audit_entries()]
    assert actions[-2:] == ["audit-entries-removed", "load"]


def test_a_torn_last_line_is_reported_then_recorded_and_the_next_entry_starts_a_new_line(tmp_path: Path) -> None:
    inv, log = five(tmp_path)
    fragment = b'{"action":"eject","details":{"barcode":"DEM0'
    with open(log, "ab") as handle:
        handle.write(fragment)  # a power loss in the middle of an append
    inv.close()
    before = verify_log(log, recorded_tip_in_file(tmp_path / "inventory.json"))
    assert before.problem is not None and before.problem.startswith("line 6 is torn: the log ends in the middle")
    again = open_inventory(tmp_path)  # the daemon does not stop for it
    entry = again.audit("eject", "bob", barcode="DEM001L5")
    lines = log.read_bytes().split(b"\n")
    assert lines[5] == fragment  # never rewritten: the fragment stays, ended by a newline
    ack = json.loads(lines[6])
    assert ack["action"] == "audit-torn-append" and ack["details"]["sha256"] == hashlib.sha256(fragment).hexdigest()
    assert json.loads(lines[7])["seq"] == entry["seq"] == 7
    result = again.verify_audit()
    assert result.ok and result.entries == 7 and len(result.notes) == 1
    assert result.notes[0].startswith("line 6 is a torn append")
    # a torn line changed after the daemon recorded it is a problem again
    text = log.read_bytes().replace(fragment, fragment.replace(b"DEM0", b"XYZ9"))
    log.write_bytes(text)
    assert again.verify_audit().problem == (
        "line 6 was changed after entry 6 (2026-11-20T03:00:01+00:00, audit-torn-append by tapeconsole) "
        "recorded it as a torn append")


def test_a_failed_write_leaves_no_stuck_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inv, log = five(tmp_path)
    real_write = os.write

    def half_then_full(fd: int, data: memoryview) -> int:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(audit_module.os, "write", half_then_full)
    with pytest.raises(OSError):
        inv.audit("load", "alice", barcode="DEM002L5")
    monkeypatch.setattr(audit_module.os, "write", real_write)
    entry = inv.audit("load", "alice", barcode="DEM002L5")
    assert entry["seq"] == 7  # 6 records the torn half line
    result = inv.verify_audit()
    assert result.ok and result.entries == 7 and result.notes[0].startswith("line 6 is a torn append")


def test_the_old_audit_table_moves_into_the_log_once(tmp_path: Path) -> None:
    path = tmp_path / "inventory.json"
    old = [
        {"time": "2026-10-01T08:00:00+00:00", "user": "alice", "action": "load", "drive": "lto5",
         "barcode": "DEM001L5"},
        {"time": "2026-10-01T08:01:00+00:00", "user": "alice", "action": "label", "barcode": "DEM001L5",
         "label": "DEM001L5"},
        {"time": "2026-10-02T09:00:00+00:00", "user": "bob", "action": "eject", "drive": "lto5"},
    ]
    db = TinyDB(path, storage=AtomicJSONStorage)
    db.table("audit").insert_multiple(old)
    db.table("tapes").insert({"barcode": "DEM001L5"})
    db.close()
    inv = open_inventory(tmp_path)
    entries = inv.audit_entries()
    assert [(e["time"], e["user"], e["action"]) for e in entries] == [(o["time"], o["user"], o["action"]) for o in old]
    assert entries[0]["barcode"] == "DEM001L5" and entries[1]["label"] == "DEM001L5"
    assert json.loads(path.read_text())["audit"] == {}
    assert inv.verify_audit().ok
    inv.audit("load", "carol")
    inv.close()
    # a crash after the log was written but before the table was emptied: opening again adds no duplicate
    data = json.loads(path.read_text())
    data["audit"] = {str(n): doc for n, doc in enumerate(old, start=1)}
    path.write_text(json.dumps(data))
    again = open_inventory(tmp_path)
    assert [e["action"] for e in again.audit_entries()] == ["load", "label", "eject", "load"]
    assert json.loads(path.read_text())["audit"] == {} and again.verify_audit().ok


def test_appends_from_many_threads_keep_one_chain(tmp_path: Path) -> None:
    inv = open_inventory(tmp_path)

    def writer(name: str) -> None:
        for n in range(20):
            inv.audit("read", name, file=n)

    threads = [threading.Thread(target=writer, args=(f"user{t}",)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = inv.verify_audit()
    assert result.ok and result.entries == 120
    assert [e["seq"] for e in inv.audit_entries()] == list(range(1, 121))
    assert inv.get_state("audit_tip")["seq"] == 120


def test_a_copied_log_is_checked_against_the_inventory_beside_it(tmp_path: Path) -> None:
    inv, log = five(tmp_path)
    inv.close()
    assert inventory_beside(log) == tmp_path / "inventory.json"
    tip = recorded_tip_in_file(inventory_beside(log))
    assert tip is not None and tip.seq == 5
    assert verify_log(log, tip).ok
    log.write_text("".join(lines_of(log)[:-2]))
    assert verify_log(log, tip).problem == (
        "the log ends at entry 3 but the inventory recorded entry 5: entries were removed from the end")
    unchecked = verify_log(log, None)
    assert unchecked.ok and "cannot be checked" in unchecked.notes[0]


def test_config_changes_name_the_keys_and_never_stop_the_daemon(tmp_path: Path) -> None:
    from console.engine.daemon.config_audit import COPY_NAME, audit_config_change

    inv = open_inventory(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text('[daemon]\nlog_level = "info"\n\n[pools.a]\nretention_days = 14\n\n'
                      '[pools.b]\nretention_days = 7\n')
    first = audit_config_change(config, tmp_path, inv)
    assert first is not None and first["action"] == "config-first-seen"
    assert audit_config_change(config, tmp_path, inv) is None  # unchanged
    config.write_text('[daemon]\nlog_level = "debug"\n\n[pools.a]\nretention_days = 14\n\n[xo]\nsimulator = true\n')
    change = audit_config_change(config, tmp_path, inv)
    assert change is not None and change["action"] == "config-changed" and change["old_sha256"] == first["sha256"]
    assert (change["changed"], change["added"], change["removed"]) == (["daemon.log_level"], ["xo"], ["pools.b"])
    # the kept copy is gone: the change is still audited, saying the keys are unknown
    (tmp_path / COPY_NAME).unlink()
    config.write_text('[daemon]\nlog_level = "info"\n')
    unknown = audit_config_change(config, tmp_path, inv)
    assert unknown is not None and unknown["keys"].startswith("unknown: no copy of the previous config")
    config.unlink()
    assert audit_config_change(config, tmp_path, inv) is None  # logged, not raised
    assert [e["action"] for e in inv.audit_entries()] == ["config-first-seen", "config-changed", "config-changed"]
    assert inv.verify_audit().ok
