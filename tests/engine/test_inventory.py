"""The inventory: records, retention, and crash-safe writes that survive kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.config.schema import PoolConfig
from console.engine.inventory import AtomicJSONStorage, Inventory

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
inv = Inventory(sys.argv[1])
i = 0
print("ready", flush=True)
while True:
    inv.register_cartridge(f"K{i:05d}L5", "LTO-5", 1 << 30, "shelf")
    inv.audit("label", "writer", n=i, padding="x" * 2000)
    i += 1
"""


def test_kill_9_during_writes_leaves_a_loadable_inventory(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    for attempt in range(3):
        path = tmp_path / f"inv{attempt}.json"
        proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE,
                                cwd=root, env={**os.environ, "PYTHONPATH": str(root)})
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(0.3 + 0.2 * attempt)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        data = json.loads(path.read_text())  # a torn file would fail here
        inv = Inventory(path)
        tapes = inv.tapes()
        assert len(tapes) > 0
        assert len(data["tapes"]) == len(tapes)
        # every audit entry but possibly the last belongs to a registered tape: nothing half-written
        assert len(inv.audit_entries()) in (len(tapes), len(tapes) - 1)
        inv.close()
    leftovers = [p.name for p in tmp_path.iterdir() if not p.name.startswith("inv")]
    assert all(name.endswith(".tmp") for name in leftovers)


def test_storage_write_is_atomic_replace(tmp_path: Path) -> None:
    storage = AtomicJSONStorage(tmp_path / "db.json")
    assert storage.read() is None
    storage.write({"t": {"1": {"a": 1}}})
    inode = (tmp_path / "db.json").stat().st_ino
    storage.write({"t": {"1": {"a": 2}}})
    assert (tmp_path / "db.json").stat().st_ino != inode  # replaced by rename, never rewritten in place
    assert storage.read() == {"t": {"1": {"a": 2}}}
