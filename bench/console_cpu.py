"""The console's own CPU while both drives stream: the target is at most 5% of one core.

    .venv/bin/python bench/console_cpu.py [--seconds 30] [--size 120x40]

Runs the embedded default on a temporary copy (or --config PATH), starts both nightly jobs, opens the console
on a pseudo-terminal that is read like a real one, and measures the console process alone (psutil) while both
drives write. Prints the startup time (to the first frame showing both drives) and the CPU figure.
Only the seconds during which both drives kept writing count. Exit code 1 when the figure is above the target
or the drives streamed for less than 15 s of the measurement.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import shutil
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from console.client.daemon_client import DaemonClient, start_daemon  # noqa: E402
from console.config.loading import embedded_default_path, load_config  # noqa: E402

TARGET_PERCENT = 5.0
MIN_SECONDS = 15.0
SLICE_SECONDS = 1.0


def wait_until(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise SystemExit(f"console_cpu: timed out waiting for {what}")


def both_writing(client: DaemonClient) -> bool:
    return all(d["state"] == "writing" for d in client.get("/drives"))


def measure_while_streaming(console: psutil.Process, client: DaemonClient, seconds: float) -> tuple[float, float]:
    """CPU seconds used by the console and the wall seconds measured, counting only the one-second slices
    during which both drives kept writing; stops when either drive stops or `seconds` are measured."""
    used = wall = 0.0
    while wall < seconds and both_writing(client):
        before, start = console.cpu_times(), time.monotonic()
        time.sleep(SLICE_SECONDS)
        after, span = console.cpu_times(), time.monotonic() - start
        if not both_writing(client):
            break
        used += (after.user - before.user) + (after.system - before.system)
        wall += span
    return used, wall


def open_console(config: Path, columns: int, rows: int) -> tuple[subprocess.Popen[bytes], int, bytearray]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {**os.environ, "TERM": "xterm-256color", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, "-m", "console", "--config", str(config)], stdin=slave,
                               stdout=slave, stderr=slave, cwd=ROOT, env=env, start_new_session=True)
    os.close(slave)
    screen = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            screen.extend(chunk)
            del screen[:-200_000]

    threading.Thread(target=drain, daemon=True).start()
    return process, master, screen


def measure(config_path: Path, seconds: float, columns: int, rows: int) -> int:
    config = load_config(config_path)
    start_daemon(config)
    with DaemonClient(config.daemon.socket) as client:
        if config.demo is not None:
            ready = config.demo.files_folder / ".complete"
            wait_until(ready.exists, 900, "the demo file tree (generated once, on first start)")
        for job in ("nightly-vdi", "nightly-files"):
            client.post(f"/jobs/{job}/run")
        wait_until(lambda: both_writing(client), 300, "both drives writing")
        started = time.monotonic()
        process, master, screen = open_console(config_path, columns, rows)
        try:
            wait_until(lambda: b"lto4" in screen and b"lto5" in screen and b"MB/s" in screen, 60, "the first frame")
            startup = time.monotonic() - started
            time.sleep(3)  # past the first polls and layouts
            console = psutil.Process(process.pid)
            used, wall = measure_while_streaming(console, client, seconds)
            percent = 100 * used / wall if wall else float("nan")
            rss = console.memory_info().rss / 2**20
        finally:
            process.terminate()
            process.wait(10)
            os.close(master)
    print(f"console startup to the first frame with both drives: {startup:.2f} s")
    print(f"console CPU while both drives stream: {percent:.2f}% of one core "
          f"({used:.2f} s CPU in {wall:.0f} s, {columns}x{rows}, RSS {rss:.0f} MiB; target <= {TARGET_PERCENT:.0f}%)")
    if wall < MIN_SECONDS:
        print(f"console_cpu: both drives streamed for only {wall:.0f} s of the measurement: too short to judge")
        return 1
    return 0 if percent <= TARGET_PERCENT else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--size", default="120x40", help="terminal COLUMNSxROWS")
    parser.add_argument("--config", type=Path, help="an existing site (default: a temporary copy of the embedded "
                        "default, removed afterwards)")
    args = parser.parse_args()
    columns, rows = (int(n) for n in args.size.split("x"))
    if args.config:
        return measure(args.config.absolute(), args.seconds, columns, rows)
    folder = Path(tempfile.mkdtemp(prefix="tc-bench-", dir="/tmp"))
    config_path = folder / "config.toml"
    shutil.copy(embedded_default_path(), config_path)
    try:
        return measure(config_path, args.seconds, columns, rows)
    finally:
        subprocess.run([sys.executable, "-m", "console", "--config", str(config_path), "daemon", "stop"],
                       cwd=ROOT, capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
