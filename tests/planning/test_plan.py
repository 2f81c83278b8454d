"""The whole plan of a site: history per night from the runs, the trend against its tapes, the verdicts."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from console.engine.planning.history import job_nights
from console.engine.planning.plan import Planner
from tests.planning.conftest import MB, Clock, add_tape, make_config, make_inventory, sparse_file

CAP = 100 * MB
USABLE = CAP - 262144 - CAP // 50  # one tape of the pool, freshly labelled


def run(inventory, night: str, nbytes: int, *, state: str = "done", at: str = "22:30", source: int | None = None):
    started = datetime.fromisoformat(f"{night}T{at}").astimezone().isoformat()
    return inventory.add_run({"job": "nightly-files", "state": state, "started": started, "bytes": nbytes,
                              "source_bytes": source})


def test_history_is_one_point_per_night_from_the_runs_that_finished(tmp_path: Path) -> None:
    clock = Clock("2026-11-26T07:00")
    config = make_config(tmp_path)
    inventory = make_inventory(tmp_path, config, clock)
    run(inventory, "2026-11-20", 10 * MB)
    run(inventory, "2026-11-21", 99 * MB, state="failed")  # says nothing of a whole night
    run(inventory, "2026-11-22", 11 * MB, at="23:50")
    run(inventory, "2026-11-23", 12 * MB, at="01:30")  # after midnight: the night of the 22nd
    run(inventory, "2026-11-24", 13 * MB)
    run(inventory, "2026-11-24", 2 * MB, at="23:30")  # a second run the same night adds nothing
    points = [(n.night.isoformat(), n.bytes) for n in job_nights(inventory.runs(), "nightly-files")]
    assert points == [("2026-11-20", 10 * MB), ("2026-11-22", 12 * MB), ("2026-11-24", 13 * MB)]


def test_the_plan_of_a_growing_job(tmp_path: Path) -> None:
    clock = Clock("2026-11-26T07:00")
    config = make_config(tmp_path)
    inventory = make_inventory(tmp_path, config, clock)
    for n in range(4):
        add_tape(inventory, f"TST00{n + 1}L5", CAP)
    # 20 nights: 50 MB + 1 MB a night (tree read 2x what went to tape: a ratio of 0.5)
    first = datetime(2026, 11, 5).date()
    for n in range(20):
        night = (first + timedelta(days=n)).isoformat()
        run(inventory, night, 50 * MB + n * MB, source=2 * (50 * MB + n * MB))
    sparse_file(tmp_path / "data" / "mail.mbox", 140 * MB)
    plan = Planner(config, inventory, clock=clock).plan()
    json.dumps(plan)  # the API serves it as it is
    [job] = plan["jobs"]
    assert job["estimate"]["bytes"] == 70 * MB
    assert "the compression of its last 5 runs (0.50)" in job["estimate"]["basis"]
    assert job["next_run"].startswith("2026-11-26T22:30") and job["fits_tonight"] is True
    assert job["space"]["verdict"] == "fits" and job["space"]["tape"]["barcode"] == "TST001L5"
    assert len(job["history"]) == 20 and job["history"][-1] == {"night": "2026-11-24", "bytes": 69 * MB, "run": 20}
    forecast = job["forecast"]
    # 50 MB + 1 MB * x > USABLE (97.738 MB) first at x = 48: 2026-11-05 + 48 days
    assert forecast["crossing"] == "2026-12-23" and forecast["nights_to_crossing"] == 27
    assert forecast["trend"]["slope"] == MB and forecast["capacity"] == USABLE
    assert forecast["projection"][:2] == [{"night": "2026-11-26", "bytes": 71 * MB},
                                          {"night": "2026-11-27", "bytes": 72 * MB}]
    assert job["sentence"].startswith(
        "nightly-files outgrows one LTO-5 tape (97.7 MB) around 2026-12-23 (in 27 nights)")
    # at the horizon (night 201: 251 MB) 3 tapes a night: 14 days need 42 tapes, the pool's 4 blanks hold 1 day
    assert job["suggestions"] == ["keep 1 day instead of 14 in pool vdi-daily (retention_days), or add 38 tapes to it "
                                  "(by 2027-05-25 it takes 3 tapes a night)"]
    [pool] = plan["pools"]
    assert (pool["needed"], pool["tapes"], pool["sustainable_days"]) == (14, 4, 4)
    assert plan["will_not_fit"] == []


def test_a_job_that_will_not_fit_tonight_is_named(tmp_path: Path) -> None:
    clock = Clock("2026-11-26T07:00")
    config = make_config(tmp_path)
    inventory = make_inventory(tmp_path, config, clock)
    add_tape(inventory, "TST001L5", CAP)
    sparse_file(tmp_path / "data" / "iso", 150 * MB)
    plan = Planner(config, inventory, clock=clock).plan()
    [job] = plan["jobs"]
    assert (job["space"]["verdict"], job["fits_tonight"], plan["will_not_fit"]) == ("spills", False, ["nightly-files"])
    assert job["sentence"] == "nightly-files: no finished run yet, so no trend to forecast"
