"""The console shows what rotation knows: a tape's computed state (expired) in the tape table, filtered and
sorted by it, and each job's next tape (or why there is none) in the job queue, readable at 80x24."""

from __future__ import annotations

import copy

from tests.console.fake_daemon import recording
from tests.console.test_widgets import Holder
from widgets.job_queue import JobQueue
from widgets.tape_table import TapeFilter, TapeTable


async def test_the_tape_table_shows_filters_and_sorts_by_state() -> None:
    tapes = copy.deepcopy(recording("morning")["/tapes"])
    for t in tapes:
        t["state"] = "expired" if t["barcode"] in ("DEM001L5", "DEM101L4") else t["status"]
    table = TapeTable()
    async with Holder(table).run_test(size=(120, 30)) as pilot:
        table.show(tapes)
        await pilot.pause()
        assert str(table.get_row("DEM001L5")[2]) == "expired" and str(table.get_row("DEM002L5")[2]) == "writable"
        table.set_filter(TapeFilter(status="expired"))
        assert sorted(str(k.value) for k in table.rows) == ["DEM001L5", "DEM101L4"]
        table.set_filter(TapeFilter(status="writable"))
        assert sorted(str(k.value) for k in table.rows) == ["DEM002L5", "DEM102L4"]
        table.set_filter(TapeFilter())
        table.sort_by("status")
        order = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert [s for s in order if s in ("writable", "expired")] == ["writable", "writable", "expired", "expired"]


async def test_each_idle_job_shows_its_next_tape_or_why_not() -> None:
    answers = copy.deepcopy(recording("morning"))
    jobs = answers["/jobs"]
    jobs[0].update(next_tape={"barcode": "DEM003L5", "label": None, "reason": "blank", "location": "shelf",
                              "needs_label": True}, next_tape_problem=None)
    jobs[1].update(next_tape=None, next_tape_problem="no usable LTO-4 tape of pool files-daily here: bring back "
                                                     "DEM101L4 from offsite-vault (expired 2026-12-10)")
    queue = JobQueue()
    async with Holder(queue).run_test(size=(80, 24)) as pilot:
        queue.show(jobs, answers["/runs"])
        await pilot.pause()
        vdi, files = queue.get_row("job:nightly-vdi"), queue.get_row("job:nightly-files")
        assert str(vdi[7]) == "next DEM003L5" and str(vdi[9]) == "xo source"
        assert str(files[7]) == "no tape" and str(files[9]).startswith("no usable LTO-4 tape")
        assert files[9].style == "red" or any(span.style == "red" for span in files[9].spans)
        del jobs[0]["next_tape"], jobs[0]["next_tape_problem"]  # an older daemon: the pool, as before
        queue.show(jobs, answers["/runs"])
        assert str(queue.get_row("job:nightly-vdi")[7]) == "pool vdi-daily"
