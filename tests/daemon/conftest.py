"""A real daemon on a temporary socket with small, unlimited-speed virtual drives."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from console.cli.main import main
from console.client.daemon_client import DaemonClient

ROOT = Path(__file__).resolve().parents[2]

SITE = """
[daemon]
state_dir = "var"
log_level = "debug"

[shelf]
cartridges = ["TST001L5", "TST002L5", "TST003L5", "TST101L4", "TST102L4", "WPR001L5"]
write_protected = ["WPR001L5"]
early_warning_mib = 4

[shelf.capacity_gib]
"LTO-4" = 0.0625
"LTO-5" = 0.125

[drives.lto4]
kind = "virtual"
generation = "LTO-4"

[drives.lto5]
kind = "virtual"
generation = "LTO-5"

[pools.vdi-daily]
generation = "LTO-5"
retention_days = 14

[pools.files-daily]
generation = "LTO-4"
retention_days = 14
"""


@dataclass
class Site:
    folder: Path
    config: Path

    def run(self, *args: str) -> int:
        return main(["--config", str(self.config), *args])

    @property
    def socket(self) -> Path:
        return self.folder / "var" / "tapeconsole.sock"

    def client(self) -> DaemonClient:
        return DaemonClient(self.socket)

    def stop(self) -> None:
        subprocess.run([sys.executable, "-m", "console", "--config", str(self.config), "daemon", "stop"],
                       cwd=ROOT, capture_output=True, timeout=60)


XO_JOBS = """
[xo]
simulator = true
simulator_seed = 3
simulator_scale = 0.1

[jobs.nightly-vdi]
source = "xo"
drive = "lto5"
pool = "vdi-daily"
part_mib = 8
eject_when_done = true
"""


@pytest.fixture
def site() -> Iterator[Site]:
    yield from _site(SITE)


@pytest.fixture
def xo_site() -> Iterator[Site]:
    """A site whose daemon runs the built-in XO simulator and a nightly-vdi job."""
    yield from _site(SITE + XO_JOBS)


def _site(text: str) -> Iterator[Site]:
    """A site folder with its own config; the daemon is started by the first command (autostart)."""
    folder = Path(tempfile.mkdtemp(prefix="tc-", dir="/tmp"))  # short: Unix socket paths are limited
    config = folder / "config.toml"
    config.write_text(text)
    s = Site(folder, config)
    env_before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + env_before if env_before else "")
    try:
        yield s
    finally:
        s.stop()
        if env_before is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = env_before
        deadline = time.monotonic() + 10
        while s.socket.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        subprocess.run(["rm", "-rf", str(folder)], check=False)
