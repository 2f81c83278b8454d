"""End to end through the CLI on the kernel st driver, in the HIL guest: a daemon with st drives, load,
label, a backup set, eject, load again, read back, restore, and GNU tar reading the set from the device.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from console.cli.main import main
from tests.drives.st_backend import configured_tapes, open_blank_drive
from tests.hil.conftest import IN_GUEST, hil_drives

pytestmark = [pytest.mark.hil, pytest.mark.skipif(not IN_GUEST, reason="runs inside the HIL guest")]

SITE = """
[daemon]
state_dir = "var"
socket = "var/tc.sock"

[drives.lto5]
kind = "st"
generation = "LTO-5"
device = "{device}"
buffer_mib = 2

[pools.files-daily]
generation = "LTO-5"
retention_days = 14

[jobs.nightly-files]
source = "files"
drive = "lto5"
pool = "files-daily"
paths = ["data/mail", "data/share"]
part_mib = 1
eject_when_done = false
"""


class Cli:
    """The tapeconsole command, run in this process (imports over 9p under TCG are slow: pay them once);
    the daemon it starts is a process of its own."""

    def __init__(self, folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.folder = folder
        self.capsys = capsys

    def __call__(self, *args: str, check: bool = True) -> tuple[int, str, str]:
        self.capsys.readouterr()
        code = main(["--config", str(self.folder / "config.toml"), *args])
        out, err = self.capsys.readouterr()
        if check and code != 0:
            raise AssertionError(f"tapeconsole {' '.join(args)} exited {code}: {err}\n{self.daemon_log()}")
        return code, out, err

    def daemon_log(self) -> str:
        log = self.folder / "var" / "daemon.log"
        return log.read_text()[-4000:] if log.exists() else "(no daemon log)"


@pytest.fixture
def site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[tuple[Cli, Path, str]]:
    device = Path("/dev/nst1")
    tape = next(t for t in configured_tapes() if t.device == device)
    open_blank_drive(tape).close()  # a blank cartridge in the drive
    barcode = hil_drives()[device]
    (tmp_path / "config.toml").write_text(SITE.format(device=device))
    for name, size in (("mail/alice/cur/1.eml", 200_000), ("mail/bob/cur/2.eml", 50_000),
                       ("share/reports/q3.csv", 700_000), ("share/photo.jpg", 300_000)):
        path = tmp_path / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes((name.encode() * (size // len(name) + 1))[:size] if name.endswith(("eml", "csv"))
                         else os.urandom(size))
    cli = Cli(tmp_path, capsys)
    import console.client.daemon_client

    console.client.daemon_client.START_TIMEOUT = 300  # python's imports over 9p under TCG are slow
    try:
        yield cli, device, barcode
    finally:
        cli("daemon", "stop", check=False)


def test_cli_label_backup_eject_load_read_and_gnu_tar_on_the_device(site, tmp_path: Path) -> None:
    cli, device, barcode = site
    assert "blank" in cli("load", "lto5", barcode)[1]
    cli("label", "lto5", barcode, "--pool", "files-daily")
    cli("backup", "nightly-files")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        run = json.loads(cli("jobs", "--json")[1])[-1]
        if run["state"] in ("done", "failed", "cancelled", "interrupted"):
            break
        time.sleep(2)
    assert run["state"] == "done", f"{run}\n{cli.daemon_log()}"
    sets = json.loads(cli("sets", "--json")[1])
    assert [(s["file"], s["state"]) for s in sets] == [(1, "complete")]
    cli("eject", "lto5")
    drives = json.loads(cli("drives", "--json")[1])
    assert drives[0]["kind"] == "st" and drives[0]["loaded"] is None
    assert f"label {barcode} (pool files-daily)" in cli("load", "lto5", barcode)[1]
    cli("read", "lto5", "--file", "1", "--output", str(tmp_path / "set1.tar"))
    listing = subprocess.run(["tar", "-b", "512", "-tf", str(tmp_path / "set1.tar")], capture_output=True, text=True,
                             check=True).stdout.split()
    assert listing[-1] == "MANIFEST.json" and listing[0].startswith("backup.tar.zst")
    cli("restore", str(sets[0]["id"]), "--to", str(tmp_path / "by-tapeconsole"), "--wait")
    for name in ("mail/alice/cur/1.eml", "share/photo.jpg"):
        found = list((tmp_path / "by-tapeconsole").rglob(Path(name).name))
        assert found and found[0].read_bytes() == (tmp_path / "data" / name).read_bytes(), name
    cli("daemon", "stop")

    # the README's way: mt and GNU tar straight from the device, no tapeconsole
    subprocess.run(["mt", "-f", str(device), "rewind"], check=True)
    subprocess.run(["mt", "-f", str(device), "setblk", "0"], check=True)
    subprocess.run(["mt", "-f", str(device), "fsf", "1"], check=True)
    out = tmp_path / "from-device"
    out.mkdir()
    subprocess.run(["tar", "-b", "512", "-xf", str(device), "-C", str(out)], check=True)
    parts = sorted(out.glob("backup.tar.zst*"))
    restored = tmp_path / "restored"
    restored.mkdir()
    subprocess.run(f"cat {' '.join(map(str, parts))} | zstd -dc | tar -xf - -C {restored}", shell=True, check=True)
    for name in ("mail/alice/cur/1.eml", "mail/bob/cur/2.eml", "share/reports/q3.csv", "share/photo.jpg"):
        assert (restored / name).read_bytes() == (tmp_path / "data" / name).read_bytes(), name
    shutil.rmtree(out)
