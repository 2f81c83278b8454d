"""The API under load while both drives stream: 50 clients for 60 s, latency p50/p99 per route, errors, and
what the drives wrote meanwhile (MB/s) against a quiet stretch just before.

    .venv/bin/python bench/api_load.py [--clients 50] [--seconds 60] [--quiet-seconds 20]

Runs the embedded default on a temporary copy (or --config PATH), starts both nightly jobs, waits until both
drives write, measures the drives alone for --quiet-seconds, then with the clients. Each client is one
connection on the daemon's socket asking, in turn, what the console and the CLI ask: drives, jobs, runs,
tapes, sets, events, system. Prints one line per route and the totals.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from console.client.daemon_client import DaemonClient, start_daemon  # noqa: E402
from console.config.loading import embedded_default_path, load_config  # noqa: E402

ROUTES = ["/drives", "/jobs", "/runs", "/tapes", "/sets", "/events?after=0", "/system"]


def wait_until(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise SystemExit(f"api_load: timed out waiting for {what}")


def both_writing(client: DaemonClient) -> bool:
    return all(d["state"] == "writing" for d in client.get("/drives"))


def written(client: DaemonClient) -> dict[str, int]:
    return {d["name"]: int((d.get("counters") or {}).get("bytes_written") or 0) for d in client.get("/drives")}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


def load(socket: Path, clients: int, seconds: float) -> tuple[dict[str, list[float]], int]:
    times: dict[str, list[float]] = {route: [] for route in ROUTES}
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client_loop(index: int) -> None:
        nonlocal errors
        with DaemonClient(socket, timeout=30) as client:
            turn = index
            while time.monotonic() < stop:
                route = ROUTES[turn % len(ROUTES)]
                turn += 1
                started = time.perf_counter()
                try:
                    client.get(route, timeout=30)
                except Exception:  # noqa: BLE001 - counted, the load goes on
                    with lock:
                        errors += 1
                    continue
                with lock:
                    times[route].append(time.perf_counter() - started)

    threads = [threading.Thread(target=client_loop, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, errors


def rates(client: DaemonClient, seconds: float, work) -> tuple[dict[str, float], object]:  # type: ignore[no-untyped-def]
    before, started = written(client), time.monotonic()
    result = work(seconds)
    after, span = written(client), time.monotonic() - started
    return {name: (after[name] - before.get(name, 0)) / span / 1e6 for name in after}, result


def measure(config_path: Path, clients: int, seconds: float, quiet: float) -> int:
    config = load_config(config_path)
    start_daemon(config)
    with DaemonClient(config.daemon.socket) as client:
        if config.demo is not None:
            ready = config.demo.files_folder / ".complete"
            wait_until(ready.exists, 900, "the demo file tree (generated once, on first start)")
        for job in ("nightly-vdi", "nightly-files"):
            client.post(f"/jobs/{job}/run")
        wait_until(lambda: both_writing(client), 300, "both drives writing")
        quiet_rates, _ = rates(client, quiet, time.sleep)
        loaded_rates, (times, errors) = rates(client, seconds, lambda s: load(config.daemon.socket, clients, s))
        still = both_writing(client)
    every = [t for values in times.values() for t in values]
    for route, values in times.items():
        print(f"{route:18} {len(values):6d} requests  p50 {1000 * percentile(values, 50):7.1f} ms  "
              f"p99 {1000 * percentile(values, 99):7.1f} ms")
    print(f"all                {len(every):6d} requests  p50 {1000 * percentile(every, 50):7.1f} ms  "
          f"p99 {1000 * percentile(every, 99):7.1f} ms  mean {1000 * statistics.fmean(every):.1f} ms  "
          f"errors {errors}  ({clients} clients, {seconds:.0f} s)")
    for name in sorted(quiet_rates):
        print(f"drive {name}: {quiet_rates[name]:.1f} MB/s quiet, {loaded_rates.get(name, 0):.1f} MB/s under load")
    if not still:
        print("api_load: a drive stopped writing during the measurement: the rates are not comparable")
    return 0 if errors == 0 else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--quiet-seconds", type=float, default=20.0)
    parser.add_argument("--config", type=Path, help="an existing site (default: a temporary copy of the embedded "
                        "default, removed afterwards)")
    args = parser.parse_args()
    if args.config:
        return measure(args.config.absolute(), args.clients, args.seconds, args.quiet_seconds)
    folder = Path(tempfile.mkdtemp(prefix="tc-load-", dir="/tmp"))
    config_path = folder / "config.toml"
    shutil.copy(embedded_default_path(), config_path)
    try:
        return measure(config_path, args.clients, args.seconds, args.quiet_seconds)
    finally:
        subprocess.run([sys.executable, "-m", "console", "--config", str(config_path), "daemon", "stop"],
                       cwd=ROOT, capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
