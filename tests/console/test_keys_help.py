"""? and F1 open the keys help of the screen in front, listing every key it has; Esc closes it."""

from __future__ import annotations

import copy

from textual.widgets import Static

from console.tui.app import TapeConsoleApp
from console.tui.screens.dashboard import DashboardScreen
from console.tui.screens.swap import SwapScreen
from tests.console.conftest import TODAY, until
from tests.console.fake_daemon import RecordedDaemon, recording
from widgets.keys_help import KeysHelp


def described_keys(screen) -> set[str]:
    return {b.description for _, bindings in screen._modal_binding_chain for _, b in bindings if b.description}


async def test_question_mark_and_f1_list_every_key_of_the_screen_and_escape_closes() -> None:
    app = TapeConsoleApp(RecordedDaemon(copy.deepcopy(recording("morning"))).link(), busy_seconds=3600,
                         idle_seconds=3600, today=TODAY, cursor_blink=False, watch_terminal=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.snapshot.tick, what="the first poll")
        dashboard = app.screen
        assert isinstance(dashboard, DashboardScreen)
        await pilot.press("question_mark")
        help_screen = await until(pilot, lambda: isinstance(app.screen, KeysHelp) and app.screen, what="the help")
        lines = str(help_screen.query_one("#keys-lines", Static).content)
        for what in described_keys(dashboard) - {"close"}:  # the hidden keys too: offsite, verify, plan, quit
            assert what in lines, what
        assert "offsite" in lines and "capacity plan" in lines and "keys help" in lines
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is dashboard, what="the help closed")

        await pilot.press("w")
        swap = await until(pilot, lambda: isinstance(app.screen, SwapScreen) and app.screen, what="the swap screen")
        await pilot.press("f1")
        help_screen = await until(pilot, lambda: isinstance(app.screen, KeysHelp) and app.screen, what="the help")
        lines = str(help_screen.query_one("#keys-lines", Static).content)
        assert "Keys of the swap screen" in str(help_screen.query_one("#keys-title", Static).content)
        assert "do this step" in lines and "skip this step" in lines and "start over" in lines
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is swap, what="back on the swap screen")
