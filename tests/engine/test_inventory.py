"""The inventory: records, retention, and crash-safe writes that survive kill -9."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from console.config.schema import PoolConfig
from console.engine.inventory import AtomicJSONStorage, Inventory
from console.engine.inventory.storage import CorruptInventory
from console.engine.inventory.store import FORMAT_VERSION, read_tables

POOLS = [
    PoolConfig("vdi-daily", "LTO-5", 14, "new-each-run", "vault"),
    PoolConfig("monthly", "LTO-5", None, "append", "vault"),
]


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 1, 22, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_tape_records_and_retention(tmp_path: Path) -> None:
    clock = Clock()
    inv = Inventory(tmp_path / "inv.json", clock=clock)
    inv.sync_pools(POOLS)
    tape = inv.register_cartridge("DEM001L5", "LTO-5", 4 << 30, "shelf")
    assert tape["status"] == "blank" and tape["label"] is None and tape["expires"] is None
    inv.update_tape("DEM001L5", label="DEM001L5", pool="vdi-daily", status="writable",
                    last_written=clock.now.isoformat())
    tape = inv.tape("DEM001L5")
    assert tape is not None and tape["expires"] == "2026-11-15"
    protected, why = inv.is_protected(tape)
    assert protected and "2026-11-15" in why and "DEM001L5" in why
    clock.now += timedelta(days=14)
    assert inv.is_protected(inv.tape("DEM001L5"))[0] is False
    inv.update_tape("DEM001L5", pool="monthly")
    protected, why = inv.is_protected(inv.tape("DEM001L5"))
    assert protected and "keeps forever" in why
    inv.move_tape("DEM001L5", "drive:lto5")
    inv.register_cartridge("DEM002L5", "LTO-5", 4 << 30, "shelf")
    inv.move_tape("DEM002L5", "drive:lto5")
    assert inv.tape("DEM001L5")["location"] == "shelf"
    entry = inv.audit("label", "alice", barcode="DEM001L5")
    assert entry["time"].startswith("2026-11-15") and inv.audit_entries()[-1]["user"] == "alice"
    inv.close()
    again = Inventory(tmp_path / "inv.json", clock=clock)
    assert [t["barcode"] for t in again.tapes()] == ["DEM001L5", "DEM002L5"]
    assert {p["name"] for p in again.pools()} == {"vdi-daily", "monthly"}


def test_pools_follow_the_config(tmp_path: Path) -> None:
    inv = Inventory(tmp_path / "inv.json")
    inv.sync_pools(POOLS)
    inv.sync_pools(POOLS[:1])
    assert [p["name"] for p in inv.pools()] == ["vdi-daily"]


WRITER = r"""
import sys
from console.engine.inventory import Inventory
inv = Inventory(sys.argv[1], compact_bytes=int(sys.argv[2]))
i = 0
print("ready", flush=True)
while True:
    inv.register_cartridge(f"K{i:05d}L5", "LTO-5", 1 << 30, "shelf")
    inv.audit("label", "writer", n=i, padding="x" * 2000)
    set_id = inv.add_set({"barcode": f"K{i:05d}L5", "state": "writing", "members": []})
    members = [{"name": f"vm{j}.vhd", "size": j, "sha256": "a" * 64} for j in range(20)]
    inv.update_set(set_id, state="complete", members=members)
    print(set_id, flush=True)  # acknowledged: this set must survive whatever comes next
    i += 1
