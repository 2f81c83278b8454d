"""The whole HIL tier from the host: boot the guest with hil/run and check what it brings back.

`pytest -m hil tests/hil` on the host runs this (the guest tests skip outside the guest); it needs root
(apt-get, tgtd) and takes a few minutes. hil/run bounds itself to --timeout seconds.
"""

from __future__ import annotations

import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.hil.conftest import IN_GUEST

REPO = Path(__file__).resolve().parents[2]
TIMEOUT = 600

pytestmark = [
    pytest.mark.hil,
    pytest.mark.skipif(IN_GUEST, reason="boots the guest: runs on the host"),
    pytest.mark.skipif(os.geteuid() != 0, reason="hil/run needs root (apt-get, tgtd, a private iSCSI target)"),
]


def _totals(report: Path) -> dict[str, int]:
    suites = ET.parse(report).getroot()
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites.iter("testsuite"):
        for key in totals:
            totals[key] += int(suite.get(key, 0))
    return totals


def test_guest_suite(tmp_path: Path) -> None:
    results = tmp_path / "results"
    run = subprocess.run(
        [str(REPO / "hil" / "run"), "--results", str(results), "--timeout", str(TIMEOUT)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT + 60,
        check=False,
    )
    summary = (results / "summary.txt").read_text() if (results / "summary.txt").exists() else "(no summary)"
    assert run.returncode == 0, f"hil/run exited {run.returncode}\n{summary}\n{run.stderr[-3000:]}"
    assert float((results / "boot-seconds").read_text()) > 0
    for report in ("hil.xml", "contract.xml"):
        totals = _totals(results / report)
        assert totals["tests"] > totals["skipped"], f"{report}: nothing ran\n{summary}"
        assert totals["failures"] == totals["errors"] == 0, f"{report}\n{summary}"
