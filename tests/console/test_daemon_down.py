"""While the daemon does not answer, the dashboard keeps the last values, dimmed, and says since when."""

from __future__ import annotations

import copy
import re

import httpx
from textual.widgets import Static

from console.tui.app import TapeConsoleApp
from tests.console.conftest import TODAY, until
from tests.console.fake_daemon import RecordedDaemon, recording
from widgets.drive_panel import DrivePanel


class SilentDaemon(RecordedDaemon):
    down = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused")
        return super().handle(request)


async def test_the_panes_dim_and_say_since_when_while_the_daemon_is_down() -> None:
    daemon = SilentDaemon(copy.deepcopy(recording("morning")))
    app = TapeConsoleApp(daemon.link(), busy_seconds=0.1, idle_seconds=0.1, today=TODAY, cursor_blink=False,
                         watch_terminal=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.snapshot.tick and app.snapshot.drives, what="the first poll")
        screen = app.screen
        banner = screen.query_one("#stale", Static)
        assert not banner.display or banner.has_class("-hidden")
        assert not screen.query_one("#drives").has_class("-stale")
        daemon.down = True
        await until(pilot, lambda: screen.query_one("#drives").has_class("-stale"), what="the dimmed panes")
        assert screen.query_one("#panes").has_class("-stale") and not banner.has_class("-hidden")
        said = str(banner.content)
        assert re.match(r"The daemon has not answered since \d\d:\d\d:\d\d: what is below is as it was then", said)
        await pilot.pause(0.5)
        assert str(banner.content).split(":")[:3] == said.split(":")[:3]  # since the first miss, not the last
        assert list(screen.query(DrivePanel))  # the last values stay
        daemon.down = False
        await until(pilot, lambda: not screen.query_one("#drives").has_class("-stale"), what="the daemon back")
        assert banner.has_class("-hidden") and not screen.query_one("#panes").has_class("-stale")
