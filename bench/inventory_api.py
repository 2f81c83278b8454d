"""The inventory at two years of history, through the daemon's real socket: what the console's polling costs.

    .venv/bin/python bench/inventory_api.py [--nights 730] [--members 20] [--requests 200] [--seconds 30]

Builds an inventory of N nights x M members (bench/inventory_history.py), times one write (a set closed:
its state and member list, one journal append and fsync) in-process, then starts a real daemon on it and
times GET /v1/tapes, /v1/jobs and /v1/sets?tape= (full answers, no If-None-Match) and the same with the
ETag (304). Last, the daemon's CPU (from /proc, user + system) over three windows of S seconds: alone,
with a console's Poller polling at its busy pace (every second; tapes and jobs every fifth tick), and the
same Poller with its conditional requests turned off.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from inventory_history import barcode, history  # noqa: E402

from console.client.daemon_client import DaemonClient  # noqa: E402
from console.client.daemon_link import DaemonLink  # noqa: E402
from console.client.poller import Poller  # noqa: E402
from console.engine.inventory import Inventory  # noqa: E402

CONFIG = """
[daemon]
state_dir = "var"

[shelf]
cartridges = ["TST001L5", "TST002L5", "TST101L4"]
early_warning_mib = 4

[shelf.capacity_gib]
"LTO-4" = 0.0625
"LTO-5" = 0.125

[drives.lto4]
kind = "virtual"
generation = "LTO-4"

[drives.lto5]
kind = "virtual"
generation = "LTO-5"

[pools.vdi-daily]
generation = "LTO-5"
retention_days = 14

[pools.files-daily]
generation = "LTO-4"
retention_days = 14

[jobs.nightly-files]
source = "files"
drive = "lto4"
pool = "files-daily"
paths = ["data"]
schedule = "30 22 * * *"

[jobs.nightly-shares]
source = "files"
drive = "lto5"
pool = "vdi-daily"
paths = ["data"]
schedule = "0 23 * * *"
"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def write_ms(path: Path, repeat: int) -> list[float]:
    inventory = Inventory(path)
    members = inventory.get_set(1)["members"]
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        set_id = inventory.add_set({"barcode": barcode(1), "tape": barcode(1), "state": "writing", "members": []})
        inventory.update_set(set_id, state="complete", members=members, ended="2026-12-01T01:00:00+00:00")
        out.append((time.perf_counter() - started) * 1000 / 2)  # two changes: the set opened, then closed
    inventory.close()
    return out


def query_ms(socket: Path, path: str, repeat: int) -> tuple[list[float], list[float], int]:
    full, conditional = [], []
    with httpx.Client(transport=httpx.HTTPTransport(uds=str(socket)), base_url="http://tapeconsole/v1") as http:
        first = http.get(path)
        first.raise_for_status()
        etag = first.headers["etag"]
        for _ in range(repeat):
            started = time.perf_counter()
            http.get(path).raise_for_status()
            full.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            assert http.get(path, headers={"If-None-Match": etag}).status_code == 304
            conditional.append((time.perf_counter() - started) * 1000)
    return full, conditional, len(first.content)


async def poll_for(socket: Path, seconds: float, conditional: bool) -> int:
    link = DaemonLink.over_socket(socket)
    if not conditional:
        link.answers.keep = lambda path, etag, answer: None  # type: ignore[method-assign]
    poller = Poller(link, lambda snapshot: None, busy_seconds=1.0, idle_seconds=1.0)
    task = asyncio.create_task(poller.run())
    await asyncio.sleep(seconds)
    task.cancel()
    await link.aclose()
    return poller.snapshot.tick


def daemon_cpu(pid: int, socket: Path, seconds: float, console: str | None) -> tuple[float, int]:
    before, started = cpu_seconds(pid), time.monotonic()
    ticks = 0
    if console is None:
        time.sleep(seconds)
    else:
        ticks = asyncio.run(poll_for(socket, seconds, conditional=console == "conditional"))
    return (cpu_seconds(pid) - before) / (time.monotonic() - started) * 100, ticks


def run(nights: int, members: int, requests: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="tc-bench-", dir="/tmp") as folder_name:
        folder = Path(folder_name)
        (folder / "data").mkdir()
        (folder / "data" / "note.txt").write_text("minutes\n")
        (folder / "config.toml").write_text(CONFIG)
        path = folder / "var" / "inventory.json"
        path.parent.mkdir()
        history(path, nights, members).close()
        print(f"inventory: {nights} nights x {members} members, {path.stat().st_size / 1e6:.1f} MB", flush=True)
        writes = write_ms(path, 50)
        print(f"  one write (a set closed): p50 {statistics.median(writes):.1f} ms, "
              f"p99 {percentile(writes, 99):.1f} ms", flush=True)
        socket = folder / "var" / "tapeconsole.sock"
        daemon = subprocess.Popen([sys.executable, "-m", "console", "--config", str(folder / "config.toml"),
                                   "daemon", "run"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            with DaemonClient(socket) as client:
                deadline = time.monotonic() + 60
                while client.health() is None:
                    if time.monotonic() > deadline or daemon.poll() is not None:
                        daemon.kill()
                        raise SystemExit(f"the daemon did not start: {daemon.communicate()[1].decode()[-500:]}")
                    time.sleep(0.2)
            result: dict[str, Any] = {"write_ms": percentile(writes, 99)}
            p99s = []
            for query in ("/tapes", "/jobs", f"/sets?tape={barcode(5)}"):
                full, cond, size = query_ms(socket, query, requests)
                p99s.append(percentile(full, 99))
                print(f"  GET /v1{query:22} p50 {statistics.median(full):5.1f} ms  p99 {percentile(full, 99):5.1f} ms"
                      f"  ({size} bytes)   304: p50 {statistics.median(cond):4.1f} ms", flush=True)
            result["query_p99_ms"] = max(p99s)
            alone, _ = daemon_cpu(daemon.pid, socket, seconds, None)
            polled, ticks = daemon_cpu(daemon.pid, socket, seconds, "conditional")
            plain, _ = daemon_cpu(daemon.pid, socket, seconds, "unconditional")
            print(f"  daemon CPU over {seconds:.0f} s: alone {alone:.2f}% of a core; a console polling every second "
                  f"({ticks} polls) {polled:.2f}% with conditional requests, {plain:.2f}% without", flush=True)
            result["daemon_cpu_pct"] = polled
            return result
        finally:
            daemon.terminate()
            daemon.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nights", type=int, default=730)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    result = run(args.nights, args.members, args.requests, args.seconds)
    print(f"inventory: query_p99_ms={result['query_p99_ms']:.1f} write_ms={result['write_ms']:.1f} "
          f"daemon_cpu_pct={result['daemon_cpu_pct']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
