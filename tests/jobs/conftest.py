"""An in-process daemon service with small virtual cartridges and a fake XO over real HTTP."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from console.config.loading import load_config
from console.demo.xo_simulator.server import XoSimHandle, start_xosim_in_thread
from console.engine.daemon.service import TapeService
from console.engine.jobs.sources import JobSources
from console.engine.sources.xo_client import XoClient

SITE = """
[daemon]
state_dir = "var"

[shelf]
cartridges = ["TST001L5", "TST002L5", "TST003L5", "TST004L5", "TST101L4", "TST102L4"]
early_warning_mib = {ew}

[shelf.capacity_gib]
"LTO-4" = {lto4_gib}
"LTO-5" = {lto5_gib}

[drives.lto4]
kind = "virtual"
generation = "LTO-4"
buffer_mib = {buffer}
native_rate_mb_s = {rate}
floor_rate_mb_s = {floor}

[drives.lto5]
kind = "virtual"
generation = "LTO-5"
buffer_mib = {buffer}
native_rate_mb_s = {rate}
floor_rate_mb_s = {floor}

[pools.vdi-daily]
generation = "LTO-5"
retention_days = 14

[pools.files-daily]
generation = "LTO-4"
retention_days = 14

[xo]
simulator = true

[jobs.nightly-vdi]
source = "xo"
drive = "lto5"
pool = "vdi-daily"
part_mib = {part_mib}
eject_when_done = {eject}

[jobs.remote-chains]
source = "xo_remote"
drive = "lto5"
pool = "vdi-daily"
remote_path = "remote"
part_mib = {part_mib}
eject_when_done = {eject}

[jobs.nightly-files]
source = "files"
drive = "lto4"
pool = "files-daily"
paths = ["data/mail", "data/shares"]
part_mib = {part_mib}
eject_when_done = {eject}
"""


@dataclass
class Site:
    folder: Path
    service: TapeService
    xo: XoSimHandle
    sources: JobSources

    def run_job(self, name: str, timeout: float = 120) -> dict:
        run = self.service.jobs.start(name, "tester")
        self.service.jobs.wait(run["id"], timeout)
        return self.service.jobs.get(run["id"])

    def tape_file(self, drive: str, number: int, out: Path) -> Path:
        with open(out, "wb") as handle:
            for block in self.service.open_tape_file(drive, number, "tester"):
                handle.write(block)
        return out


def extract(tar_file: Path, into: Path) -> Path:
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-b", "512", "-xf", str(tar_file), "-C", str(into)], check=True)
    return into


@pytest.fixture
def make_site(tmp_path: Path) -> Iterator:
    made: list[Site] = []

    def make(*, lto5_gib: float = 0.25, lto4_gib: float = 0.25, ew: int = 4, part_mib: int = 8,
             eject: bool = False, scale: float = 0.1, rate: float = 0, buffer: int = 8, extra: str = "") -> Site:
        (tmp_path / "config.toml").write_text(SITE.format(lto5_gib=lto5_gib, lto4_gib=lto4_gib, ew=ew,
                                                          part_mib=part_mib, eject=str(eject).lower(),
                                                          rate=rate, floor=rate / 3, buffer=buffer) + extra)
        config = load_config(tmp_path / "config.toml")
        xo = start_xosim_in_thread(seed=7, scale=scale)
        sources = JobSources(config, lambda: XoClient(xo.url, token=xo.token))
        service = TapeService(config, members_for=sources, recheck_seconds=0.1)
        site = Site(tmp_path, service, xo, sources)
        made.append(site)
        return site

    yield make
    for site in made:
        site.sources.close()
        site.service.close()
        site.xo.stop()


def make_tree(root: Path, seed: int = 1) -> Path:
    """A small mail store and share: text that compresses, random bytes that do not, nested folders."""
    import random

    rng = random.Random(seed)
    words = ["backup", "tape", "restore", "invoice", "meeting", "offsite", "vault", "pool", "quarterly",
             "report", "mail", "share"]
    for user in ("alice", "bob"):
        for i in range(30):
            msg = root / "mail" / user / "Maildir" / "cur" / f"{1700000000 + i}.{user}.eml"
            msg.parent.mkdir(parents=True, exist_ok=True)
            body = " ".join(rng.choice(words) for _ in range(rng.randint(50, 3000)))
            msg.write_text(f"From: {user}@example.lan\nSubject: {rng.choice(words)}\n\n{body}\n")
    for i in range(12):
        doc = root / "shares" / f"dept{i % 3}" / f"doc{i}.txt"
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_text("\n".join(",".join(rng.choice(words) for _ in range(8)) for _ in range(2000)))
        (doc.parent / f"photo{i}.jpg").write_bytes(rng.randbytes(rng.randint(10_000, 400_000)))
    (root / "shares" / "empty-folder").mkdir(parents=True, exist_ok=True)
    return root
