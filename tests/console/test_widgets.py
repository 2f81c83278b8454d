"""The reusable widgets: keyed tables updated in place, the zero-anchored sparkline, big words, units."""

from __future__ import annotations

import copy

from textual.app import App, ComposeResult

from console.wire import units
from tests.console.fake_daemon import recording
from widgets.big_text import GLYPHS, big_lines
from widgets.drive_panel import DrivePanel
from widgets.job_queue import JobQueue
from widgets.rate_graph import RateGraph
from widgets.tape_table import TapeFilter, TapeTable


class Holder(App[None]):
    def __init__(self, *widgets) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.widgets = widgets

    def compose(self) -> ComposeResult:
        yield from self.widgets


async def test_the_queue_updates_changed_cells_only_and_keeps_the_cursor() -> None:
    answers = copy.deepcopy(recording("streaming"))
    queue = JobQueue()
    async with Holder(queue).run_test(size=(160, 20)) as pilot:
        queue.show(answers["/jobs"], answers["/runs"])
        await pilot.pause()
        assert [str(k.value) for k in queue.rows] == ["run:3", "run:4", "run:2", "run:1"]
        assert [str(queue.get_row_at(i)[0]) for i in range(4)] == ["#3", "#4", "#2", "#1"]
        queue.move_cursor(row=queue.get_row_index("run:4"))
        added, updated = [], []
        real_add = queue.add_row
        queue.add_row = lambda *a, **k: (added.append(k["key"]), real_add(*a, **k))[1]  # type: ignore[method-assign]
        real_update = queue.update_cell
        queue.update_cell = lambda *a, **k: (updated.append(a[:2]), real_update(*a, **k))  # type: ignore[method-assign]
        answers["/runs"][3]["bytes"] += 300 * 2**20
        queue.show(answers["/jobs"], answers["/runs"])
        assert added == [] and {u[0] for u in updated} == {"run:4"} and ("run:4", "progress") in updated
        updated.clear()
        answers["/runs"][2].update(state="done", rate=0.0, eta_seconds=None, buffer=None)  # run 3 ends: it moves down
        queue.show(answers["/jobs"], answers["/runs"])
        await pilot.pause()
        assert added == ["job:nightly-vdi"]  # the job is idle again: its row comes back, the others stay
        assert [str(queue.get_row_at(i)[0]) for i in range(5)] == ["#4", "-", "#3", "#2", "#1"]
        assert queue.selected_key() == "run:4", "the cursor stays on the row the operator chose"


async def test_the_tape_table_filters_and_sorts() -> None:
    tapes = recording("morning")["/tapes"]
    table = TapeTable()
    async with Holder(table).run_test(size=(160, 30)) as pilot:
        table.show(tapes)
        await pilot.pause()
        assert table.row_count == 13
        table.set_filter(TapeFilter(pool="vdi-daily"))
        assert sorted(str(k.value) for k in table.rows) == ["DEM001L5", "DEM002L5"]
        table.set_filter(TapeFilter(status="blank", place="shelf"))
        assert table.row_count == 9
        table.set_filter(TapeFilter(pool=""))  # tapes in no pool
        assert table.row_count == 9
        table.set_filter(TapeFilter())
        table.sort_by("used")
        table.sort_by("used")  # again: largest first
        await pilot.pause()
        assert [str(table.get_row_at(i)[0]) for i in range(4)] == ["DEM002L5", "DEM001L5", "DEM102L4", "DEM101L4"]
        assert "used ▼" in [str(c.label) for c in table.columns.values()]


async def test_the_drive_panel_counts_the_running_set_into_the_tape_fill() -> None:
    answers = recording("streaming")
    drive = next(d for d in answers["/drives"] if d["name"] == "lto5")
    tape = next(t for t in answers["/tapes"] if t["barcode"] == "DEM002L5")
    run = next(r for r in answers["/runs"] if r["id"] == 3)
    panel = DrivePanel("lto5")
    async with Holder(panel).run_test(size=(60, 12)) as pilot:
        panel.show(drive, tape, run, 0.0)
        await pilot.pause()
        line = str(panel.query_one("#tape").content)
        assert line.startswith("DEM002L5 vdi-daily") and line.endswith(" 40%")  # 1.6 GiB of 4 GiB, live
        assert str(panel.query_one("#job").content) == "nightly-vdi › mail01_mailstore.vhd"
        assert str(panel.query_one("#rate").content) == "33.7 MB/s"
        assert str(panel.query_one("#written").content) == "written 1.7 GB · ETA 21s"
        assert str(panel.query_one("#buffer").content).endswith("38% · underruns 3")


def test_the_sparkline_fills_its_width_newest_on_the_right() -> None:
    samples = [10.0] * 8 + [40.0] * 4
    assert RateGraph(samples).columns(20) == [None] * 8 + samples  # a column per sample while they fit
    assert RateGraph(samples).columns(5) == [None, 10.0, 10.0, 20.0, 40.0]  # then three samples a column
    assert len(RateGraph([1.0] * 1000, keep=300).samples) == 300


def test_big_words_are_three_lines_of_even_width() -> None:
    assert all(len(row) == 3 for glyph in GLYPHS.values() for row in glyph)
    first, second, third = big_lines("DEM001L5")
    assert len(first) == len(second) == len(third) == 8 * 4 - 1


def test_units() -> None:
    assert units.size(2422996992) == "2.4 GB" and units.size(None) == "-"
    assert units.rate(33660180.1) == "33.7 MB/s"
    assert [units.duration(s) for s in (4.6, 192, 3840, None)] == ["5s", "3m12s", "1h04m", "-"]
    assert units.bar(0.5, 4) == "██░░" and units.bar(None, 3) == "░░░" and units.bar(1.0, 2) == "██"
    assert units.short_name("vms/mail01-8707230e/mail01_system-5b5da34d-6823-4ab8-aadf-f477292971df.vhd") == \
        "mail01_system.vhd"
    assert units.when("2026-11-26T19:58:31+00:00") == "11-26 19:58"


def test_a_run_sized_by_an_estimate_shows_tilde_and_never_100_percent_before_done() -> None:
    from widgets.job_queue import run_cells

    run = {"id": 7, "job": "nightly-files", "drive": "lto4", "state": "running", "bytes": 444_000_000,
           "expected_bytes": 378_000_000, "expected_is_estimate": True, "fraction": 0.99, "rate": 40e6,
           "eta_seconds": 30.0, "tapes": ["DEM101L4"]}
    cells = [str(c) for c in run_cells(run)]
    assert "~99%" in cells[4] and "100%" not in cells[4]
    assert cells[6] == "~30s"
    known = [str(c) for c in run_cells({**run, "expected_is_estimate": False, "fraction": 0.5})]
    assert "~" not in known[4] + known[6] and "50%" in known[4]