"""


def test_kill_9_during_writes_loses_no_completed_set(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    pace = random.Random(16)
    for attempt in range(8):
        path = tmp_path / f"inv{attempt}.json"
        compact_bytes = 1 << 20 if attempt % 2 else 48 * 1024  # half the runs compact every few sets
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(compact_bytes)],
                                stdout=subprocess.PIPE, cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(pace.uniform(0.2, 1.2))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        completed = [int(line) for line in proc.stdout.read().split()]
        assert completed, "the writer completed no set before it was killed"
        inv = Inventory(path)
        sets = {s["id"]: s for s in inv.sets()}
        for set_id in completed:
            assert sets[set_id]["state"] == "complete" and len(sets[set_id]["members"]) == 20
        tapes = inv.tapes()
        assert len(tapes) >= len(completed)
        # every audit entry but possibly the last belongs to a registered tape: nothing half-written
        assert len(inv.audit_entries()) in (len(tapes), len(tapes) - 1)
        assert inv.verify_audit().ok
        inv.close()
        assert len(Inventory(path).sets()) == len(sets)  # and loads again after its own compaction
    leftovers = [p.name for p in tmp_path.iterdir() if not p.name.startswith("inv")]
    assert all(name.endswith(".tmp") for name in leftovers)


def test_a_change_appends_to_the_journal_and_never_rewrites_the_file(tmp_path: Path) -> None:
    inv = Inventory(tmp_path / "inv.json")
    inv.register_cartridge("DEM001L5", "LTO-5", 4 << 30, "shelf")
    before = (tmp_path / "inv.json").stat()
    journal = tmp_path / "inv.journal"
    size = journal.stat().st_size
    inv.audit("label", "alice", barcode="DEM001L5")  # stores the chain's tip
    inv.add_set({"barcode": "DEM001L5", "state": "complete", "members": [{"name": "a"}]})
    after = (tmp_path / "inv.json").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert journal.stat().st_size > size
    inv.close()  # a stopped daemon leaves one plain TinyDB file
    assert journal.stat().st_size == 0
    data = json.loads((tmp_path / "inv.json").read_text())
    assert data["format"]["1"]["version"] == FORMAT_VERSION and len(data["sets"]) == 1


def test_a_change_after_close_is_still_journalled(tmp_path: Path) -> None:
    inv = Inventory(tmp_path / "inv.json")
    inv.close()
    inv.set_state("late", 1)  # a worker thread finishing while the daemon stops
    assert Inventory(tmp_path / "inv.json").get_state("late") == 1


def test_compaction_in_the_background_keeps_every_change(tmp_path: Path) -> None:
    inv = Inventory(tmp_path / "inv.json", compact_bytes=8 * 1024)
    for n in range(200):
        inv.add_set({"barcode": f"T{n % 7}", "state": "complete", "members": [{"name": f"m{n}", "size": n}]})
        inv.set_state("last", n)
    deadline = time.monotonic() + 10
    while inv._store.compactions == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert inv._store.compactions > 0
    assert (tmp_path / "inv.journal").stat().st_size < 64 * 1024
    copy = read_tables(tmp_path / "inv.json")  # what a reload finds, the daemon still running
    assert len(copy["sets"]) == 200 and copy["state"][1]["value"] == 199
    inv.close()
    again = Inventory(tmp_path / "inv.json")
    assert [s["members"][0]["size"] for s in again.sets(barcode="T3")] == list(range(3, 200, 7))
    assert again.get_state("last") == 199


def test_a_torn_last_journal_line_is_dropped_and_a_damaged_one_named(tmp_path: Path) -> None:
    inv = Inventory(tmp_path / "inv.json")
    inv.register_cartridge("DEM001L5", "LTO-5", 4 << 30, "shelf")
    inv._store._fd = os.dup(inv._store._fd)  # keep the journal as the crash left it: no compaction at close
    journal = tmp_path / "inv.journal"
    whole = journal.read_bytes()
    journal.write_bytes(whole + b'{"n": 99, "ops": [["tapes", 2, {"barc')  # kill -9 in the middle of a write
    again = Inventory(tmp_path / "inv.json")
    assert [t["barcode"] for t in again.tapes()] == ["DEM001L5"]
    again.register_cartridge("DEM002L5", "LTO-5", 4 << 30, "shelf")
    again._store._fd = os.dup(again._store._fd)
    assert [t["barcode"] for t in Inventory(tmp_path / "inv.json").tapes()] == ["DEM001L5", "DEM002L5"]
    journal.write_bytes(b"garbage\n" + whole)
    with pytest.raises(CorruptInventory, match=r"inv.journal: line 1 is not a journal entry"):
        Inventory(tmp_path / "inv.json")


def test_a_journal_whose_inventory_was_removed_is_set_aside(tmp_path: Path) -> None:
    inv = Inventory(tmp_path / "inv.json")
    inv.register_cartridge("DEM001L5", "LTO-5", 4 << 30, "shelf")
    inv._store._fd = os.dup(inv._store._fd)  # no compaction at close
    (tmp_path / "inv.json").unlink()  # someone removed the inventory to rebuild it from tape (scan)
    fresh = Inventory(tmp_path / "inv.json")
    assert fresh.tapes() == [] and fresh.changes == 0
    [aside] = tmp_path.glob("inv.journal.without-inventory.*")
    assert b"DEM001L5" in aside.read_bytes()


def test_an_inventory_of_the_old_format_loads_and_is_migrated_once(tmp_path: Path) -> None:
    path = tmp_path / "inventory.json"
    old = {  # as tapeconsole wrote it before the journal: TinyDB tables, no format table
        "tapes": {"1": {"barcode": "DEM001L5", "label": "DEM001L5", "pool": "vdi-daily", "status": "full",
                        "location": "shelf", "last_written": "2026-10-30T22:00:00+00:00"}},
        "sets": {"1": {"id": 1, "barcode": "DEM001L5", "tape": "DEM001L5", "state": "complete",
                       "members": [{"name": "vm1.vhd", "size": 10}]}},
        "runs": {"1": {"id": 1, "job": "nightly", "state": "done"}},
        "state": {"1": {"key": "scheduler_checked", "value": "2026-10-31T00:00:00+00:00"}},
    }
    path.write_text(json.dumps(old))
    inv = Inventory(path, clock=Clock())
    assert inv.tape("DEM001L5")["status"] == "full" and inv.sets(tape="DEM001L5")[0]["members"][0]["size"] == 10
    assert inv.runs()[0]["job"] == "nightly" and inv.get_state("scheduler_checked").startswith("2026-10-31")
    data = json.loads(path.read_text())
    assert data["format"]["1"]["version"] == FORMAT_VERSION and data["sets"] == old["sets"]
    migrated = path.stat()
    assert inv.add_set({"barcode": "DEM001L5", "state": "complete", "members": []}) == 2
    inv._store._fd = os.dup(inv._store._fd)  # (no compaction at close: the second open must not rewrite)
    again = Inventory(path, clock=Clock())
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (migrated.st_ino, migrated.st_mtime_ns)
    assert [s["id"] for s in again.sets()] == [1, 2] and again._store.migrated_from is None


def test_callers_get_copies(tmp_path: Path) -> None:
    inv = Inventory(tmp_path / "inv.json")
    record = {"barcode": "DEM001L5", "state": "complete", "members": [{"name": "a", "size": 1}]}
    set_id = inv.add_set(record)
    record["members"][0]["size"] = 99
    got = inv.get_set(set_id)
    got["members"].append({"name": "b"})
    inv.sets()[0]["members"][0]["name"] = "changed"
    inv.set_state("list", [1, 2])
    inv.get_state("list").append(3)
    assert inv.get_set(set_id)["members"] == [{"name": "a", "size": 1}] and inv.get_state("list") == [1, 2]
    tape = inv.register_cartridge("DEM001L5", "LTO-5", 4 << 30, "shelf")
    tape["location"] = "nowhere"
    assert inv.tapes()[0]["location"] == "shelf"


def test_storage_write_is_atomic_replace(tmp_path: Path) -> None:
    storage = AtomicJSONStorage(tmp_path / "db.json")
    assert storage.read() is None
    storage.write({"t": {"1": {"a": 1}}})
    inode = (tmp_path / "db.json").stat().st_ino
    storage.write({"t": {"1": {"a": 2}}})
    assert (tmp_path / "db.json").stat().st_ino != inode  # replaced by rename, never rewritten in place
    assert storage.read() == {"t": {"1": {"a": 2}}}
