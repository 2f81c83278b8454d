"""Rotation through a real daemon on a temporary socket and the real CLI: each job's next tape (GET /v1/jobs,
`tapeconsole jobs`), the swap list (GET /v1/swap-list, `tapeconsole swap-list`), confirmed swap steps
(POST /v1/swaps), tape states and marks (POST /v1/tapes/{barcode}/status, `tapeconsole mark`).

One daemon for the module; the tests run in order. lto5 is held to 1 MB/s so the scratch job writes for a
few seconds: long enough to be refused a mark on the tape it writes. Pool scratch keeps nothing (0 days):
its tape is expired as soon as it is written.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import Any

import pytest

from console.client.daemon_client import DaemonError
from tests.daemon.conftest import Site, _site

SITE = """
[daemon]
state_dir = "var"

[shelf]
cartridges = ["TST001L5", "TST002L5", "TST003L5", "TST101L4", "TST102L4", "TST103L4", "WPR001L5"]
write_protected = ["WPR001L5"]
early_warning_mib = 4

[shelf.capacity_gib]
"LTO-4" = 0.0625
"LTO-5" = 0.125

[drives.lto4]
kind = "virtual"
generation = "LTO-4"
buffer_mib = 1

[drives.lto5]
kind = "virtual"
generation = "LTO-5"
buffer_mib = 1
native_rate_mb_s = 1

[pools.files-daily]
generation = "LTO-4"
retention_days = 14
vault = "town-hall"

[pools.scratch]
generation = "LTO-5"
retention_days = 0
vault = "bank-safe"

[jobs.nightly-files]
source = "files"
drive = "lto4"
pool = "files-daily"
paths = ["data"]
schedule = "30 22 * * *"

[jobs.scratch]
source = "files"
drive = "lto5"
pool = "scratch"
paths = ["noise"]
compression_level = 1
part_mib = 1

