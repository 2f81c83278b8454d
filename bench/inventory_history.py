"""Years of history in an inventory, built quickly for the benchmarks: N nights of one run and one set of M
members each, rotating over 60 tapes of pool vdi-daily."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from console.engine.inventory import Inventory

TAPES = 60
FIRST_NIGHT = datetime(2024, 12, 1, 22, 0, tzinfo=UTC)


def barcode(night: int) -> str:
    return f"T{night % TAPES:05d}L5"


def history(path: Path, nights: int, members: int, *, compact_bytes: int | None = None) -> Inventory:
    """An inventory at `path` holding the history (written as a few large journal lines, then compacted)."""
    inventory = Inventory(path) if compact_bytes is None else Inventory(path, compact_bytes=compact_bytes)
    for i in range(TAPES):
        inventory.register_cartridge(barcode(i), "LTO-5", 1_500 * 10**9, "shelf")
        inventory.update_tape(barcode(i), label=barcode(i), pool="vdi-daily", status="full",
                              last_written=(FIRST_NIGHT + timedelta(days=nights - TAPES + i)).isoformat())
    store = inventory._store  # one change a batch of nights, as months of nights would leave the file
    batch = []
    for n in range(1, nights + 1):
        started = FIRST_NIGHT + timedelta(days=n - 1)
        batch.append(("runs", n, {"id": n, "job": "nightly-vdi", "state": "done", "tapes": [barcode(n)],
                                  "error": None, "sets": [n], "started": started.isoformat(),
                                  "ended": (started + timedelta(hours=3)).isoformat(), "bytes": 2 * 10**11}))
        batch.append(("sets", n, {
            "id": n, "job": "nightly-vdi", "run": n, "barcode": barcode(n), "tape": barcode(n), "file": 1 + n // TAPES,
            "pool": "vdi-daily", "started": started.isoformat(), "ended": (started + timedelta(hours=3)).isoformat(),
            "bytes": 2 * 10**11, "member_count": members, "state": "complete", "continues": None, "error": None,
            "members": [{"name": f"vms/vm{j}/disk{j}.vhd", "size": 10**10, "sha256": "a" * 64, "offset": j * 10**10,
                         "header_offset": 0, "part": 1, "source": "xo"} for j in range(members)]}))
        if len(batch) >= 200:
            store.write(batch)
            batch = []
    store.write(batch)
    store.compact()
    return inventory
