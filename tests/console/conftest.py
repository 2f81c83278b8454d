"""A real daemon on a temporary socket with small virtual cartridges, and the console driven by the Pilot.

lto5 is unlimited: nightly-vdi (the built-in XO simulator, ~230 MB) ends in a few seconds. lto4 is held to
3 MB/s, so slow-vdi (the same VMs) writes for more than a minute, more than the drive's 128 MiB buffer takes
in: long enough to be cancelled. nightly-files archives a small folder made here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from console.client.daemon_client import DaemonClient, start_daemon
from console.client.daemon_link import DaemonLink
from console.config.loading import load_config
from console.tui.app import TapeConsoleApp

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 27)

SITE = """
[daemon]
state_dir = "var"
log_level = "info"

[shelf]
cartridges = ["TST001L5", "TST002L5", "TST003L5", "TST101L4", "TST102L4", "TST103L4", "WPR001L5"]
write_protected = ["WPR001L5"]
early_warning_mib = 4

[shelf.capacity_gib]
"LTO-4" = 0.5
"LTO-5" = 0.5

[drives.lto4]
kind = "virtual"
generation = "LTO-4"
buffer_mib = 4
native_rate_mb_s = 3
floor_rate_mb_s = 1

[drives.lto5]
kind = "virtual"
generation = "LTO-5"
buffer_mib = 8

[pools.vdi-daily]
generation = "LTO-5"
retention_days = 14
vault = "offsite-vault"

[pools.files-daily]
generation = "LTO-4"
retention_days = 14
vault = "offsite-vault"

[pools.vdi-slow]
generation = "LTO-4"
retention_days = 14
vault = "offsite-vault"

[xo]
simulator = true
simulator_scale = 1.0

[jobs.nightly-vdi]
source = "xo"
drive = "lto5"
pool = "vdi-daily"
part_mib = 8
eject_when_done = true

[jobs.nightly-files]
source = "files"
drive = "lto4"
pool = "files-daily"
paths = ["data/mail"]
part_mib = 8
eject_when_done = true

[jobs.slow-vdi]
source = "xo"
drive = "lto4"
pool = "vdi-slow"
part_mib = 8
eject_when_done = true
"""


@dataclass
class Site:
    folder: Path
    config: Path
    _client: DaemonClient | None = None

    @property
    def socket(self) -> Path:
        return self.folder / "var" / "tapeconsole.sock"

    @property
    def shelf(self) -> Path:
        return self.folder / "var" / "shelf"

    def client(self) -> DaemonClient:
        """One client for the whole test: a new httpx client costs tens of ms of CPU (its TLS context)."""
        if self._client is None:
            self._client = DaemonClient(self.socket)
        return self._client

    def get(self, path: str) -> Any:
        return self.client().get(path)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.client().post(path, body)

    def tape(self, barcode: str) -> dict[str, Any]:
        return next(t for t in self.get("/tapes") if t["barcode"] == barcode)

    def drive(self, name: str) -> dict[str, Any]:
        return self.get(f"/drives/{name}")

    def run(self, run_id: int) -> dict[str, Any]:
        return self.get(f"/runs/{run_id}")

    def app(self, **options: Any) -> TapeConsoleApp:
        return TapeConsoleApp(DaemonLink.over_socket(self.socket), busy_seconds=0.5, idle_seconds=0.5, today=TODAY,
                              cursor_blink=False, watch_terminal=False, **options)

    def stop(self) -> None:
        if self._client is not None:
            self._client.close()
        subprocess.run([sys.executable, "-m", "console", "--config", str(self.config), "daemon", "stop"],
                       cwd=ROOT, capture_output=True, timeout=60)


def make_files(folder: Path) -> None:
    mail = folder / "data" / "mail"
    for box in range(3):
        (mail / f"box{box}").mkdir(parents=True)
        for n in range(5):
            (mail / f"box{box}" / f"{n}.eml").write_text(f"From: someone{n}@example.org\n\nmessage {n}\n" * 50)


@contextmanager
def running_site() -> Iterator[Site]:
    """A site folder with its own config and a daemon started in the background for it."""
    folder = Path(tempfile.mkdtemp(prefix="tcc-", dir="/tmp"))  # short: Unix socket paths are limited
    config = folder / "config.toml"
    config.write_text(SITE)
    make_files(folder)
    s = Site(folder, config)
    env_before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + env_before if env_before else "")
    try:
        start_daemon(load_config(config))
        yield s
    finally:
        s.stop()
        if env_before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = env_before
        subprocess.run(["rm", "-rf", str(folder)], check=False)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    """One daemon for a module's tests: they run in order and each leaves the drives empty."""
    with running_site() as s:
        yield s


async def until(pilot: Pilot, predicate: Callable[[], Any], timeout: float = 20.0, what: str = "") -> Any:
    """Let the app run until predicate() is true (a sync daemon call in it blocks the app only briefly)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        await pilot.pause(0.1)
    raise AssertionError(f"timed out waiting for {what or predicate}; notices: {notices(pilot.app)}")


@asynccontextmanager
async def console(site: Site, size: tuple[int, int] = (120, 40), **options: Any) -> AsyncIterator[Pilot]:
    app = site.app(**options)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.snapshot.tick and app.snapshot.tapes, what="the first poll")
        yield pilot


def notices(app: TapeConsoleApp) -> list[str]:
    return [str(n.message) for n in app._notifications]
