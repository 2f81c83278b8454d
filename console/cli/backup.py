"""`tapeconsole backup JOB [--wait]`: start a job in the daemon and follow it with a progress bar."""

from __future__ import annotations

import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

from console.client.daemon_client import DaemonClient
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
    columns = (
        TextColumn("[bold]{task.fields[job]}[/] {task.fields[tape]}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[member]}"),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task("backup", total=run.get("expected_bytes") or None, job=run["job"], tape="",
                                 member="")
        while True:
            progress.update(
                task,
                completed=run.get("bytes") or 0,
                total=max(run.get("expected_bytes") or 0, run.get("bytes") or 0) or None,
                tape=f"→ {run['tape']}" if run.get("tape") else "",
                member=(run.get("member") or "")[-48:],
            )
            if run["state"] in FINISHED:
                break
            time.sleep(POLL_SECONDS)
            run = client.get(f"/runs/{run['id']}")
    return run


def all_sets_complete(client: DaemonClient, run: dict[str, Any]) -> bool:
    sets = {s["id"]: s for s in client.get("/sets")}
    states = [sets[i]["state"] for i in run.get("sets", []) if i in sets]
    return bool(states) and states[-1] == "complete" and all(s in ("complete", "incomplete") for s in states)


def summary(run: dict[str, Any]) -> str:
    tapes = ", ".join(run.get("tapes") or []) or "no tape"
    size = (run.get("bytes") or 0) / 1024**2
    count = len(run.get("sets") or [])
    line = f"{run['job']} run {run['id']}: {run['state']}, {size:.1f} MiB in {count} set(s) on {tapes}"
    if run.get("error"):
        line += f": {run['error']}"
    return line


def is_terminal() -> bool:
    return sys.stdout.isatty()
