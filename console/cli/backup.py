"""`tapeconsole backup JOB [--wait]`: start a job in the daemon and follow it with a progress bar."""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn
from rich.table import Column

from console.client.daemon_client import DaemonClient
from console.wire import units
from console.wire.states import FINISHED

POLL_SECONDS = 0.5


def follow(client: DaemonClient, run: dict[str, Any], *, show: bool) -> dict[str, Any]:
    """Poll the run until it finishes; draw a progress bar on a terminal. Returns the final run."""
    if not show:
        while run["state"] not in FINISHED:
            time.sleep(POLL_SECONDS)
            run = client.get(f"/runs/{run['id']}")
        return run
    console = Console(stderr=True)
    with Progress(*progress_columns(), console=console, transient=False, expand=True) as progress:
        task = progress.add_task("backup", total=None, **progress_fields(run))
        while True:
            progress.update(task, completed=run.get("bytes") or 0, total=_total(run), **progress_fields(run))
            if run["state"] in FINISHED:
                break
            time.sleep(POLL_SECONDS)
            run = client.get(f"/runs/{run['id']}")
    return run


def progress_columns() -> tuple[ProgressColumn, ...]:
    """The numbers get their room first (sizes, the daemon's rate and ETA); the bar has a fixed width and the
    member's name takes what is left, cut with an ellipsis."""
    return (
        TextColumn("[bold]{task.fields[job]}[/] {task.fields[tape]}", table_column=Column(no_wrap=True)),
        BarColumn(bar_width=16),
        TextColumn("{task.fields[numbers]}", table_column=Column(no_wrap=True)),
        TextColumn("{task.fields[member]}", table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1)),
    )


def _total(run: dict[str, Any]) -> float | None:
    """The bar's whole: a known size, or for an estimate the daemon's fraction (never full before the end)."""
    done = run.get("bytes") or 0
    if run.get("fraction") is not None and run.get("state") not in FINISHED and done:
        return done / max(run["fraction"], 1e-9)
    return max(run.get("expected_bytes") or 0, done) or None


def progress_fields(run: dict[str, Any]) -> dict[str, str]:
    """What the daemon says of the run, in the console's units: bytes on tape of the expected size (`~` for an
    estimate), its rate (onto the tape, over its window) and ETA."""
    approx = "~" if run.get("expected_is_estimate") else ""
    expected = f" of {approx}{units.size(run['expected_bytes'])}" if run.get("expected_bytes") else ""
    eta = f" · ETA {approx}{units.duration(run['eta_seconds'])}" if run.get("eta_seconds") is not None else ""
    return {
        "job": run["job"],
        "tape": f"→ {run['tape']}" if run.get("tape") else "",
        "numbers": f"{units.size(run.get('bytes') or 0)}{expected} · {units.rate(run.get('rate'))}{eta}",
        "member": units.short_name(run.get("member")) if run.get("member") else "",
    }


def all_sets_complete(client: DaemonClient, run: dict[str, Any]) -> bool:
    sets = {s["id"]: s for s in client.get("/sets")}
    states = [sets[i]["state"] for i in run.get("sets", []) if i in sets]
    return bool(states) and states[-1] == "complete" and all(s in ("complete", "incomplete") for s in states)


def summary(run: dict[str, Any]) -> str:
    tapes = ", ".join(run.get("tapes") or []) or "no tape"
    count = len(run.get("sets") or [])
    done = units.size(run.get("bytes") or 0)
    line = f"{run['job']} run {run['id']}: {run['state']}, {done} in {count} set(s) on {tapes}"
    if run.get("error"):
        line += f": {run['error']}"
    return line


def is_terminal() -> bool:
    return sys.stdout.isatty()
