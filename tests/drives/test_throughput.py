"""How fast an unlimited-speed virtual drive moves 256 KiB blocks (run with: pytest -m slow -s)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from console.engine.drives.shelf import Shelf
from console.engine.drives.virtual import VirtualDrive

BLOCK = 256 * 1024
TOTAL = 2 * 1024**3


@pytest.mark.slow
def test_writing_and_reading_256k_blocks_is_fast(tmp_path: Path) -> None:
    shelf = Shelf(tmp_path)
    shelf.ensure("FST001L5", 2 * TOTAL)
    drive = VirtualDrive("fast", "LTO-5", shelf)
    drive.load("FST001L5")
    drive.set_block_size(BLOCK)
    data = os.urandom(BLOCK)
    started = time.perf_counter()
    for _ in range(TOTAL // BLOCK):
        drive.write_block(data)
    written = time.perf_counter()
    drive.write_filemarks(1)  # fsyncs the whole image
    synced = time.perf_counter()
    drive.rewind()
    read_started = time.perf_counter()
    received = 0
    while chunk := drive.read_block(BLOCK):
        received += len(chunk)
    read_done = time.perf_counter()
    drive.close()

    write_rate = TOTAL / (written - started) / 1e6
    overall_rate = TOTAL / (synced - started) / 1e6
    read_rate = received / (read_done - read_started) / 1e6
    print(
        f"\n{TOTAL // 1024**2} MiB in 256 KiB blocks: write {write_rate:.0f} MB/s, "
        f"with the filemark's fsync {overall_rate:.0f} MB/s, read {read_rate:.0f} MB/s"
    )
    assert received == TOTAL
    assert write_rate > 500
