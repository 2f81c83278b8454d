"""Years of history: the inventory through the daemon's socket and the file index at a real site's size.

    .venv/bin/python bench/history_scale.py [--nights 730] [--members 20] [--files 1000000] [--index-nights 90]

Runs bench/inventory_api.py (2 years x 20 members: GET /v1/tapes, /v1/jobs, /v1/sets?tape= p50/p99 through
the real socket, one write, the daemon's CPU while a console polls) and bench/index_scale.py (1,000,000 files x
90 nights: size on disk, adding a night, globs in the latest night and across all nights), about 6 minutes on
a 2-core machine, and ends with one line a script can read:

    inventory: query_p99_ms=N write_ms=N daemon_cpu_pct=N; index: add_night_s=N find_latest_ms=N find_all_ms=N

Targets: query p99 < 20 ms, write < 20 ms, daemon CPU < 1% of a core; add a night < 60 s, find < 200 ms in the
latest night, < 2 s across all nights.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import index_scale  # noqa: E402
import inventory_api  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=730)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0, help="each daemon CPU window")
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--index-nights", type=int, default=90)
    parser.add_argument("--folder", type=Path, help="where the index is built (default: a temporary folder)")
    args = parser.parse_args()
    started = time.monotonic()
    inventory = inventory_api.run(args.nights, args.members, args.requests, args.seconds)
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        index = index_scale.run(Path(folder), args.files, args.index_nights)
    print(f"({time.monotonic() - started:.0f} s)")
    print(f"inventory: query_p99_ms={inventory['query_p99_ms']:.1f} write_ms={inventory['write_ms']:.1f} "
          f"daemon_cpu_pct={inventory['daemon_cpu_pct']:.2f}; index: add_night_s={index['add_night_s']:.1f} "
          f"find_latest_ms={index['find_latest_ms']:.0f} find_all_ms={index['find_all_ms']:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
