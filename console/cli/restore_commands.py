"""tapeconsole restore | verify | scan | find: getting data back from tape, through the daemon.

  tapeconsole restore SET_ID --to DIR [--member GLOB]... [--force] [--plan] [--wait]
  tapeconsole restore SET_ID --to-xo SR_UUID [--member GLOB]... [--wait]
  tapeconsole verify TAPE_LABEL [--set SET_ID] [--wait]
  tapeconsole scan DRIVE [--background]
  tapeconsole find [PATTERN] [--vm GLOB] [--vdi GLOB] [--night YYYY-MM-DD] [--limit N] [--json]

Exit codes as for every command: 0 done (with --wait: everything asked for restored, or verified intact),
1 refused or failed (one line why, then what went wrong), 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.table import Table

from console.cli.render import size
from console.cli.terminal import stdout_console
from console.client.daemon_client import DaemonClient, connect
from console.config.schema import Config
from console.wire.states import FINISHED

Json = dict[str, Any]
Handler = Callable[[Config, argparse.Namespace], int]
POLL_SECONDS = 0.5
SHOWN_PROBLEMS = 10
_out = stdout_console()


def add_restore_commands(sub: Any) -> None:
    """Add restore, verify, scan and find to the `tapeconsole` subcommands."""
    restore = sub.add_parser("restore", help="restore a backup set to a folder, or its disks into Xen Orchestra")
    restore.add_argument("set", type=int, metavar="SET_ID", help="any set of the backup (see tapeconsole find)")
    target = restore.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="DIR", help="the folder to restore into (empty, or --force)")
    target.add_argument("--to-xo", metavar="SR_UUID", dest="to_xo", help="the SR to create the VDIs on")
    restore.add_argument("--member", action="append", default=[], metavar="GLOB",
                         help="only these: member names of a VDI set, paths inside a file-tree set (repeatable)")
    restore.add_argument("--force", action="store_true",
                         help="restore into a folder that is not empty; every file replaced is listed")
    restore.add_argument("--drive", help="the drive to read with (default: the one holding the first tape)")
    restore.add_argument("--plan", action="store_true", help="show the tapes needed and stop")
    restore.add_argument("--wait", action="store_true",
                         help="follow it; exit 0 only when everything asked for was restored")

    verify = sub.add_parser("verify", help="read a tape's sets back and check every member's checksum")
    verify.add_argument("tape", metavar="TAPE_LABEL")
    verify.add_argument("--set", type=int, dest="set_id", metavar="SET_ID", help="only this set")
    verify.add_argument("--drive", help="the drive to read with")
    verify.add_argument("--wait", action="store_true", help="follow it; exit 0 only when every set is intact")

    scan = sub.add_parser("scan", help="rebuild the inventory from the tape in a drive (its label and manifests)")
    scan.add_argument("drive")
    scan.add_argument("--background", action="store_true", help="start it and return at once")

    find = sub.add_parser("find", help="find VM disks and files that can be restored")
    find.add_argument("pattern", nargs="?", help="a path glob (no wildcard: paths containing it), or a VM name")
    find.add_argument("--vm", metavar="GLOB", help="VM disks of these VMs (name or uuid)")
    find.add_argument("--vdi", metavar="GLOB", help="VM disks with this VDI uuid or disk name")
    find.add_argument("--night", metavar="YYYY-MM-DD", help="only backups of that night (the evening's date)")
    find.add_argument("--limit", type=int, default=50)
    find.add_argument("--json", action="store_true", help="print JSON")


# ---- following a run


def _is_terminal() -> bool:
    return sys.stdout.isatty()


def follow(client: DaemonClient, run: Json, *, show: bool) -> Json:
    """Poll a restore, verify or scan until it ends; a progress bar on a terminal. Returns the final run."""
    if not show:
        while run["state"] not in FINISHED:
            time.sleep(POLL_SECONDS)
            run = client.get(f"/restores/{run['id']}")
        return run
    console = Console(stderr=True)
    columns = (TextColumn("[bold]{task.fields[what]}[/] {task.fields[tape]}"), BarColumn(),
               DownloadColumn(binary_units=True), TransferSpeedColumn(), TimeRemainingColumn(),
               TextColumn("{task.fields[member]}"))
    need = None
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(run["kind"], total=run.get("expected_bytes") or None, what=run["kind"], tape="",
                                 member="")
        while True:
            if run.get("need") and run["need"] != need:
                progress.console.print(f"[bold yellow]waiting:[/] {run['need']}")
            need = run.get("need")
            progress.update(task, completed=run.get("bytes") or 0,
                            total=max(run.get("expected_bytes") or 0, run.get("bytes") or 0) or None,
                            tape=f"← {run['tape']}" if run.get("tape") else "",
                            member=(run.get("member") or "")[-48:])
            if run["state"] in FINISHED:
                break
            time.sleep(POLL_SECONDS)
            run = client.get(f"/restores/{run['id']}")
    return run


def summary(run: Json) -> str:
    """One line: what the run did, and why not everything when it did not."""
    head = f"{run['title']} (run {run['id']}): {run['state']}"
    if run["kind"] == "restore":
        asked = (run.get("plan") or {}).get("member_count", run.get("result_count", 0))
        head += f", {run.get('results_ok', 0)} of {asked} member(s), {size(run.get('bytes'))}"
        files = sum(r.get("files", 0) for r in run.get("results") or [] if r.get("ok"))
        if files:
            head += f", {files} file(s)"
    elif run["kind"] == "verify":
        results = run.get("results") or []
        intact = sum(1 for r in results if r.get("ok"))
        head += f", {intact} of {len(results)} set(s) intact"
    elif run.get("summary"):
        s = run["summary"]
        head += f", tape {s['label']} (pool {s['pool']}): {s['added']} set(s) added, {s['updated']} already known"
    if run.get("error"):
        head += f": {run['error']}"
    elif run["state"] == "done" and not run.get("ok"):
        head += ": not everything asked for was done"
    return head


def _report(run: Json) -> int:
    problems = run.get("problems") or []
    if run["state"] == "done" and run.get("ok"):
        if _is_terminal():
            print(summary(run))
            for note in run.get("notes") or []:
                print(f"  {note}")
        return 0
    print(f"tapeconsole: {summary(run)}", file=sys.stderr)
    for problem in problems[:SHOWN_PROBLEMS]:
        print(f"  {problem}", file=sys.stderr)
    if len(problems) > SHOWN_PROBLEMS:
        print(f"  ... and {len(problems) - SHOWN_PROBLEMS} more", file=sys.stderr)
    return 1


def _started(run: Json) -> int:
    if _is_terminal():
        print(f"{run['title']}: started run {run['id']} on drive {run['drive']}")
    return 0


# ---- commands


def _print_plan(plan: Json) -> None:
    night = f", night of {plan['night']}" if plan.get("night") else ""
    _out.print(f"set {plan['set']} ({plan['kind']}, job {plan['job']}{night}): {len(plan['members'])} member(s), "
               f"{size(plan['bytes'])}, about {plan['estimated_seconds']:.0f} s on drive {plan['drive']}")
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("#", "tape", "barcode", "where", "sets (file)", "to do"):
        table.add_column(column)
    for number, tape in enumerate(plan["tapes"], 1):
        sets = ", ".join(f"{s['set']} ({s['file']})" for s in tape["sets"])
        table.add_row(str(number), tape.get("label") or "-", tape["barcode"], tape["where"], sets, tape["todo"])
    _out.print(table)
    for item in plan.get("unrestorable") or []:
        _out.print(f"cannot restore {item['name']}: {item['why']}")
    for problem in plan.get("problems") or []:
        _out.print(f"[bold]before it can start:[/] {problem}")


def cmd_restore(config: Config, args: argparse.Namespace) -> int:
    body: Json = {"set": args.set, "members": args.member, "force": args.force, "drive": args.drive}
    if args.to is not None:
        body["to"] = str(Path(args.to).expanduser().absolute())
    else:
        body["to_xo"] = args.to_xo
    with connect(config) as client:
        plan = client.post("/restore-plan", body)
        if args.plan or _is_terminal():
            _print_plan(plan)
        if args.plan:
            return 0
        run = client.post("/restores", body)
        if not args.wait:
            return _started(run)
        final = follow(client, run, show=_is_terminal())
    return _report(final)


def cmd_verify(config: Config, args: argparse.Namespace) -> int:
    with connect(config) as client:
        run = client.post("/verify", {"tape": args.tape, "set": args.set_id, "drive": args.drive})
        if not args.wait:
            return _started(run)
        final = follow(client, run, show=_is_terminal())
    if _is_terminal():
        for result in final.get("results") or []:
            print(f"  set {result['set']} (file {result['file']}): {result['state']}, {result['matching']} of "
                  f"{result['members']} member(s) match" + (f": {result['error']}" if result.get("error") else ""))
    return _report(final)


def cmd_scan(config: Config, args: argparse.Namespace) -> int:
    with connect(config) as client:
        run = client.post(f"/drives/{args.drive}/scan")
        if args.background:
            return _started(run)
        final = follow(client, run, show=_is_terminal())
    if _is_terminal():
        for found in final.get("results") or []:
            what = f"set {found.get('set')} of job {found.get('job')}, {found.get('state')}, {size(found['bytes'])}"
            print(f"  tape file {found['file']}: {what}" + (f": {found['problem']}" if found.get("problem") else ""))
    return _report(final)


def cmd_find(config: Config, args: argparse.Namespace) -> int:
    params = {k: v for k, v in (("pattern", args.pattern), ("vm", args.vm), ("vdi", args.vdi),
                                ("night", args.night), ("limit", args.limit)) if v not in (None, "")}
    with connect(config) as client:
        found = client.get(f"/find?{urlencode(params)}")
    if args.json:
        print(json.dumps(found, indent=2))
    else:
        _print_found(found)
    if not found["disks"] and not found["files"]:
        what = " ".join(f"{k} {v}" for k, v in params.items() if k != "limit")
        print(f"tapeconsole: nothing on tape matches {what}", file=sys.stderr)
        return 1
    return 0


def _print_found(found: Json) -> None:
    if found["disks"]:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("night", "set", "vm", "member", "size", "tapes"):
            table.add_column(column)
        for d in found["disks"]:
            table.add_row(d["night"] or "-", str(d["set"]), d["vm"] or "-", d["member"], size(d["size"]),
                          ", ".join(d["tapes"]) + (" (incomplete)" if d.get("incomplete") else ""))
        _out.print(table)
    if found["files"]:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for column in ("night", "set", "path", "size", "tapes"):
            table.add_column(column)
        for f in found["files"]:
            table.add_row(f["night"] or "-", str(f["set"]), f["path"], size(f["size"]), ", ".join(f["tapes"]))
        _out.print(table)
    if found.get("truncated"):
        _out.print("(more match: narrow the pattern, add --night, or raise --limit)")


RESTORE_COMMANDS: dict[str, Handler] = {
    "restore": cmd_restore,
    "verify": cmd_verify,
    "scan": cmd_scan,
    "find": cmd_find,
}
