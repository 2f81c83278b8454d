"""A small site for the planner: one LTO-5 drive, a pool, jobs of every source; tapes registered by hand
with capacities the tests choose, and a clock the tests set."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from console.config.loading import load_config
from console.config.schema import Config, JobConfig
from console.engine.inventory import Inventory

MB = 10**6
SITE = """
[daemon]
state_dir = "var"

[shelf]
cartridges = ["TST001L5"]

[shelf.capacity_gib]
"LTO-5" = 1

[drives.lto5]
kind = "virtual"
generation = "LTO-5"

[pools.vdi-daily]
generation = "LTO-5"
retention_days = 14
allocation = "{allocation}"

[jobs.nightly-files]
source = "files"
drive = "lto5"
pool = "vdi-daily"
paths = ["data"]
schedule = "30 22 * * *"
"""


class Clock:
    """Local wall-clock time the tests set, for the planner (seconds) and the inventory (datetime)."""

    def __init__(self, text: str) -> None:
        self.set(text)

    def set(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).astimezone()

    def __call__(self) -> float:
        return self.now.timestamp()

    def moment(self) -> datetime:
        return self.now.astimezone(UTC)


def make_config(folder: Path, *, allocation: str = "new-each-run", extra: str = "") -> Config:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(SITE.format(allocation=allocation) + extra)
    return load_config(folder / "config.toml")


def make_inventory(folder: Path, config: Config, clock: Clock) -> Inventory:
    inventory = Inventory(folder / "inventory.json", clock=clock.moment)
    inventory.sync_pools(config.pools.values())
    return inventory


def add_tape(inventory: Inventory, barcode: str, capacity: int, **fields: object) -> None:
    inventory.register_cartridge(barcode, "LTO-5", capacity, str(fields.pop("location", "shelf")))
    if fields:
        inventory.update_tape(barcode, **fields)


def sparse_file(path: Path, size: int) -> Path:
    """A file of `size` bytes that takes no disk (the planner counts st_size)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        os.truncate(handle.fileno(), size)
    return path


def files_job(config: Config) -> JobConfig:
    return config.jobs["nightly-files"]
