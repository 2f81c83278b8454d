"""The job queue: running runs with their progress, runs waiting for a tape, queued runs, the jobs that run
later (their next time from the schedule), and recent history.

Rows are keyed (run:ID, job:NAME) and updated in place, cell by cell, inside one batch: the table is
never cleared, so the cursor and the scroll position stay where the operator left them.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from console.wire import units
from console.wire.states import ACTIVE

Json = dict[str, Any]
COLUMNS = ("run", "job", "drive", "state", "progress", "rate", "ETA", "tape", "when", "note")
STATE_STYLE = {"running": "bold green", "waiting-for-tape": "bold yellow", "cancelling": "bold yellow",
               "queued": "cyan", "scheduled": "dim", "idle": "dim",
               "done": "", "failed": "bold red", "cancelled": "yellow", "interrupted": "yellow"}
STATE_WORDS = {"waiting-for-tape": "waiting for tape"}
HISTORY = 30


def _approx(run: Json) -> str:
    """`~` before a figure worked out from an estimate (a files job's compressed size)."""
    return "~" if run.get("expected_is_estimate") else ""


def _progress(run: Json) -> str:
    done, expected = run.get("bytes") or 0, run.get("expected_bytes")
    part = run.get("fraction")
    if part is None and expected:
        part = units.fraction(done, max(expected, done))
    if run.get("state") == "running" and part is not None:
        return f"{units.bar(part, 8)} {_approx(run)}{units.percent(part)} {units.size(done)}"
    return units.size(done) if done else "-"


def eta_text(run: Json) -> str:
    if run.get("eta_seconds") is None:
        return "-"
    return _approx(run) + units.duration(run.get("eta_seconds"))


def _texts(*cells: str) -> tuple[Text, ...]:
    """Cells as Text: a str cell would be read as markup, and a daemon's error may hold brackets."""
    return tuple(Text(cell, no_wrap=True, end="") for cell in cells)


def run_cells(run: Json) -> tuple[Text, ...]:
    state = run.get("state", "?")
    if run.get("cancelling") and state in ACTIVE:  # asked for: it stops at the next record
        state = "cancelling"
    running = state == "running"
    note = run.get("error") or run.get("waiting") or ""
    if state == "cancelling" and not note:
        note = "stopped taking data: the drive writes out what it holds, then the filemark"
    if not note and running and run.get("member"):
        note = units.short_name(run["member"])
    cells = _texts(
        f"#{run['id']}",
        run.get("job") or run.get("name") or "?",
        run.get("drive") or "-",
        STATE_WORDS.get(state, state),
        _progress(run),
        units.rate(run.get("rate")) if running else "-",
        eta_text(run) if running else "-",
        ", ".join(run.get("tapes") or []) or run.get("tape") or "-",
        units.when(run.get("ended") or run.get("started") or run.get("queued")),
        note,
    )
    cells[3].stylize(STATE_STYLE.get(state, ""))
    if run.get("error") or run.get("waiting"):
        cells[-1].stylize("red" if run.get("error") else "yellow")
    return cells


def idle_cells(job: Json) -> tuple[Text, ...]:
    """A job with no run in the queue: when it runs next (its cron schedule), or on demand, and the tape its
    next run takes (or why there is none, in red)."""
    state = "scheduled" if job.get("next_run") else "idle"
    when = units.when(job.get("next_run")) if job.get("next_run") else "on demand"
    note = f"cron {job['schedule']}" if job.get("schedule") else f"{job['source']} source"
    tape, problem = job.get("next_tape"), job.get("next_tape_problem")
    shown = f"next {tape.get('label') or tape['barcode']}" if tape else "no tape" if problem else f"pool {job['pool']}"
    cells = _texts("-", job["name"], job["drive"], state, "-", "-", "-", shown, when, problem or note)
    cells[3].stylize(STATE_STYLE[state])
    if problem:
        cells[7].stylize("red")
        cells[-1].stylize("red")
    return cells


class JobQueue(DataTable[Any]):
    """Call show(jobs, runs) with each poll."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=True)
        self._cells: dict[str, tuple[Text, ...]] = {}
        self._order: dict[str, tuple[int, int]] = {}
        self.runs: dict[str, Json] = {}

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column, key=column)

    def wanted_rows(self, jobs: list[Json], runs: list[Json]) -> dict[str, tuple[tuple[int, int], tuple]]:
        """Row key -> (sort rank, cells), in queue order: running, waiting for a tape, queued, the jobs
        that run later, then history newest first."""
        rows: dict[str, tuple[tuple[int, int], tuple]] = {}
        active_jobs = set()
        for run in runs:
            if run.get("state") in ACTIVE:
                active_jobs.add(run.get("job") or run.get("name"))
                rows[f"run:{run['id']}"] = ((ACTIVE.index(run["state"]), run["id"]), run_cells(run))
        for index, job in enumerate(jobs):
            if job["name"] not in active_jobs:
                rows[f"job:{job['name']}"] = ((len(ACTIVE), index), idle_cells(job))
        finished = [r for r in runs if r.get("state") not in ACTIVE]
        for run in sorted(finished, key=lambda r: r["id"], reverse=True)[:HISTORY]:
            rows[f"run:{run['id']}"] = ((len(ACTIVE) + 1, -run["id"]), run_cells(run))
        return rows

    def show(self, jobs: list[Json], runs: list[Json]) -> None:
        self.runs = {f"run:{r['id']}": r for r in runs}
        wanted = self.wanted_rows(jobs, runs)
        reorder = False
        with self.app.batch_update():
            for key in [k for k in self._cells if k not in wanted]:
                self.remove_row(key)
                del self._cells[key]
                self._order.pop(key, None)
                reorder = True
            for key, (rank, cells) in wanted.items():
                old = self._cells.get(key)
                if old is None:
                    self.add_row(*cells, key=key)
                    reorder = True
                elif old != cells:
                    for column, value, before in zip(COLUMNS, cells, old, strict=True):  # only what changed
                        if value != before:
                            self.update_cell(key, column, value, update_width=value.cell_len > before.cell_len)
                self._cells[key] = cells
                if self._order.get(key) != rank:
                    self._order[key] = rank
                    reorder = True
            if reorder:
                self._sort()

    def _sort(self) -> None:
        current = self.selected_key()
        by_cells = {(str(cells[0]), str(cells[1])): self._order[key] for key, cells in self._cells.items()}
        self.sort("run", "job", key=lambda cells: by_cells.get((str(cells[0]), str(cells[1])), (9, 0)))
        if current is not None and current in self._cells:
            self.move_cursor(row=self.get_row_index(current), animate=False, scroll=False)

    def selected_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        except CellDoesNotExist:  # the cursor points past the last row while rows are removed
            return None

    def selected_run(self) -> Json | None:
        key = self.selected_key()
        return self.runs.get(key) if key else None

    def selected_job(self) -> str | None:
        key = self.selected_key()
        if key is None:
            return None
        if key.startswith("job:"):
            return key.removeprefix("job:")
        run = self.runs.get(key)
        return (run.get("job") or run.get("name")) if run else None
