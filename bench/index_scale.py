"""The file index at a real site's size: a mail store and shares of N files backed up nightly for M nights.

    .venv/bin/python bench/index_scale.py [--files 1000000] [--nights 90] [--folder DIR]

Night 1 and the last night go through the real IndexWriter (timed: "add a night"); the nights between are
generated inside SQLite from night 1 (sizes and offsets shifted, as new mail moves every later file), which
is what makes 90 nights buildable in minutes. The last night deletes 0.5% of the files and adds 1% new
ones. Then the trigrams are built (as the daemon does in the background after a night) and globs are timed
in the latest night and across all nights, `limit` 201 as `tapeconsole find` asks (its 200 rows + 1).
Prints the figures and a last line `index: add_night_s=N find_latest_ms=N find_all_ms=N`.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from console.engine.inventory.file_index import FileIndex  # noqa: E402

WORDS = ["invoice", "report", "budget", "minutes", "offer", "photo", "scan", "letter", "contract", "plan"]
PATTERNS = ["*budget 12*.pdf", "*2024/invoice*", "mail/user0042/Maildir/cur/*", "*.M123456P*", "*zzz*"]


def tree(files: int, seed: int, start: int = 0) -> Iterator[tuple[str, int]]:
    """(path, size) of a site's tree in walk order: 90% mail in Maildirs, 10% office documents in shares."""
    rng = random.Random(seed)
    users = max(files // 1000, 1)
    for i in range(start, start + files):
        if i % 10:
            user = (i // 10) % users
            folder = ("cur", "new", ".Sent/cur", ".Archive/cur")[i % 4]
            yield (f"mail/user{user:04d}/Maildir/{folder}/{1_600_000_000 + i}.M{i}P{i % 7919}.mail,S={i % 90000}:2,S",
                   2_000 + rng.randrange(80_000))
        else:
            year = 2015 + i % 11
            yield (f"share/dept{i % 40:02d}/{year}/{rng.choice(WORDS)} {i % 997} {rng.choice(WORDS)}.pdf",
                   20_000 + rng.randrange(4_000_000))


def add_night(index: FileIndex, key: str, files: list[tuple[str, int]]) -> float:
    started = time.perf_counter()
    offset = 0
    with index.writer(key, build_trigrams=False) as writer:
        for path, size in files:
            writer.add(path, size, 1.7e9 + (size % 86400), offset, offset + 1536)
            offset += 1536 + (size + 511) // 512 * 512
    return time.perf_counter() - started


def generate_nights(index: FileIndex, first: int, nights: range) -> None:
    """Nights copied from night `first` inside SQLite: each file a little larger, later offsets shifted."""
    db = index._db
    for night in nights:
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO sets(set_id, created, complete) VALUES (?, ?, 1)", (f"run{night}", 1.7e9 + night))
        key = db.execute("SELECT key FROM sets WHERE set_id = ?", (f"run{night}",)).fetchone()[0]
        shift = night * 4096
        db.execute(
            "INSERT INTO entries SELECT ?, path_id, size + ?, mtime, offset + ? * (path_id % 1000), "
            "data_offset + ? * (path_id % 1000) FROM entries WHERE set_key = ?",
            (key, night, shift // 1000, shift // 1000, first))
        db.execute("UPDATE sets SET files = (SELECT files FROM sets WHERE key = ?) WHERE key = ?", (first, key))
        db.execute("COMMIT")


def timed(call, repeat: int = 5) -> float:  # noqa: ANN001 - a zero-argument callable
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def size_on_disk(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def run(folder: Path, files: int, nights: int) -> dict[str, float]:
    db_path = folder / "index.db"
    index = FileIndex(db_path)
    first = list(tree(files, seed=1))
    first_s = add_night(index, "run1", first)
    print(f"night 1: {files} files through the IndexWriter in {first_s:.1f} s", flush=True)
    started = time.perf_counter()
    generate_nights(index, 1, range(2, nights))
    print(f"nights 2-{nights - 1} generated in SQLite in {time.perf_counter() - started:.0f} s", flush=True)
    gone = set(range(0, files, 200))  # 0.5% deleted, 1% new
    last = [f for n, f in enumerate(first) if n not in gone] + list(tree(files // 100, seed=2, start=files))
    add_s = add_night(index, f"run{nights}", last)
    print(f"night {nights}: {len(last)} files through the IndexWriter in {add_s:.1f} s", flush=True)
    started = time.perf_counter()
    index.update_trigrams()
    print(f"trigrams of {index._db.execute('SELECT count(*) FROM paths').fetchone()[0]} paths built in "
          f"{time.perf_counter() - started:.0f} s (in the background, after a night)", flush=True)
    index._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = size_on_disk(db_path)
    rows = index.count()
    print(f"index: {rows / 1e6:.0f} M rows, {size / 1e9:.2f} GB on disk ({size / rows:.0f} bytes a row)")
    latest, everywhere = [], []
    for pattern in PATTERNS:
        in_latest = timed(lambda p=pattern: index.search(p, set_id=f"run{nights}", limit=201))
        in_all = timed(lambda p=pattern: index.search(p, limit=201))
        hits = len(index.search(pattern, limit=201))
        print(f"  find {pattern!r:34} latest night {in_latest:7.1f} ms   all nights {in_all:7.1f} ms   "
              f"({hits} rows)")
        latest.append(in_latest)
        everywhere.append(in_all)
    started = time.perf_counter()
    dropped = index.delete_set("run1")
    print(f"dropping the oldest night ({dropped} rows, its tape overwritten): {time.perf_counter() - started:.1f} s")
    index.close()
    return {"add_night_s": add_s, "find_latest_ms": max(latest), "find_all_ms": max(everywhere)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--nights", type=int, default=90)
    parser.add_argument("--folder", type=Path, help="where the index is built (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.folder) as folder:
        result = run(Path(folder), args.files, args.nights)
    print(f"index: add_night_s={result['add_night_s']:.1f} find_latest_ms={result['find_latest_ms']:.0f} "
          f"find_all_ms={result['find_all_ms']:.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
