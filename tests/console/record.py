"""Record the daemon's answers for the console's snapshot tests (tests/console/data/*.json).

    .venv/bin/python -m tests.console.record

Runs the embedded default on a temporary copy: night one (both nightly jobs, to the end), then night two,
recorded while both drives stream ("streaming.json") and once both jobs have ejected ("morning.json").
The recordings are committed; the snapshot tests never need a daemon.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from console.daemon_client import DaemonClient, start_daemon
from console.engine.config import embedded_default_path, load_config

DATA = Path(__file__).with_name("data")
ROOT = Path(__file__).resolve().parents[2]
PATHS = ("/health", "/drives", "/runs", "/jobs", "/tapes", "/pools", "/system", "/sets")


def record(client: DaemonClient) -> dict[str, Any]:
    answers: dict[str, Any] = {path: client.get(path) for path in PATHS}
    answers["/events"] = client.get("/events?after=0")
    for s in answers["/sets"]:
        answers[f"/sets/{s['id']}"] = client.get(f"/sets/{s['id']}")
    return answers


def wait_for(client: DaemonClient, done: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.5)
    raise SystemExit(f"record: timed out waiting for {what}")


def night(client: DaemonClient) -> list[int]:
    return [client.post(f"/jobs/{name}/run")["id"] for name in ("nightly-vdi", "nightly-files")]


def finished(client: DaemonClient, ids: list[int]) -> bool:
    return all(client.get(f"/runs/{i}")["state"] not in ("queued", "running") for i in ids)


def streaming(client: DaemonClient) -> bool:
    drives = client.get("/drives")
    runs = [r for r in client.get("/runs") if r["state"] == "running"]
    return all(d["state"] == "writing" for d in drives) and all(
        r.get("buffer") and r["bytes"] > 200 * 1024 * 1024 for r in runs) and len(runs) == 2


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="tc-rec-", dir="/tmp"))
    config_path = folder / "config.toml"
    shutil.copy(embedded_default_path(), config_path)
    config = load_config(config_path)
    try:
        start_daemon(config)
        with DaemonClient(config.daemon.socket) as client:
            wait_for(client, lambda: (folder / "var" / "demo-data").is_dir()
                     and any("demo file tree ready" in e["message"] for e in client.get("/events?after=0")),
                     300, "the demo file tree")
            first = night(client)
            wait_for(client, lambda: finished(client, first), 600, "night one")
            second = night(client)
            wait_for(client, lambda: streaming(client), 300, "both drives streaming")
            time.sleep(3)
            DATA.mkdir(exist_ok=True)
            (DATA / "streaming.json").write_text(json.dumps(record(client), indent=1) + "\n")
            wait_for(client, lambda: finished(client, second), 600, "night two")
            time.sleep(2)
            (DATA / "morning.json").write_text(json.dumps(record(client), indent=1) + "\n")
        print(f"recorded {DATA / 'streaming.json'} and {DATA / 'morning.json'}")
        return 0
    finally:
        subprocess.run([sys.executable, "-m", "console", "--config", str(config_path), "daemon", "stop"],
                       cwd=ROOT, capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
