"""Three ways to make one inventory change durable at N nights of history, timed on this machine's disk.

    .venv/bin/python bench/inventory_designs.py [--nights 730] [--members 20] [--repeat 20]

- whole file: today's TinyDB way before the journal: the whole document serialised and written (temp file,
  fsync, rename, fsync of the folder) for every change;
- month shard: history split by month, so a change rewrites the current month's file the same way (and the
  small current-state file when a tape changes);
- journal (chosen): one JSON line appended and fdatasync'ed; the whole file rewritten by a compaction in the
  background once per COMPACT_BYTES of journal (bench/inventory_size.py times the rest).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from inventory_history import history  # noqa: E402

from console.engine.inventory.storage import AtomicJSONStorage  # noqa: E402
from console.engine.inventory.store import COMPACT_BYTES  # noqa: E402


def median_ms(call, repeat: int) -> tuple[float, float]:  # noqa: ANN001 - a zero-argument callable
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=730)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        inventory = history(folder / "inventory.json", args.nights, args.members)
        tables = {t: {str(k): v for k, v in docs.items()} for t, docs in inventory._store.tables.items()}
        month = {t: dict(list(docs.items())[-31:]) if t in ("sets", "runs") else {} for t, docs in tables.items()}
        size = len(json.dumps(tables))
        whole = AtomicJSONStorage(folder / "whole.json")
        shard = AtomicJSONStorage(folder / "2026-12.json")
        print(f"{args.nights} nights x {args.members} members ({size / 1e6:.1f} MB of JSON), one change:")
        for label, call in (("whole file", lambda: whole.write(tables)),
                            ("month shard", lambda: shard.write(month)),
                            ("journal", lambda: inventory.set_state("bench", time.time()))):
            p50, worst = median_ms(call, args.repeat)
            print(f"  {label:12} p50 {p50:6.1f} ms   max {worst:6.1f} ms")
        p50, _ = median_ms(inventory._store.compact, 3)
        print(f"  journal compaction (in the background, once per {COMPACT_BYTES >> 20} MiB of changes): {p50:.0f} ms")
        inventory.close()
        os.sync()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
