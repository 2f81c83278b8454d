"""How the inventory's cost grows with history: query and write times for N nights of sets.

    .venv/bin/python bench/inventory_size.py [--nights 730] [--members 20]

Builds a throwaway inventory of N nights (one run and one set of M members a night, 60 tapes), opens it
again (the daemon's start: the file parsed once, the journal replayed), then times the queries the
console's polling makes (tapes, runs, sets of one tape, pools) from the copy in memory, and the changes of a
set closed and a state value (each one journal append and fsync).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from inventory_history import barcode, history  # noqa: E402

from console.engine.inventory import Inventory  # noqa: E402


def times_ms(call: Callable[[], Any], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=730)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "inventory.json"
        history(path, args.nights, args.members).close()
        started = time.perf_counter()
        inventory = Inventory(path)
        print(f"{args.nights} nights x {args.members} members: inventory.json {path.stat().st_size / 1e6:.1f} MB, "
              f"opened in {(time.perf_counter() - started) * 1000:.0f} ms")
        set_id = inventory.add_set({"barcode": barcode(1), "state": "writing", "members": []})
        members = inventory.get_set(1)["members"]
        for name, call in (("tapes()", inventory.tapes), ("runs(50)", lambda: inventory.runs(50)),
                           ("sets(tape)", lambda: inventory.sets(tape=barcode(5))), ("pools()", inventory.pools),
                           ("set closed", lambda: inventory.update_set(set_id, state="complete", members=members)),
                           ("state write", lambda: inventory.set_state("bench", time.time()))):
            ms = sorted(times_ms(call, args.repeat))
            print(f"  {name:12} p50 {statistics.median(ms):6.2f} ms   max {ms[-1]:6.2f} ms")
        inventory.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
