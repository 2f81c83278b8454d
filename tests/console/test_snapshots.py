"""How the console looks: SVG snapshots at fixed sizes, from recorded daemon answers (no daemon, no clock).

Update after a deliberate change of looks: pytest tests/console/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from textual import events
from textual.pilot import Pilot
from textual.widgets import OptionList

from console.tui.app import TapeConsoleApp
from tests.console.fake_daemon import RecordedDaemon, recording

# the last few minutes of each drive's MB/s, as the console would have sampled them (one sample a second)
HISTORY = {
    "lto5": [0.0] * 6 + [18e6, 31e6, 44e6, 49e6, 50e6, 50e6, 47e6, 35e6, 22e6, 36e6, 49e6, 50e6] * 8,
    "lto4": [0.0] * 20 + [12e6, 25e6, 38e6, 40e6, 40e6, 39e6, 40e6, 33e6, 40e6, 40e6] * 7,
}


def recorded_app(name: str, answers: dict[str, Any] | None = None, **options: object) -> TapeConsoleApp:
    daemon = RecordedDaemon(answers or recording(name))
    return TapeConsoleApp(daemon.link(), busy_seconds=3600, idle_seconds=3600, rate_history=HISTORY,
                          today=date(2026, 11, 27), cursor_blink=False, watch_terminal=False, **options)


async def first_poll(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, TapeConsoleApp)
    while not app.snapshot.tick:
        await pilot.pause(0.05)
    await pilot.pause()


def test_dashboard_80x24_both_drives_streaming(snap_compare) -> None:
    assert snap_compare(recorded_app("streaming"), terminal_size=(80, 24), run_before=first_poll)


def test_dashboard_120x40_both_drives_streaming(snap_compare) -> None:
    assert snap_compare(recorded_app("streaming"), terminal_size=(120, 40), run_before=first_poll)


def test_dashboard_80x24_tapes_tab(snap_compare) -> None:
    assert snap_compare(recorded_app("morning"), terminal_size=(80, 24), run_before=first_poll, press=["2"])


async def swap_steps(pilot: Pilot) -> None:
    """The first poll, and the daemon's swap list (asked for on its own)."""
    await first_poll(pilot)
    while not getattr(pilot.app.screen, "steps", None):
        await pilot.pause(0.05)
    await pilot.pause()


def test_swap_screen_first_step(snap_compare) -> None:
    assert snap_compare(recorded_app("morning", start="swap"), terminal_size=(80, 24), run_before=swap_steps)


def test_swap_screen_bring_back_from_the_vault(snap_compare) -> None:
    answers = copy.deepcopy(recording("morning"))
    answers["/swap-list"].update(take_out=[], recall=[
        {"barcode": "DEM007L5", "label": "DEM007L5", "pool": "vdi-daily", "vault": "bank-safe",
         "night": "2026-12-12", "job": "nightly-vdi", "expired": "2026-12-11"},
        {"barcode": "DEM107L4", "label": "DEM107L4", "pool": "files-daily", "vault": "bank-safe",
         "night": "2026-12-13", "job": "nightly-files", "expired": "2026-12-12"}])
    app = TapeConsoleApp(RecordedDaemon(answers).link(), start="swap", busy_seconds=3600, idle_seconds=3600,
                         today=date(2026, 11, 27), cursor_blink=False, watch_terminal=False)
    assert snap_compare(app, terminal_size=(80, 24), run_before=swap_steps)


def test_restore_walkthrough_tapes_needed(snap_compare) -> None:
    async def to_the_tapes(pilot: Pilot) -> None:
        await first_poll(pilot)
        targets = pilot.app.screen.query_one("#what-list", OptionList)
        while targets.option_count < 2:
            await pilot.pause(0.05)
        await pilot.press("down", "enter", "enter")

    assert snap_compare(recorded_app("morning", start="restore"), terminal_size=(80, 24), run_before=to_the_tapes)


# ---- the restore walkthrough running: recorded while the daemon restored a disk of night two
def restoring(run: str = "/restores/1") -> dict[str, Any]:
    """The recording, with GET /restores/1 answering `run` and no restore to follow at the start."""
    answers = copy.deepcopy(recording("restoring"))
    answers["/restores/1"] = answers[run]
    answers["/restores"] = []
    return answers


async def start_the_restore(pilot: Pilot) -> None:
    """The disk in two parts, the newest night, its tape, a folder: Enter. Then wait for the run's first look."""
    await first_poll(pilot)
    screen = pilot.app.screen
    targets = screen.query_one("#what-list", OptionList)
    while targets.option_count < 2:
        await pilot.pause(0.05)
    ids = [str(targets.get_option_at_index(i).id) for i in range(targets.option_count)]
    disk = next(i for i, ident in enumerate(ids) if "files01_shares" in ident)
    await pilot.press(*["down"] * disk, "enter", "enter", "enter", "end", "ctrl+u")
    pilot.app.focused.post_message(events.Paste("/srv/restore/files01"))
    await pilot.pause()
    await pilot.press("enter")
    panel = screen.query_one("#run")
    for _ in range(200):  # the start's answer (nothing read yet), then the first look at the run
        if panel.current is not None and (panel.current["bytes"] or panel.current["state"] != "running"):
            break
        await pilot.pause(0.05)
    await pilot.pause()


def test_restore_walkthrough_reading_the_tape(snap_compare) -> None:
    app = recorded_app("restoring", restoring(), start="restore")
    assert snap_compare(app, terminal_size=(80, 24), run_before=start_the_restore)


def test_restore_walkthrough_insert_the_tape(snap_compare) -> None:
    """The same run waiting for its tape from the shelf, as on real drives (the recording's virtual drives load
    it themselves, so this state is made up from it)."""
    answers = restoring()
    answers["/restores/1"].update(state="waiting", bytes=0, rate=0.0, eta_seconds=None, member=None,
                                  need="insert tape DEM002L5 into drive lto5")
    next(t for t in answers["/tapes"] if t["barcode"] == "DEM002L5")["location"] = "shelf"
    app = recorded_app("restoring", answers, start="restore")
    assert snap_compare(app, terminal_size=(80, 24), run_before=start_the_restore)


def test_restore_walkthrough_result(snap_compare) -> None:
    app = recorded_app("restoring", restoring("ended /restores/1"), start="restore")
    assert snap_compare(app, terminal_size=(80, 24), run_before=start_the_restore)
