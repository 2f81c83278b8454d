"""tapeconsole plan [--json] [--fresh]: will tonight's backups fit their tapes, and for how long.

Prints one row per job (its next run, the expected size, the tape it gets, the room on it, the verdict),
then what each estimate rests on and the forecast sentences, then each pool's tapes against its retention.
Exit 0 when every job fits the tape it gets tonight, 1 when one will spill or find no tape (named on stderr).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from rich.table import Table

from console.cli.terminal import stdout_console
from console.client.daemon_client import connect
from console.config.schema import Config
from console.wire.plan_words import size

Json = dict[str, Any]
PLAN_TIMEOUT = 300.0  # XO calls and tree walks: the daemon takes its time
VERDICT_STYLE = {"fits": "green", "tight": "yellow", "spills": "red", "no tape": "bold red", "unknown": "dim"}
_out = stdout_console()


def add_plan_command(sub: Any) -> None:
    plan = sub.add_parser("plan", help="tonight's expected size of each job against its tape, and the forecast")
    plan.add_argument("--json", action="store_true", help="print the daemon's plan as JSON")
    plan.add_argument("--fresh", action="store_true", help="work it out again (the daemon keeps it a minute)")


def _when(iso: str | None) -> str:
    if not iso:
        return "when run"
    day, _, clock = iso.partition("T")
    return f"{day[5:]} {clock[:5]}"


def _verdict(job: Json) -> str:
    space = job["space"]
    verdict = space["verdict"]
    if verdict in ("fits", "tight") and space.get("room"):
        verdict += f" ({space['expected'] / space['room']:.0%})"
    elif verdict == "spills":
        verdict += f" onto {space['tapes_needed'] - 1} more"
    return f"[{VERDICT_STYLE.get(space['verdict'], '')}]{verdict}[/]"


def print_plan(plan: Json) -> None:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("job", "next run", "expected", "tape", "room", "verdict"):
        table.add_column(column, justify="right" if column in ("expected", "room") else "left")
    for job in plan["jobs"]:
        tape = job["space"].get("tape") or {}
        estimate = job["estimate"]
        expected = size(estimate["bytes"]) if estimate["bytes"] is not None else "?"
        if estimate["bytes"] is not None and not estimate["exact"]:
            expected = "~" + expected
        table.add_row(job["job"], _when(job.get("next_run")), expected, tape.get("label") or tape.get("barcode") or "-",
                      size(job["space"]["room"]) if job["space"].get("room") is not None else "-", _verdict(job))
    _out.print(table)
    for job in plan["jobs"]:
        estimate = job["estimate"]
        _out.print(f"\n[bold]{job['job']}[/] ({job['source']}, drive {job['drive']}, pool {job['pool']})", markup=True)
        _out.print(f"  estimate: {estimate['error'] or estimate['basis']}", markup=False)
        _out.print(f"  tape: {job['space']['text']}", markup=False)
        _out.print(f"  forecast: {job['sentence']}", markup=False)
    if plan.get("pools"):
        _out.print("")
        for pool in plan["pools"]:
            _out.print(pool["sentence"], markup=False)


def cmd_plan(config: Config, args: argparse.Namespace) -> int:
    with connect(config, autostart=True) as client:
        plan = client.get("/plan?fresh=1" if args.fresh else "/plan", timeout=PLAN_TIMEOUT)
    if args.json:
        print(json.dumps(plan, indent=2))
    else:
        print_plan(plan)
    if plan["will_not_fit"]:
        print(f"tapeconsole: will not fit the tape it gets tonight: {', '.join(plan['will_not_fit'])}",
              file=sys.stderr)
        return 1
    return 0


PLAN_COMMANDS: dict[str, Callable[[Config, argparse.Namespace], int]] = {"plan": cmd_plan}