[rotation]
lookahead_nights = 5
"""


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    for s in _site(SITE):
        (s.folder / "data").mkdir()
        for n in range(5):
            (s.folder / "data" / f"note{n}.txt").write_text(f"minutes of meeting {n}\n" * 200)
        (s.folder / "noise").mkdir()
        (s.folder / "noise" / "random.bin").write_bytes(os.urandom(3 << 20))  # does not compress: 3 s at 1 MB/s
        yield s


def get(site: Site, path: str) -> Any:
    with site.client() as client:
        return client.get(path)


def post(site: Site, path: str, body: Any) -> Any:
    with site.client() as client:
        return client.post(path, body)


def refused(site: Site, path: str, body: Any) -> DaemonError:
    with pytest.raises(DaemonError) as caught:
        post(site, path, body)
    return caught.value


def tape(site: Site, barcode: str) -> dict[str, Any]:
    return next(t for t in get(site, "/tapes") if t["barcode"] == barcode)


def out(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out


def test_every_job_shows_its_next_tape(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert site.run("daemon", "start") == 0
    jobs = {j["name"]: j for j in get(site, "/jobs")}
    assert jobs["nightly-files"]["next_tape"] == {"barcode": "TST101L4", "label": None, "reason": "blank",
                                                  "location": "shelf", "needs_label": True}
    assert jobs["scratch"]["next_tape"]["barcode"] == "TST001L5"
    assert all(j["next_tape_problem"] is None for j in jobs.values())
    out(capsys)
    assert site.run("jobs") == 0
    text = " ".join(out(capsys).split())  # the table wraps its cells at the terminal's width
    assert "next tape" in text and "TST101L4: blank, on the shelf (labelled by the job)" in text


def test_the_swap_list_after_a_night(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    assert site.run("backup", "nightly-files", "--wait") == 0
    plan = get(site, "/swap-list")
    assert [(t["barcode"], t["drive"], t["job"], t["vault"], t["in_drive"]) for t in plan["take_out"]] == [
        ("TST101L4", "lto4", "nightly-files", "town-hall", False)]
    assert [(p["drive"], p["barcode"], p["reason"]) for p in plan["put_in"]] == [
        ("lto4", "TST102L4", "blank"), ("lto5", "TST001L5", "blank")]
    assert plan["recall"] == [] and plan["unscheduled"] == ["scratch"] and plan["lookahead_nights"] == 5
    # two blank LTO-4 tapes left for a nightly job that keeps 14 days: the third night has none
    short = plan["shortages"][0]
    assert short["job"] == "nightly-files" and short["problem"].startswith(
        "no usable LTO-4 tape of pool files-daily here: 3 are kept until")
    out(capsys)
    assert site.run("swap-list") == 0
    text = out(capsys)
    assert "Take offsite (1):\n  TST101L4   pool files-daily: to town-hall (kept until" in text
    assert "TST102L4   into drive lto4 for nightly-files, on the shelf (blank)" in text
    assert f"No tape for nightly-files on the night of {short['night']}" in text


def test_a_confirmed_swap_moves_the_tape_and_is_audited(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    done = post(site, "/swaps", {"barcode": "TST101L4", "drive": "lto4", "direction": "out", "verdict": "moved"})
    assert done["tape"]["location"] == "offsite:town-hall"
    entry = get(site, "/audit?limit=1")[-1]
    assert (entry["action"], entry["barcode"], entry["direction"], entry["verdict"], entry["location"],
            entry["was"]) == ("swap", "TST101L4", "out", "moved", "offsite:town-hall", "shelf")
    assert entry["user"] and entry["time"]
    assert get(site, "/swap-list")["take_out"] == []
    out(capsys)
    assert site.run("tapes") == 0
    assert "offsite:town-hall" in out(capsys)
    back = post(site, "/swaps", {"barcode": "TST101L4", "direction": "back", "verdict": "moved"})
    assert back["tape"]["location"] == "shelf"
    wrong = post(site, "/swaps", {"barcode": "TST102L4", "drive": "lto4", "direction": "in", "verdict": "wrong",
                                  "found": "TST101L4"})
    assert wrong["audit"]["found"] == "TST101L4" and tape(site, "TST102L4")["location"] == "shelf"
    not_loaded = refused(site, "/swaps", {"barcode": "TST102L4", "drive": "lto4", "direction": "in",
                                          "verdict": "correct"})
    assert not_loaded.status == 409 and "not in drive lto4: load it first" in str(not_loaded)
    post(site, "/swaps", {"barcode": "TST101L4", "drive": "lto4", "direction": "out", "verdict": "moved"})


@pytest.mark.parametrize(("body", "problem"), [
    ([1, 2], "request body must be a JSON object"),
    ({"barcode": "TST102L4", "verdict": "moved"}, "missing field 'direction'"),
    ({"barcode": "TST102L4", "direction": "sideways", "verdict": "moved"},
     "field 'direction' must be out, in or back, got 'sideways'"),
    ({"barcode": "TST102L4", "direction": "in", "verdict": "moved", "drive": "lto4"},
     "field 'verdict' must be correct or wrong for direction in, got 'moved'"),
    ({"barcode": "NOPE01L5", "direction": "out", "verdict": "moved"},
     "field 'barcode': no tape NOPE01L5 in the inventory"),
    ({"barcode": "TST102L4", "direction": "in", "verdict": "correct"}, "missing field 'drive'"),
    ({"barcode": "TST102L4", "direction": "in", "verdict": "correct", "drive": "lto9"},
     "field 'drive': no drive 'lto9' (drives: lto4, lto5)"),
    ({"barcode": "", "direction": "out", "verdict": "moved"}, "field 'barcode' must be a non-empty string"),
    ({"barcode": "TST102L4", "direction": "back", "verdict": "moved", "vault": "x"},
     "field 'vault' is only for direction out"),
])
def test_a_bad_swap_is_refused_naming_the_field(site: Site, body: Any, problem: str) -> None:
    before = tape(site, "TST102L4")
    error = refused(site, "/swaps", body)
    assert (error.status, str(error)) == (400, problem)
    assert tape(site, "TST102L4") == before


def test_tapes_are_marked_and_never_chosen_while_damaged(site: Site, capsys: pytest.CaptureFixture[str]) -> None:
    out(capsys)
    assert site.run("mark", "TST102L4", "damaged") == 0
    assert out(capsys).strip() == "tape TST102L4 (unlabelled) is now damaged"
    assert (tape(site, "TST102L4")["status"], tape(site, "TST102L4")["state"]) == ("damaged", "damaged")
    files = next(j for j in get(site, "/jobs") if j["name"] == "nightly-files")
    assert files["next_tape"]["barcode"] == "TST103L4"
    assert site.run("mark", "TST102L4", "ok") == 0
    assert tape(site, "TST102L4")["status"] == "blank"
    assert site.run("mark", "TST102L4", "ok") == 1
    assert capsys.readouterr().err.strip() == ("tapeconsole: tape TST102L4 is blank, not damaged or retired: "
                                               "nothing to undo")
    bad = refused(site, "/tapes/TST102L4/status", {"status": "lost"})
    assert (bad.status, str(bad)) == (400, "field 'status' must be damaged, retired or ok, got 'lost'")
    assert refused(site, "/tapes/NOPE01L5/status", {"status": "damaged"}).status == 404
    marks = [(e["barcode"], e["status"], e["was"]) for e in get(site, "/audit?limit=10")
             if e["action"] == "tape-status"]
    assert marks == [("TST102L4", "damaged", "blank"), ("TST102L4", "blank", "damaged")]


def test_a_tape_being_written_cannot_be_marked_and_is_expired_once_its_pool_keeps_nothing(site: Site) -> None:
    run = post(site, "/jobs/scratch/run", {})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (get(site, f"/runs/{run['id']}")["state"] == "running"
                                               and tape(site, "TST001L5")["location"] == "drive:lto5"):
        time.sleep(0.05)
    busy = refused(site, "/tapes/TST001L5/status", {"status": "damaged"})
    assert busy.status == 409 and str(busy).startswith("tape TST001L5 is in drive lto5, which is running job scratch")
    while time.monotonic() < deadline and get(site, f"/runs/{run['id']}")["state"] != "done":
        time.sleep(0.1)
    written = tape(site, "TST001L5")
    assert (written["status"], written["state"], written["pool"]) == ("writable", "expired", "scratch")
    scratch = next(j for j in get(site, "/jobs") if j["name"] == "scratch")
    assert scratch["next_tape"] == {"barcode": "TST001L5", "label": "TST001L5", "reason": "expired",
                                    "location": "shelf", "needs_label": True}
    # a verify reads it back: while it does, no backup takes it and it does not leave
    verify = post(site, "/verify", {"tape": "TST001L5"})
    assert get(site, f"/restores/{verify['id']}")["state"] in ("queued", "running")
    scratch = next(j for j in get(site, "/jobs") if j["name"] == "scratch")
    assert scratch["next_tape"]["barcode"] == "TST002L5"
    while time.monotonic() < deadline + 30 and get(site, f"/restores/{verify['id']}")["state"] != "done":
        time.sleep(0.1)
    assert get(site, f"/restores/{verify['id']}")["ok"]
    assert next(j for j in get(site, "/jobs") if j["name"] == "scratch")["next_tape"]["barcode"] == "TST001L5"
    for barcode in ("TST001L5", "TST002L5", "TST003L5"):
        post(site, f"/tapes/{barcode}/status", {"status": "retired"})
    scratch = next(j for j in get(site, "/jobs") if j["name"] == "scratch")
    assert scratch["next_tape"] is None and scratch["next_tape_problem"] == (
        "no usable LTO-5 tape of pool scratch here: 1 damaged, retired or write-protected; no usable blank LTO-5 tape")
    assert json.dumps(scratch)  # the listing stays plain JSON
