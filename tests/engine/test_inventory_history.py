"""Two years of history (730 nights x 20 members): queries answer from memory, a change is one append."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from console.engine.inventory import Inventory


def two_years(path: Path) -> Inventory:
    inv = Inventory(path)
    for n in range(60):
        inv.register_cartridge(f"T{n:05d}L5", "LTO-5", 10**12, "shelf")
    members = [{"name": f"vms/vm{j}/disk{j}.vhd", "size": 10**10, "sha256": "a" * 64} for j in range(20)]
    for night in range(730):
        run = inv.add_run({"job": "nightly-vdi", "state": "done", "sets": []})
        inv.add_set({"barcode": f"T{night % 60:05d}L5", "tape": f"T{night % 60:05d}L5", "run": run,
                     "state": "complete", "members": members})
    return inv


@pytest.mark.slow
def test_two_years_of_history_answer_from_memory_and_a_change_is_one_append(tmp_path: Path) -> None:
    two_years(tmp_path / "inventory.json").close()
    started = time.perf_counter()
    inv = Inventory(tmp_path / "inventory.json")
    assert time.perf_counter() - started < 5
    before = (tmp_path / "inventory.json").stat().st_mtime_ns
    for query in (inv.tapes, lambda: inv.runs(50), lambda: inv.sets(tape="T00005L5")):
        started = time.perf_counter()
        for _ in range(10):
            query()
        assert (time.perf_counter() - started) / 10 < 0.05  # milliseconds in practice; generous on a busy CI box
    assert len(inv.sets(tape="T00005L5")) == 13 and len(inv.runs()) == 730
    set_id = inv.add_set({"barcode": "T00001L5", "state": "writing", "members": []})
    inv.update_set(set_id, state="complete")
    inv.audit("label", "alice", barcode="T00001L5")
    assert (tmp_path / "inventory.json").stat().st_mtime_ns == before  # nothing rewrote years of history
    assert (tmp_path / "inventory.journal").stat().st_size < 10_000
