"""kill -9 of the daemon during a backup, restart, and the next backup appends on the same tape."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon.conftest import ROOT, SITE, Site, _site

APPEND_JOB = """
[pools.vdi-append]
generation = "LTO-5"
retention_days = 14
allocation = "append"

[xo]
simulator = true
simulator_seed = 3
simulator_scale = 0.2

[jobs.nightly-vdi]
source = "xo"
drive = "lto5"
pool = "vdi-append"
part_mib = 8
eject_when_done = false
"""


def _slow(rate_mb_s: int, scale: float = 0.2) -> str:
    text = SITE.replace('[drives.lto5]\nkind = "virtual"\ngeneration = "LTO-5"',
                        '[drives.lto5]\nkind = "virtual"\ngeneration = "LTO-5"\nbuffer_mib = 2\n'
                        f'native_rate_mb_s = {rate_mb_s}\nfloor_rate_mb_s = 1')
    assert text != SITE
    return text + APPEND_JOB.replace("simulator_scale = 0.2", f"simulator_scale = {scale}")


@pytest.fixture
def slow_site() -> Iterator[Site]:
    yield from _site(_slow(8))


@pytest.fixture
def bigger_site() -> Iterator[Site]:
    """More VHD data (about 200 MB) than the virtual drive's own 128 MiB buffer holds."""
    yield from _site(_slow(8, scale=1.0))


def out_json(site: Site, capsys: pytest.CaptureFixture[str], *args: str) -> list[dict]:
    capsys.readouterr()
    assert site.run(*args, "--json") == 0
    return json.loads(capsys.readouterr().out)


def test_kill_9_mid_backup_then_restart_and_append(slow_site: Site, capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    site = slow_site
    assert site.run("backup", "nightly-vdi") == 0
    pid = site.client().health()["pid"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        runs = out_json(site, capsys, "jobs")
        if runs and runs[-1]["state"] == "running" and runs[-1]["bytes"] > 6 * 1024 * 1024:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the backup never got going: {runs}")
    os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)

    # any command brings the daemon back; the run is interrupted, its set incomplete
    runs = out_json(site, capsys, "jobs")
    assert runs[-1]["state"] == "interrupted" and "daemon stopped" in runs[-1]["error"]
    sets = out_json(site, capsys, "sets")
    assert len(sets) == 1 and sets[0]["state"] == "incomplete" and sets[0]["file"] == 1
    tape = sets[0]["barcode"]

    # the next backup appends after the cut set, on the same tape, as tape file 2
    assert site.run("backup", "nightly-vdi", "--wait") == 0
    sets = out_json(site, capsys, "sets")
    assert [(s["barcode"], s["file"], s["state"]) for s in sets] == [(tape, 1, "incomplete"), (tape, 2, "complete")]
    out = tmp_path / "file2.tar"
    assert site.run("read", "lto5", "--file", "2", "--output", str(out)) == 0
    names = subprocess.run(["tar", "-b", "512", "-tf", str(out)], capture_output=True, text=True, check=True).stdout
    assert names.splitlines()[-1] == "MANIFEST.json"
    # what reached the tape before the crash is still there as tape file 1
    first = tmp_path / "file1.tar"
    assert site.run("read", "lto5", "--file", "1", "--output", str(first)) == 0
    assert first.stat().st_size >= 4 * 1024 * 1024
    listing = subprocess.run(["tar", "-b", "512", "-tf", str(first)], capture_output=True, text=True)
    assert "vm.json" in listing.stdout


def test_client_reconnects_when_the_daemon_restarts(site: Site) -> None:
    client = site.client()
    assert site.run("daemon", "start") == 0
    first = client.health()
    assert first is not None
    assert site.run("daemon", "stop") == 0
    assert client.health() is None
    assert site.run("daemon", "start") == 0
    again = client.health()
    assert again is not None and again["pid"] != first["pid"]
    assert [d["name"] for d in client.get("/drives")] == ["lto4", "lto5"]


def test_backup_from_cron_prints_nothing_but_errors(xo_site: Site) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def cron(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "console", "--config", str(xo_site.config), *args],
                              capture_output=True, text=True, env=env, cwd=ROOT, stdin=subprocess.DEVNULL)

    ok = cron("backup", "nightly-vdi", "--wait")
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "", "")
    failing = cron("backup", "nope")
    assert failing.returncode == 1 and failing.stdout == ""
    assert failing.stderr.strip() == "tapeconsole: no job named 'nope' (jobs: nightly-vdi)"


def test_queue_exclusivity_and_cancel_over_the_socket(bigger_site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    site = bigger_site
    assert site.run("backup", "nightly-vdi") == 0
    assert site.run("backup", "nightly-vdi") == 1
    assert "job nightly-vdi is already" in capsys.readouterr().err
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = out_json(site, capsys, "jobs")[-1]
        if run["state"] == "running" and run["bytes"] > 0:
            break
        time.sleep(0.2)
    # the drive is the job's: reading from it is refused at once, naming the job
    assert site.run("read", "lto5", "--file", "0", "--output", str(site.folder / "f0")) == 1
    assert "drive lto5 is busy: writing nightly-vdi" in capsys.readouterr().err
    assert site.run("cancel", str(run["id"])) == 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        run = out_json(site, capsys, "jobs")[-1]
        if run["state"] not in ("queued", "waiting-for-tape", "running"):
            break
        time.sleep(0.3)
    assert run["state"] == "cancelled"
    sets = out_json(site, capsys, "sets")
    assert sets[-1]["state"] == "cancelled" and sets[-1]["bytes"] > 0
    assert "cancel" in [e["action"] for e in out_json(site, capsys, "audit")]
