"""`tapeconsole backup JOB --wait` through the daemon, its built-in XO simulator and a virtual drive."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.daemon.conftest import Site


def test_backup_wait_exits_0_and_lists_the_set(xo_site: Site, capsys: pytest.CaptureFixture[str],
                                               tmp_path: Path) -> None:
    assert xo_site.run("backup", "nightly-vdi", "--wait") == 0
    capsys.readouterr()
    assert xo_site.run("sets", "--json") == 0
    sets = json.loads(capsys.readouterr().out)
    assert len(sets) == 1
    s = sets[0]
    assert set(s) >= {"id", "tape", "file", "job", "started", "ended", "bytes", "members", "state"}
    assert (s["job"], s["file"], s["state"]) == ("nightly-vdi", 1, "complete")
    assert s["members"] > 3 and s["bytes"] > 0
    assert xo_site.run("jobs", "--json") == 0
    runs = json.loads(capsys.readouterr().out)
    assert runs[-1]["state"] == "done" and runs[-1]["sets"] == [s["id"]] and runs[-1]["tapes"] == [s["tape"]]
    # eject-when-done: the tape is back on the shelf; load it and read the set with GNU tar
    assert xo_site.run("drives", "--json") == 0
    assert json.loads(capsys.readouterr().out)[1]["loaded"] is None
    assert xo_site.run("load", "lto5", s["barcode"]) == 0
    out = tmp_path / "set.tar"
    assert xo_site.run("read", "lto5", "--file", "1", "--output", str(out)) == 0
    listing = subprocess.run(["tar", "-b", "512", "-tvf", str(out)], capture_output=True, text=True, check=True)
    names = listing.stdout.splitlines()
    assert names[-1].endswith("MANIFEST.json") and sum(".vhd" in n for n in names) >= 3


def test_backup_of_an_unknown_job_is_refused(xo_site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert xo_site.run("backup", "nightly-nothing") == 1
    assert "no job named 'nightly-nothing' (jobs: nightly-vdi)" in capsys.readouterr().err
