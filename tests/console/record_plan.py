"""Record the daemon's capacity plan for the plan screen's snapshot test (tests/console/data/plan.json).

    .venv/bin/python -m tests.console.record_plan

The embedded default on a temporary copy (its demo file tree made smaller, so the recording takes a
minute), with a month of nightly runs written into its inventory before the daemon starts: a history
only a month of real nights could give. nightly-vdi grows 25 MB a night towards its 4 GiB tapes, nightly-files
slowly. Then the real daemon works the plan out (GET /v1/plan: the XO simulator, the demo tree, the tapes)
and its answer is kept as it came.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path

from console.client.daemon_client import DaemonClient, start_daemon
from console.config.loading import embedded_default_path, load_config
from console.engine.inventory import Inventory
from tests.console.record import DATA, ROOT, wait_for

NIGHTS = 30
WOBBLE = (0.0, 0.012, -0.008, 0.02, -0.015, 0.005, -0.02)  # a week's ups and downs, as a share of the night


def seed_history(inventory: Inventory, today: date) -> None:
    """NIGHTS nights of both jobs, ending last night, as finished runs."""
    for n in range(NIGHTS):
        night = today - timedelta(days=NIGHTS - n)
        started = datetime.combine(night, datetime.min.time()).replace(hour=22, minute=30).astimezone()
        wobble = 1 + WOBBLE[n % len(WOBBLE)]
        vdi = round((1_225_000_000 + 25_000_000 * n) * wobble)
        files = round((38_000_000 + 300_000 * n) * wobble)
        for job, drive, pool, source, nbytes, read in (
            ("nightly-vdi", "lto5", "vdi-daily", "xo", vdi, None),
            ("nightly-files", "lto4", "files-daily", "files", files, round(files / 0.62)),
        ):
            inventory.add_run({
                "job": job, "drive": drive, "pool": pool, "source": source, "user": "schedule", "reason": "schedule",
                "state": "done", "queued": started.isoformat(timespec="seconds"),
                "started": started.isoformat(timespec="seconds"),
                "ended": (started + timedelta(minutes=40)).isoformat(timespec="seconds"), "bytes": nbytes,
                "source_bytes": read, "sets": [], "tapes": [], "error": None,
            })


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="tc-rec-", dir="/tmp"))
    config_path = folder / "config.toml"
    config_path.write_text(embedded_default_path().read_text().replace("files_mib = 600", "files_mib = 60"))
    config = load_config(config_path)
    config.daemon.state_dir.mkdir(parents=True)
    inventory = Inventory(config.daemon.state_dir / "inventory.json")
    seed_history(inventory, date.today())
    inventory.close()
    try:
        start_daemon(config)
        with DaemonClient(config.daemon.socket) as client:
            wait_for(client, lambda: any("demo file tree ready" in e["message"]
                                         for e in client.get("/events?after=0")), 300, "the demo file tree")
            plan = client.get("/plan?fresh=1", timeout=300)
        DATA.mkdir(exist_ok=True)
        (DATA / "plan.json").write_text(json.dumps({"/plan": plan}, indent=1) + "\n")
        print(f"recorded {DATA / 'plan.json'}")
        return 0
    finally:
        subprocess.run([sys.executable, "-m", "console", "--config", str(config_path), "daemon", "stop"],
                       cwd=ROOT, capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
