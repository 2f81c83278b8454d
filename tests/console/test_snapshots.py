"""How the console looks: SVG snapshots at fixed sizes, from recorded daemon answers (no daemon, no clock).

Update after a deliberate change of looks: pytest tests/console/test_snapshots.py --snapshot-update
"""

from __future__ import annotations

from datetime import date

from textual.pilot import Pilot
from textual.widgets import OptionList

from console.app import TapeConsoleApp
from tests.console.fake_daemon import RecordedDaemon, recording

# the last few minutes of each drive's MB/s, as the console would have sampled them (one sample a second)
HISTORY = {
    "lto5": [0.0] * 6 + [18e6, 31e6, 44e6, 49e6, 50e6, 50e6, 47e6, 35e6, 22e6, 36e6, 49e6, 50e6] * 8,
    "lto4": [0.0] * 20 + [12e6, 25e6, 38e6, 40e6, 40e6, 39e6, 40e6, 33e6, 40e6, 40e6] * 7,
}


def recorded_app(name: str, **options: object) -> TapeConsoleApp:
    daemon = RecordedDaemon(recording(name))
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


def test_swap_screen_first_step(snap_compare) -> None:
    assert snap_compare(recorded_app("morning", start="swap"), terminal_size=(80, 24), run_before=first_poll)


def test_restore_walkthrough_tapes_needed(snap_compare) -> None:
    async def to_the_tapes(pilot: Pilot) -> None:
        await first_poll(pilot)
        targets = pilot.app.screen.query_one("#what-list", OptionList)
        while targets.option_count < 2:
            await pilot.pause(0.05)
        await pilot.press("down", "enter", "enter")

    assert snap_compare(recorded_app("morning", start="restore"), terminal_size=(80, 24), run_before=to_the_tapes)
