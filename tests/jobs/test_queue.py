"""The job queue: one job per drive, waiting for the drive and for a tape, cancel at any point."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

from console.engine.refusals import Refused
from tests.jobs.conftest import make_tree


def wait_for(predicate, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError("condition not reached in time")


def test_two_jobs_on_one_drive_queue_and_the_same_job_twice_is_refused(make_site) -> None:
    site = make_site(rate=10)
    from console.demo.xo_simulator.remote_tree import write_remote_tree

    write_remote_tree(site.folder / "remote", seed=5, runs=2, scale=0.02)
    first = site.service.jobs.start("nightly-vdi", "tester")
    second = site.service.jobs.start("remote-chains", "tester")
    with pytest.raises(Refused, match="job nightly-vdi is already"):
        site.service.jobs.start("nightly-vdi", "tester")
    wait_for(lambda: site.service.jobs.get(first["id"])["state"] == "running")
    assert site.service.jobs.get(second["id"])["state"] == "queued"
    site.service.jobs.wait(second["id"], 120)
    a, b = site.service.jobs.get(first["id"]), site.service.jobs.get(second["id"])
    assert (a["state"], b["state"]) == ("done", "done"), (a["error"], b["error"])
    assert a["ended"] <= b["started"]  # never both on the drive at once


def test_a_job_waits_while_the_operator_holds_the_drive(make_site) -> None:
    site = make_site()
    slot = site.service.slots["lto5"]
    held = threading.Event()
    release = threading.Event()

    def operator() -> None:
        with slot.hold("labelling TST009L5"):
            held.set()
            release.wait(10)

    t = threading.Thread(target=operator)
    t.start()
    held.wait(5)
    run = site.service.jobs.start("nightly-vdi", "tester")
    time.sleep(0.5)
    snap = site.service.jobs.get(run["id"])
    assert snap["state"] == "queued" and "busy: labelling TST009L5" in (snap["waiting"] or "")
    release.set()
    t.join()
    site.service.jobs.wait(run["id"], 60)
    assert site.service.jobs.get(run["id"])["state"] == "done"


def test_waiting_for_a_tape_names_it_and_goes_on_when_it_comes(make_site) -> None:
    site = make_site()
    inv = site.service.inventory
    for tape in inv.tapes():
        if tape["generation"] == "LTO-5":
            site.service.move_tape(tape["barcode"], "offsite", "tester")
    run = site.service.jobs.start("nightly-vdi", "tester")
    wait_for(lambda: site.service.jobs.get(run["id"])["state"] == "waiting-for-tape")
    snap = site.service.jobs.get(run["id"])
    assert "pool vdi-daily" in snap["waiting"] and "drive lto5" in snap["waiting"]
    assert site.service.sets() == []
    site.service.move_tape("TST003L5", "shelf", "tester")  # the onsite person brings one back
    site.service.jobs.wait(run["id"], 60)
    final = site.service.jobs.get(run["id"])
    assert final["state"] == "done", final["error"]
    assert site.service.sets()[-1]["barcode"] == "TST003L5"


def test_cancel_while_queued_waiting_and_running(make_site, tmp_path: Path) -> None:
    site = make_site(rate=4, buffer=1, part_mib=64)
    make_tree(site.folder / "data")
    inv = site.service.inventory
    # running: cancel takes effect at the next record, not after the rest of a 64 MiB part at 4 MB/s (16 s);
    # the set ends there, cut short and closed by its filemark; the members before it are on tape and recorded
    run = site.service.jobs.start("nightly-vdi", "tester")
    wait_for(lambda: site.service.jobs.get(run["id"])["bytes"] > 2_000_000)
    asked = time.monotonic()
    answer = site.service.jobs.cancel(run["id"], "tester")
    assert answer["cancelling"] and answer["state"] == "running"  # what the console shows at once
    site.service.jobs.wait(run["id"], 60)
    assert time.monotonic() - asked < 5
    final = site.service.jobs.get(run["id"])
    assert final["state"] == "cancelled" and not final.get("cancelling")
    s = site.service.sets()[-1]
    assert s["state"] == "cancelled" and inv.tape(s["barcode"])["bytes_used"] > s["bytes"] > 0
    assert "no manifest" in s["error"]
    tar_file = site.tape_file("lto5", s["file"], tmp_path / "c.tar")
    (tmp_path / "c").mkdir()
    subprocess.run(["tar", "-b", "512", "-xf", str(tar_file), "-C", str(tmp_path / "c")], check=False)
    members = inv.get_set(s["id"])["members"]
    assert members
    for member in members:  # plain tar reads every member recorded before the cut
        assert (tmp_path / "c" / member["name"]).stat().st_size == member["size"]
    # queued behind another run on the same drive: cancelled at once, never started
    first = site.service.jobs.start("nightly-vdi", "tester")
    second = site.service.jobs.start("remote-chains", "tester")
    site.service.jobs.cancel(second["id"], "tester")
    assert site.service.jobs.get(second["id"])["state"] == "cancelled"
    site.service.jobs.cancel(first["id"], "tester")
    site.service.jobs.wait(first["id"], 60)
    # waiting for a tape: cancelled without touching any tape
    for tape in inv.tapes():
        if tape["generation"] == "LTO-4" and tape["location"] == "shelf":
            site.service.move_tape(tape["barcode"], "offsite", "tester")
    files = site.service.jobs.start("nightly-files", "tester")
    wait_for(lambda: site.service.jobs.get(files["id"])["state"] == "waiting-for-tape")
    site.service.jobs.cancel(files["id"], "tester")
    site.service.jobs.wait(files["id"], 30)
    assert site.service.jobs.get(files["id"])["state"] == "cancelled"
    assert not [s for s in site.service.sets() if s["job"] == "nightly-files"]


def test_the_drive_says_its_block_while_a_set_is_written(make_site) -> None:
    """st forgets the block number after spacing to end of data; while writing, the daemon knows it: where the
    set began (MTIOCPOS) plus the records written since."""
    site = make_site(rate=4, buffer=1)
    run = site.service.jobs.start("nightly-vdi", "tester")
    wait_for(lambda: site.service.jobs.get(run["id"])["bytes"] > 1_000_000)
    first = site.service.slots["lto5"].describe()["position"]
    time.sleep(0.5)
    later = site.service.slots["lto5"].describe()["position"]
    site.service.jobs.cancel(run["id"], "tester")
    site.service.jobs.wait(run["id"], 60)
    assert first["file"] >= 1 and first["block"] > 0, first
    assert later["block"] > first["block"], (first, later)


def test_a_run_names_its_rates_and_none_is_above_the_drive_onto_the_tape(make_site) -> None:
    """Into the buffer, to the drive (whose own buffer takes bursts) and onto the tape, over one window; the
    run's one rate is the tape's, never above the drive's speed."""
    site = make_site(rate=4, buffer=1)
    run = site.service.jobs.start("nightly-vdi", "tester")
    wait_for(lambda: site.service.jobs.get(run["id"])["bytes"] > 1_000_000)
    seen = []
    for _ in range(15):
        seen.append(site.service.jobs.get(run["id"]))
        time.sleep(0.2)
    site.service.jobs.cancel(run["id"], "tester")
    site.service.jobs.wait(run["id"], 60)
    live = [s for s in seen if s["state"] == "running"]
    assert live and all(s["rate_is"] == "onto tape" and s["rates"]["window_seconds"] == 5.0 for s in live)
    assert all(s["rate"] == s["rates"]["onto_tape"] for s in live)
    assert all(s["rate"] <= 4e6 * 1.1 for s in live), [s["rate"] for s in live]  # the drive's 4 MB/s
    assert all(s["rates"]["into_buffer"] >= 0 and s["rates"]["to_drive"] >= 0 for s in live)
