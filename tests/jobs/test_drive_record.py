"""Every finished run records how the drive did; a source slower than the drive's floor is said at once."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import pytest

from console.engine.jobs.stream_watch import StreamWatch
from console.engine.notify import drive_lines
from console.engine.pipeline.buffer import BufferStats
from tests.jobs.conftest import make_tree

MB = 1_000_000


def test_a_finished_run_records_tape_rate_underruns_and_cpu(make_site) -> None:
    site = make_site(rate=20, buffer=2)
    make_tree(site.folder / "data")
    run = site.run_job("nightly-files")
    assert run["state"] == "done", run["error"]
    stored = next(r for r in site.service.inventory.runs() if r["id"] == run["id"])  # what `jobs --json` lists
    for record in (run, stored):
        assert 0 < record["tape_rate"] <= 20 * MB * 1.05  # the virtual drive's native rate caps it
        assert record["underruns"] >= 0 and record["cpu_seconds"] > 0
        assert record["floor_rate"] == 20 * MB / 3 and isinstance(record["streamed"], bool)
        assert record["streamed"] == (record["underruns"] == 0 and record["tape_rate"] >= record["floor_rate"])
        assert record["cpu_shared_with"] == []
    assert stored["writing_seconds"] * stored["tape_rate"] == pytest.approx(stored["bytes"], rel=0.02)  # rounded to ms


def _stats(in_rate: float, *, out: int = 1, state: str = "streaming") -> BufferStats:
    return BufferStats(capacity=8, fill=4, bytes_in=10, bytes_out=out, underruns=0, state=state, in_rate=in_rate,
                       out_rate=in_rate)


def test_the_watch_warns_after_its_patience_and_clears_when_the_rate_recovers(caplog) -> None:
    caplog.set_level(logging.INFO, "tapeconsole.jobs")
    now = [0.0]
    run = SimpleNamespace(stream_risk=None, id=7, buffer=None)
    watch = StreamWatch(run, "nightly-files", "lto4", 40 * MB, patience=10, clock=lambda: now[0])
    watch.check(_stats(5 * MB, out=0, state="filling"))  # the initial fill: not judged
    assert run.stream_risk is None
    for t in range(0, 10):
        now[0] = float(t)
        watch.check(_stats(13 * MB))
        assert run.stream_risk is None  # not yet: a short dip is no risk
    now[0] = 10.0
    watch.check(_stats(13 * MB))
    assert run.stream_risk == ("the source gives 13.0 MB/s, below drive lto4's floor of 40 MB/s: "
                               "the drive will stop and reposition (shoe-shine)")
    assert "job nightly-files run 7: the source gives 13.0 MB/s" in caplog.text
    now[0] = 11.0
    watch.check(_stats(41 * MB))  # above the floor, not yet clearly: the warning stays
    assert run.stream_risk is not None
    watch.check(_stats(120 * MB))
    assert run.stream_risk is None and watch.warnings == 1
    assert "back to 120.0 MB/s" in caplog.text


def test_the_morning_summary_says_whether_each_drive_streamed() -> None:
    runs = [
        {"job": "nightly-files", "drive": "lto4", "tape_rate": 118.2e6, "underruns": 0, "cpu_seconds": 61.04,
         "floor_rate": 40e6, "streamed": True, "cpu_shared_with": [12]},
        {"job": "nightly-vdi", "drive": "lto5", "tape_rate": 31e6, "underruns": 3, "cpu_seconds": 20.0,
         "floor_rate": 47e6, "streamed": False, "cpu_shared_with": []},
        {"job": "failed-early", "drive": "lto5", "tape_rate": None},
    ]
    assert drive_lines(runs) == [
        "", "Drives:",
        "  lto4   nightly-files        streamed: 118.2 MB/s onto tape, 0 underrun(s) after the initial fill, "
        "61.0 daemon CPU s (shared with runs at the same time)",
        "  lto5   nightly-vdi          did not stream (shoe-shine): 31.0 MB/s onto tape (floor 47 MB/s), "
        "3 underrun(s) after the initial fill, 20.0 daemon CPU s",
    ]
    assert drive_lines([]) == []
