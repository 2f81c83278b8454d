"""`tapeconsole swap` (the tape swap screen on its own, for the onsite person) and `tapeconsole serve`
(the console in a browser on this machine, through textual-serve).

main.py adds them with add_console_commands(sub) and dispatches through CONSOLE_COMMANDS.
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from console.config.schema import Config

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
DEFAULT_PORT = 8470
NO_AUTH = ("tapeconsole serve has no authentication of its own: anyone who can open its port drives the "
           "tapes as the user running it. It listens on localhost only; from another machine use an SSH "
           "tunnel (ssh -L {port}:localhost:{port} backup-server).")


def add_console_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    sub.add_parser("swap", help="the tape swap, step by step, for the onsite person")
    serve = sub.add_parser("serve", help="offer the console in a browser on localhost (no authentication)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"TCP port (default {DEFAULT_PORT})")
    serve.add_argument("--host", default="localhost", choices=LOCAL_HOSTS,
                       help="a local address only: serve has no authentication")


def cmd_swap(config: Config, args: argparse.Namespace) -> int:
    from console.tui.app import run_console

    return run_console(config, start="swap")


def served_command(config: Config) -> str:
    """The shell command textual-serve runs for each browser: this console, on this config."""
    return shlex.join([sys.executable, "-m", "console", "--config", str(config.path), "console"])


def cmd_serve(config: Config, args: argparse.Namespace) -> int:
    from textual_serve.server import Server

    from console.client.daemon_client import connect

    if not 0 < args.port < 65536:
        print(f"tapeconsole: --port must be 1-65535, got {args.port}", file=sys.stderr)
        return 2
    connect(config, autostart=True).close()  # start the daemon once, not in every browser tab
    package_root = str(Path(__file__).resolve().parents[2])
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
    print(NO_AUTH.format(port=args.port), file=sys.stderr)
    print(f"tapeconsole: serving the console on http://{args.host}:{args.port} (Ctrl+C stops)", file=sys.stderr)
    Server(served_command(config), host=args.host, port=args.port, title="tapeconsole").serve()
    return 0


CONSOLE_COMMANDS: dict[str, Callable[[Config, argparse.Namespace], int]] = {
    "swap": cmd_swap,
    "serve": cmd_serve,
}
