"""`tapeconsole audit verify [--file PATH]`: is the audit trail whole? Exit 0 intact, 1 with the first problem.

Through the daemon it checks the live log against the tip the inventory recorded. With --file it checks a
copied log without a daemon (for an auditor): the inventory copied beside it (X.json for X.audit.log)
gives the recorded tip; without one, entries removed from the end cannot be detected, and it says so.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from console.cli import render
from console.cli.failures import CommandFailed
from console.client.daemon_client import connect
from console.config.schema import Config


def verify_file(path: Path) -> dict[str, Any]:
    """Check a copy of the log without a daemon: the engine's own check, run in this process (loaded only here,
    so the CLI stays a thin client everywhere else)."""
    from console.engine.inventory.audit_log import inventory_beside, recorded_tip_in_file, verify_log

    if not path.is_file():
        raise CommandFailed(f"{path}: no such file")
    beside = inventory_beside(path)
    recorded = recorded_tip_in_file(beside) if beside.is_file() else None
    result = verify_log(path, recorded).to_json()
    if recorded is None:
        result["notes"].insert(0, f"no recorded tip in {beside} (copy it beside the log to check the end too)")
    return result


def verify_audit(config: Config, args: argparse.Namespace) -> int:
    if args.file:
        result = verify_file(Path(args.file).expanduser())
    else:
        with connect(config, autostart=True) as client:
            result = client.get("/audit/verify", timeout=None)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0 if result["ok"] else 1
    render.audit_verdict(result)
    if not result["ok"]:
        raise CommandFailed(result["summary"])
    return 0
