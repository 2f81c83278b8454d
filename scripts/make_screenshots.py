"""Make screenshots/*.svg: every console screen in a realistic state, from the embedded default.

    .venv/bin/python scripts/make_screenshots.py

Runs the embedded default on a temporary copy, with more data so the nights last: night one (both nightly
jobs, to the end), then night two, captured while both drives stream (the dashboards), then once both jobs
have ejected their tapes (the tape swap, the restore walkthrough, the capacity plan, the label form on a blank
tape). Takes a few minutes: the demo file tree is generated first.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from textual.pilot import Pilot  # noqa: E402
from textual.widgets import OptionList, Static  # noqa: E402

from console.client.daemon_client import DaemonClient, start_daemon  # noqa: E402
from console.client.daemon_link import DaemonLink  # noqa: E402
from console.config.loading import embedded_default_path, load_config  # noqa: E402
from console.tui.app import TapeConsoleApp  # noqa: E402
from console.tui.screens.label_form import LabelForm  # noqa: E402

OUT = ROOT / "screenshots"
HISTORY_SECONDS = 12  # of live polling before a dashboard is captured, for the sparklines

Steps = Callable[[Pilot], Awaitable[None]]


def wait_until(check: Callable[[], Any], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise SystemExit(f"make_screenshots: timed out waiting for {what}")


async def capture(socket: Path, name: str, size: tuple[int, int], steps: Steps | None = None, *,
                  start: str = "dashboard", settle: float = 2.0) -> None:
    app = TapeConsoleApp(DaemonLink.over_socket(socket), start=start, cursor_blink=False, watch_terminal=False)
    async with app.run_test(size=size) as pilot:
        while not app.snapshot.tick:
            await pilot.pause(0.1)
        await pilot.pause(settle)
        if steps is not None:
            await steps(pilot)
        await pilot.pause(0.5)
        app.save_screenshot(str(OUT / f"{name}.svg"))
    print(f"  {name}.svg")


async def tapes_tab(pilot: Pilot) -> None:
    await pilot.press("2")


async def label_form(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, TapeConsoleApp)
    drive = app.snapshot.drive("lto5")
    assert drive is not None
    app.push_screen(LabelForm(drive, app.snapshot.tape(drive.get("loaded")), app.snapshot.pools))
    await pilot.pause(0.5)


async def restore_tapes(pilot: Pilot) -> None:
    targets = pilot.app.screen.query_one("#what-list", OptionList)
    while targets.option_count < 2:
        await pilot.pause(0.1)
    await pilot.press("enter", "enter")


async def plan_screen(pilot: Pilot) -> None:
    await pilot.press("p")
    title = pilot.app.screen.query_one("#plan-title", Static)
    deadline = time.monotonic() + 300
    while "asking the daemon" in str(title.render()) and time.monotonic() < deadline:
        await pilot.pause(0.5)
    await pilot.pause(1.0)


async def night_streaming(socket: Path, streaming: Callable[[], bool], writing: Callable[[], bool]) -> None:
    for name, size, steps, settle in (("dashboard-120x40", (120, 40), None, HISTORY_SECONDS),
                                      ("dashboard-80x24", (80, 24), None, HISTORY_SECONDS),
                                      ("dashboard-80x24-tapes", (80, 24), tapes_tab, 2.0)):
        deadline = time.monotonic() + 60
        while not streaming() and time.monotonic() < deadline:
            await asyncio.sleep(0.5)
        if not streaming():
            raise SystemExit(f"make_screenshots: the jobs ended before {name}: run again on a less busy machine")
        await capture(socket, name, size, steps, settle=settle)
        if not writing():
            raise SystemExit(f"make_screenshots: the jobs ended while taking {name}: run again")


async def morning_after(socket: Path) -> None:
    await capture(socket, "swap-80x24", (80, 24), start="swap")
    await capture(socket, "swap-120x40", (120, 40), start="swap")
    await capture(socket, "restore-80x24", (80, 24), restore_tapes, start="restore")
    await capture(socket, "plan-80x24", (80, 24), plan_screen)
    await capture(socket, "plan-120x40", (120, 40), plan_screen)


async def labelling(socket: Path) -> None:
    await capture(socket, "label-form", (80, 24), label_form)


def longer_nights(text: str) -> str:
    """The embedded default with more to back up, so both drives stream long enough to be photographed."""
    text = re.sub(r"(?m)^simulator_scale = .*$", "simulator_scale = 16", text)
    # zstd keeps the LTO-4 at its 40 MB/s: the file archive must be about 2 GB to outlast the three captures
    return re.sub(r"(?m)^files_mib = .*$", "files_mib = 3000", text)


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="tc-shots-", dir="/tmp"))
    config_path = folder / "config.toml"
    config_path.write_text(longer_nights(embedded_default_path().read_text()))
    config = load_config(config_path)
    OUT.mkdir(exist_ok=True)
    try:
        start_daemon(config)
        with DaemonClient(config.daemon.socket) as client:
            if config.demo is not None:
                ready = config.demo.files_folder / ".complete"
                wait_until(ready.exists, 900, "the demo file tree")

            def night() -> list[int]:
                return [client.post(f"/jobs/{job}/run")["id"] for job in ("nightly-vdi", "nightly-files")]

            def finished(ids: list[int]) -> bool:
                return all(client.get(f"/runs/{i}")["state"] not in ("queued", "waiting-for-tape", "running")
                           for i in ids)

            print("night one…")
            first = night()
            wait_until(lambda: finished(first), 900, "night one")
            print("night two, while both drives stream:")
            second = night()
            wait_until(lambda: all(d["state"] == "writing" for d in client.get("/drives")), 300, "both drives")
            def writing() -> bool:
                return all(d["state"] == "writing" for d in client.get("/drives"))

            def streaming() -> bool:  # both drives write and both jobs move data
                active = [r for r in client.get("/runs") if r["state"] == "running"]
                return writing() and len(active) == 2 and all((r.get("rate") or 0) > 0 for r in active)

            asyncio.run(night_streaming(config.daemon.socket, streaming, writing))
            wait_until(lambda: finished(second), 900, "night two")
            print("the morning after:")
            asyncio.run(morning_after(config.daemon.socket))
            client.post("/drives/lto5/load", {"barcode": "DEM005L5"})  # a blank tape, for the label form
            asyncio.run(labelling(config.daemon.socket))
            client.post("/drives/lto5/eject")
        return 0
    finally:
        subprocess.run([sys.executable, "-m", "console", "--config", str(config_path), "daemon", "stop"],
                       cwd=ROOT, capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
