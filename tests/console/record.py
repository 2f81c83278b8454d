"""Record the daemon's answers for the console's snapshot tests (tests/console/data/*.json).

    .venv/bin/python -m tests.console.record
    .venv/bin/python -m tests.console.record restoring

Runs the embedded default on a temporary copy: night one (both nightly jobs, to the end), then night two,
recorded while both drives stream ("streaming.json") and once both jobs have ejected ("morning.json").
With `restoring`: the two nights, then the restore of one VM disk of night two into a folder, recorded
while it reads ("restoring.json": the daemon's answers then, "POST /restores" its answer to the start, and
"ended /restores/ID" the run once it ended). The recordings are committed; the snapshot tests never need
a daemon.
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

from console.client.daemon_client import DaemonClient, start_daemon
from console.config.loading import embedded_default_path, load_config

DATA = Path(__file__).with_name("data")
ROOT = Path(__file__).resolve().parents[2]
PATHS = ("/health", "/drives", "/runs", "/jobs", "/tapes", "/pools", "/system", "/sets", "/swap-list")


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


RESTORED_DISK = "files01_shares"  # a disk in two parts: the restore joins them


def restore_one_disk(client: DaemonClient, folder: Path) -> dict[str, Any]:
    """Restore a disk of the newest VDI set as the walkthrough asks for it; record it mid-way and at its end."""
    from console.client import restore_plan
    from console.client.restore_request import body, disk_globs

    sets = client.get("/sets")
    details = {s["id"]: client.get(f"/sets/{s['id']}") for s in sets}
    target = next(t for t in restore_plan.targets(sets, details, client.get("/jobs")) if RESTORED_DISK in t.key)
    newest = restore_plan.nights(target, sets, details)[0]
    members = disk_globs(restore_plan.disk_members(target, newest, details))
    started = client.post("/restores", body(newest.sets[0], members, to=str(folder / "restored-files01")))
    path = f"/restores/{started['id']}"
    wait_for(client, lambda: (r := client.get(path))["state"] == "running"
             and 0.3 < r["bytes"] / (r["expected_bytes"] or 1) < 0.7, 120, "the restore half-way")
    answers = record(client)
    answers["POST /restores"] = started
    answers[path] = client.get(path)
    answers["/restores"] = client.get("/restores")
    wait_for(client, lambda: client.get(path)["state"] in ("done", "failed", "cancelled"), 300, "the restore's end")
    answers[f"ended {path}"] = client.get(path)
    return answers


def main_restoring() -> int:
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
            for _ in range(2):
                ids = night(client)
                wait_for(client, lambda ids=ids: finished(client, ids), 600, "a night")
            time.sleep(2)
            DATA.mkdir(exist_ok=True)
            (DATA / "restoring.json").write_text(json.dumps(restore_one_disk(client, folder), indent=1) + "\n")
        print(f"recorded {DATA / 'restoring.json'}")
        return 0
    finally:
        subprocess.run([sys.executable, "-m", "console", "--config", str(config_path), "daemon", "stop"],
                       cwd=ROOT, capture_output=True, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main_restoring() if sys.argv[1:] == ["restoring"] else main())
