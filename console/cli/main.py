"""tapeconsole [--config PATH] COMMAND ...

Exit codes for every command: 0 done, 1 refused or failed (one line why), 2 usage or config error.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from console.cli import render
from console.cli.console_commands import CONSOLE_COMMANDS, add_console_commands
from console.cli.failures import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandFailed
from console.cli.plan_command import PLAN_COMMANDS, add_plan_command
from console.cli.restore_commands import RESTORE_COMMANDS, add_restore_commands
from console.cli.rotation_commands import ROTATION_COMMANDS, add_rotation_commands, cmd_jobs
from console.client.daemon_client import DaemonClient, DaemonError, DaemonUnavailable, connect, start_daemon
from console.config.errors import ConfigError
from console.config.loading import load_config, resolve_config_path
from console.config.schema import Config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tapeconsole",
        description="Operator console for LTO tape backups. With no command, opens the console.",
    )
    parser.add_argument("--config", metavar="PATH", help="config file (default: $TAPECONSOLE_CONFIG, "
                        "./config.toml, then the embedded default)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    daemon = sub.add_parser("daemon", help="run, start, stop or check the daemon")
    daemon.add_argument("action", choices=["run", "start", "stop", "status"])

    for name, what in (("drives", "the drives and what they hold"), ("tapes", "the tape inventory"),
                       ("pools", "the tape pools")):
        cmd = sub.add_parser(name, help=f"list {what}")
        cmd.add_argument("--json", action="store_true", help="print JSON")

    audit = sub.add_parser("audit", help="show the audit trail; `audit verify` checks that no entry was changed "
                           "or removed")
    audit.add_argument("what", nargs="?", choices=["verify"], help="verify the log's hash chain and recorded tip")
    audit.add_argument("--limit", type=int, default=50)
    audit.add_argument("--json", action="store_true")
    audit.add_argument("--file", metavar="PATH", help="with verify: check a copy of the log, no daemon needed "
                       "(X.json beside X.audit.log gives the recorded tip)")

    load = sub.add_parser("load", help="load a tape into a drive (virtual: from the shelf)")
    load.add_argument("drive")
    load.add_argument("sticker", help="the barcode on the cartridge's sticker, e.g. DEM001L5")

    eject = sub.add_parser("eject", help="rewind and eject the tape in a drive")
    eject.add_argument("drive")

    rewind = sub.add_parser("rewind", help="rewind the tape in a drive")
    rewind.add_argument("drive")

    label = sub.add_parser("label", help="write a label to the tape in a drive")
    label.add_argument("drive")
    label.add_argument("text", help="the label, usually the barcode on the sticker")
    label.add_argument("--pool", required=True)
    label.add_argument("--confirm", metavar="OLD", help="the tape's old label, typed back to relabel it")

    read = sub.add_parser("read", help="dump one tape file byte for byte (GNU tar can read it)")
    read.add_argument("drive")
    read.add_argument("--file", type=int, required=True, dest="number", metavar="N")
    read.add_argument("--output", required=True, metavar="PATH", help="where to write it ('-' for stdout)")
    read.add_argument("--force", action="store_true", help="replace PATH if it exists")

    offsite = sub.add_parser("offsite", help="record that a tape went to the offsite vault")
    offsite.add_argument("barcode")
    offsite.add_argument("--vault", help="the vault's name (default: the pool's)")

    onsite = sub.add_parser("onsite", help="record that a tape is back on the shelf")
    onsite.add_argument("barcode")

    backup = sub.add_parser("backup", help="run a backup job now")
    backup.add_argument("job")
    backup.add_argument("--wait", action="store_true", help="follow it; exit 0 only when every set is complete")

    jobs = sub.add_parser("jobs", help="list the jobs with their next tape, and job runs (--json: the runs)")
    jobs.add_argument("--json", action="store_true")

    sets = sub.add_parser("sets", help="list backup sets")
    sets.add_argument("--json", action="store_true")

    cancel = sub.add_parser("cancel", help="cancel a job run")
    cancel.add_argument("run", type=int)

    xosim = sub.add_parser("xosim", help="run the built-in Xen Orchestra simulator in the foreground")
    xosim.add_argument("--host", default="127.0.0.1")
    xosim.add_argument("--port", type=int, default=8480)
    xosim.add_argument("--seed", type=int, default=1)
    xosim.add_argument("--scale", type=float, default=1.0, help="scale the VDI sizes")
    xosim.add_argument("--token-file", metavar="PATH", help="write the session token there (mode 0600)")

    add_restore_commands(sub)
    add_plan_command(sub)
    add_console_commands(sub)
    add_rotation_commands(sub)

    sub.add_parser("console", help="open the console (the default)")
    return parser


def _load(args: argparse.Namespace) -> Config:
    return load_config(resolve_config_path(args.config))


def _client(config: Config) -> DaemonClient:
    return connect(config, autostart=True)


def cmd_daemon(config: Config, args: argparse.Namespace) -> int:
    if args.action == "run":
        from console.engine.daemon.server import DaemonAlreadyRunning, serve

        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        try:
            return serve(config)
        except DaemonAlreadyRunning as exc:
            raise CommandFailed(str(exc)) from None
    client = DaemonClient(config.daemon.socket)
    health = client.health()
    if args.action == "start":
        if health is None:
            health = start_daemon(config)
            print(f"daemon started: pid {health['pid']}, socket {config.daemon.socket}")
        else:
            print(f"daemon already running: pid {health['pid']}, socket {config.daemon.socket}")
        return EXIT_OK
    if args.action == "status":
        if health is None:
            raise CommandFailed(f"no daemon answers on {config.daemon.socket}")
        print(f"daemon running: pid {health['pid']}, up {health['uptime_seconds']:.0f} s, "
              f"socket {config.daemon.socket}, config {health['config']}")
        return EXIT_OK
    # stop
    if health is None:
        print(f"no daemon answers on {config.daemon.socket}")
        return EXIT_OK
    client.post("/daemon/stop", timeout=10)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if client.health() is None and not config.daemon.socket.exists():
            print(f"daemon stopped (pid {health['pid']})")
            return EXIT_OK
        time.sleep(0.1)
    raise CommandFailed(f"the daemon (pid {health['pid']}) did not stop within 30 s")


Command = Callable[[Config, argparse.Namespace], int]


def _listing(path: str, renderer: Callable[[list[dict[str, Any]]], None]) -> Command:
    def command(config: Config, args: argparse.Namespace) -> int:
        with _client(config) as client:
            rows = client.get(path)
        if args.json:
            print(json.dumps(rows, indent=2))
        else:
            renderer(rows)
        return EXIT_OK

    return command


def cmd_audit(config: Config, args: argparse.Namespace) -> int:
    if args.what == "verify":
        from console.cli.audit_verify import verify_audit

        return verify_audit(config, args)
    if args.file:
        raise CommandFailed("--file goes with verify: tapeconsole audit verify --file PATH", EXIT_USAGE)
    with _client(config) as client:
        rows = client.get(f"/audit?limit={max(args.limit, 1)}")
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        render.audit(rows)
    return EXIT_OK


def cmd_load(config: Config, args: argparse.Namespace) -> int:
    with _client(config) as client:
        drive = client.post(f"/drives/{args.drive}/load", {"barcode": args.sticker})
    print(render.loaded_line(drive))
    return EXIT_OK


def cmd_eject(config: Config, args: argparse.Namespace) -> int:
    with _client(config) as client:
        result = client.post(f"/drives/{args.drive}/eject")
    print(f"{args.drive}: ejected {result['ejected'] or 'the tape'}")
    return EXIT_OK


def cmd_rewind(config: Config, args: argparse.Namespace) -> int:
    with _client(config) as client:
        client.post(f"/drives/{args.drive}/rewind")
    print(f"{args.drive}: rewound")
    return EXIT_OK


def cmd_label(config: Config, args: argparse.Namespace) -> int:
    body = {"label": args.text, "pool": args.pool, "confirm": args.confirm}
    with _client(config) as client:
        tape = client.post(f"/drives/{args.drive}/label", body)
    print(f"{args.drive}: tape {tape['barcode']} labelled {tape['label']} in pool {tape['pool']}")
    return EXIT_OK


def cmd_read(config: Config, args: argparse.Namespace) -> int:
    to_stdout = args.output == "-"
    target = Path(args.output).expanduser().absolute()
    if not to_stdout:
        if target.exists() and not args.force:
            raise CommandFailed(f"{target} exists: choose another --output or add --force")
        if not target.parent.is_dir():
            raise CommandFailed(f"folder {target.parent} does not exist")
    partial = target.with_name(f".{target.name}.partial")
    total = 0
    with _client(config) as client, client.stream(f"/drives/{args.drive}/files/{args.number}") as chunks:
        if to_stdout:
            out = sys.stdout.buffer
            for chunk in chunks:
                out.write(chunk)
                total += len(chunk)
            out.flush()
            return EXIT_OK
        try:
            with open(partial, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
                    total += len(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    print(f"{args.drive}: tape file {args.number} -> {target} ({render.size(total)})")
    return EXIT_OK


def cmd_backup(config: Config, args: argparse.Namespace) -> int:
    from console.cli import backup

    with _client(config) as client:
        run = client.post(f"/jobs/{args.job}/run")
        tty = backup.is_terminal()
        if not args.wait:
            if tty:
                print(f"{args.job}: started run {run['id']} on drive {run['drive']}")
            return EXIT_OK
        run = backup.follow(client, run, show=tty)
        complete = run["state"] == "done" and backup.all_sets_complete(client, run)
    if not complete:
        raise CommandFailed(backup.summary(run))
    if tty:
        print(backup.summary(run))
    return EXIT_OK


def cmd_move(config: Config, args: argparse.Namespace) -> int:
    where = "shelf" if args.command == "onsite" else (f"offsite:{args.vault}" if args.vault else "offsite")
    with _client(config) as client:
        tape = client.post(f"/tapes/{args.barcode}/location", {"location": where})
    print(f"tape {tape['barcode']} ({tape.get('label') or 'unlabelled'}) is now at {tape['location']}")
    return EXIT_OK


def cmd_cancel(config: Config, args: argparse.Namespace) -> int:
    with _client(config) as client:
        run = client.post(f"/runs/{args.run}/cancel")
    print(f"run {run['id']} ({run['job']}): cancel requested")
    return EXIT_OK


def cmd_xosim(config: Config, args: argparse.Namespace) -> int:
    from console.demo.xo_simulator.server import run_xosim

    run_xosim(args.host, args.port, args.seed, args.token_file, scale=args.scale)
    return EXIT_OK


def cmd_console(config: Config, args: argparse.Namespace) -> int:
    from console.tui.app import run_console

    return run_console(config)


COMMANDS: dict[str, Command] = {
    **RESTORE_COMMANDS,
    **PLAN_COMMANDS,
    **CONSOLE_COMMANDS,
    **ROTATION_COMMANDS,
    "daemon": cmd_daemon,
    "drives": _listing("/drives", render.drives),
    "tapes": _listing("/tapes", render.tapes),
    "pools": _listing("/pools", render.pools),
    "audit": cmd_audit,
    "load": cmd_load,
    "eject": cmd_eject,
    "rewind": cmd_rewind,
    "label": cmd_label,
    "read": cmd_read,
    "console": cmd_console,
    "backup": cmd_backup,
    "jobs": cmd_jobs,
    "sets": _listing("/sets", render.sets),
    "cancel": cmd_cancel,
    "offsite": cmd_move,
    "onsite": cmd_move,
    "xosim": cmd_xosim,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    command = args.command or "console"
    try:
        if command == "xosim":  # needs no config
            return cmd_xosim(None, args)  # type: ignore[arg-type]
        config = _load(args)
        return COMMANDS[command](config, args)
    except ConfigError as exc:
        print(f"tapeconsole: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DaemonError as exc:
        print(f"tapeconsole: {exc}", file=sys.stderr)
        return EXIT_USAGE if exc.is_usage_error else EXIT_FAILED
    except (DaemonUnavailable, CommandFailed) as exc:
        print(f"tapeconsole: {exc}", file=sys.stderr)
        return getattr(exc, "code", EXIT_FAILED)
    except KeyboardInterrupt:
        print("tapeconsole: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_FAILED
