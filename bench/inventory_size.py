"""How the inventory's cost grows with history: query and write times for N nights of sets.

    .venv/bin/python bench/inventory_size.py [--nights 730] [--members 20]

Builds a throwaway inventory of N nights (one run and one set of M members a night, 60 tapes) in one write,
then times the reads the console's polling makes (tapes, runs, sets, pools) and one write (a state change).
TinyDB parses the whole file for every query and rewrites it for every change.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from console.engine.inventory import Inventory  # noqa: E402


def build(path: Path, nights: int, members: int) -> Inventory:
    inventory = Inventory(path)
    for i in range(60):
        inventory.register_cartridge(f"T{i:05d}L5", "LTO-5", 1 << 40, "shelf")
    db = inventory._db  # one write for the whole history, as months of nights would leave it
    db.table("runs").insert_multiple(
        {"id": n + 1, "job": "nightly-vdi", "state": "done", "tapes": ["x"], "error": None, "sets": [n + 1]}
        for n in range(nights))
    db.table("sets").insert_multiple(
        {"id": n + 1, "job": "nightly-vdi", "run": n + 1, "barcode": f"T{n % 60:05d}L5", "state": "complete",
         "members": [{"name": f"vms/vm{j}/disk{j}.vhd", "size": 10**10, "sha256": "a" * 64, "offset": j * 10**10,
                      "header_offset": 0, "part": 1, "source": "xo"} for j in range(members)]}
        for n in range(nights))
    return inventory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=730)
    parser.add_argument("--members", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "inventory.json"
        inventory = build(path, args.nights, args.members)
        print(f"{args.nights} nights x {args.members} members: inventory.json {path.stat().st_size / 1e6:.1f} MB")
        for name, query in (("tapes()", inventory.tapes), ("runs()", inventory.runs), ("sets()", inventory.sets),
                            ("pools()", inventory.pools),
                            ("one write", lambda: inventory.set_state("bench", time.time()))):
            started = time.perf_counter()
            query()
            print(f"  {name:10} {(time.perf_counter() - started) * 1000:6.1f} ms")
        inventory.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
