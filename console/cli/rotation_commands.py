"""`tapeconsole jobs` (the jobs with their next tape, then the runs), `tapeconsole swap-list` (the morning swap
list on a terminal: take offsite, put in, bring back) and `tapeconsole mark BARCODE damaged|retired|ok`.

main.py adds them with add_rotation_commands(sub) and dispatches through ROTATION_COMMANDS.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from console.cli import render
from console.client.daemon_client import connect
from console.config.schema import Config

MARKS = ("damaged", "retired", "ok")


def add_rotation_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    mark = sub.add_parser("mark", help="mark a tape damaged or retired (never written again), or back with ok")
    mark.add_argument("barcode")
    mark.add_argument("status", choices=MARKS)
    swap_list = sub.add_parser("swap-list", help="the morning swap list: take offsite, put in, bring back")
    swap_list.add_argument("--json", action="store_true", help="print JSON")


def cmd_jobs(config: Config, args: argparse.Namespace) -> int:
    """The configured jobs with their next tape, then the runs (--json: the runs, as before)."""
    with connect(config, autostart=True) as client:
        runs = client.get("/runs")
        jobs = [] if args.json else client.get("/jobs")
    if args.json:
        print(json.dumps(runs, indent=2))
        return 0
    render.jobs(jobs)
    print()
    render.runs(runs)
    return 0


def cmd_swap_list(config: Config, args: argparse.Namespace) -> int:
    with connect(config, autostart=True) as client:
        plan = client.get("/swap-list")
    if args.json:
        print(json.dumps(plan, indent=2))
    else:
        print(render.swap_list(plan))
    return 0


def cmd_mark(config: Config, args: argparse.Namespace) -> int:
    with connect(config, autostart=True) as client:
        tape = client.post(f"/tapes/{args.barcode}/status", {"status": args.status})
    print(f"tape {tape['barcode']} ({tape.get('label') or 'unlabelled'}) is now {tape.get('state') or tape['status']}")
    return 0


ROTATION_COMMANDS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "mark": cmd_mark,
    "swap-list": cmd_swap_list,
}
