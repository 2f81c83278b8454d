"""The capacity plan screen: reached from the dashboard and the palette, fed by the daemon's GET /v1/plan.

The Pilot test runs against a real daemon (its plan of the test site, worked out while the screen waits);
the snapshot draws a recorded plan (tests/console/data/plan.json, made by tests/console/record_plan.py).
"""

from __future__ import annotations

from datetime import date

import httpx
from textual.pilot import Pilot
from textual.widgets import Static

from console.tui.app import TapeConsoleApp
from console.tui.screens.commands import ConsoleCommands
from console.tui.screens.dashboard import DashboardScreen
from console.tui.screens.plan import JobPlan, PlanScreen
from tests.console.conftest import Site, console, until
from tests.console.fake_daemon import RecordedDaemon, recording
from tests.console.test_snapshots import HISTORY, first_poll
from widgets.capacity_chart import CapacityChart


async def test_the_plan_screen_against_the_daemon_at_80x24(site: Site) -> None:
    async with console(site, size=(80, 24)) as pilot:
        app = pilot.app
        names = [name for name, _, _ in ConsoleCommands(app.screen).commands()]
        assert "Capacity plan" in names  # the palette offers it
        await pilot.press("p")
        screen = await until(pilot, lambda: app.screen if isinstance(app.screen, PlanScreen) else None,
                             what="the plan screen")
        plans = await until(pilot, lambda: list(screen.query(JobPlan)), timeout=60, what="the plan")
        assert [p.job["job"] for p in plans] == [j["name"] for j in site.get("/jobs")]
        title = str(screen.query_one("#plan-title", Static).content)
        assert title.startswith("Capacity plan of ") and "every job fits tonight" in title
        vdi = next(p for p in plans if p.job["job"] == "nightly-vdi")
        summary = str(vdi.query_one(".plan-summary", Static).content)
        assert "expected" in summary and "TST00" in summary and "fits" in summary
        chart = vdi.query_one(CapacityChart)
        await until(pilot, lambda: chart.size.width, what="the chart laid out")
        assert chart.size.width >= 70 and chart.capacity == vdi.job["forecast"]["capacity"]
        details = str(vdi.query_one(".plan-details", Static).content)
        assert "8 VDIs of 4 VMs" in details and "no finished run yet" in details
        before = screen.plan
        await pilot.press("r")  # worked out again while the screen keeps answering
        assert str(screen.query_one("#plan-title", Static).content) == "Capacity plan: working it out again…"
        await until(pilot, lambda: screen.plan is not before and list(screen.query(JobPlan)), timeout=60,
                    what="the fresh plan")
        assert "every job fits tonight" in str(screen.query_one("#plan-title", Static).content)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


class CountingDaemon(RecordedDaemon):
    """The recorded daemon, remembering every GET with its query."""

    def __init__(self, answers: dict) -> None:
        super().__init__(answers)
        self.gets: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.gets.append(str(request.url.raw_path.decode()))
        return super().handle(request)


def recorded_plan_app(daemon: RecordedDaemon) -> TapeConsoleApp:
    return TapeConsoleApp(daemon.link(), busy_seconds=3600, idle_seconds=3600, rate_history=HISTORY,
                          today=date(2026, 11, 27), cursor_blink=False, watch_terminal=False)


async def test_the_recorded_plan_asks_once_then_fresh_and_says_when_the_daemon_cannot() -> None:
    daemon = CountingDaemon({**recording("morning"), **recording("plan")})
    app = recorded_plan_app(daemon)
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(pilot)
        app.action_plan()
        await until(pilot, lambda: isinstance(app.screen, PlanScreen) and list(app.screen.query(JobPlan)))
        await pilot.press("r")
        await until(pilot, lambda: "/v1/plan?fresh=1" in daemon.gets)
        assert [g for g in daemon.gets if g.startswith("/v1/plan")] == ["/v1/plan", "/v1/plan?fresh=1"]
        del daemon.answers["/plan"]
        await pilot.press("r")
        title = app.screen.query_one("#plan-title", Static)
        await until(pilot, lambda: "cannot get it" in str(title.content))
        assert str(title.content) == "Capacity plan: cannot get it: the recording has no answer for GET /plan"


def test_plan_screen_80x24(snap_compare) -> None:
    async def to_the_plan(pilot: Pilot) -> None:
        await first_poll(pilot)
        await pilot.press("p")
        while not (isinstance(pilot.app.screen, PlanScreen) and list(pilot.app.screen.query(JobPlan))):
            await pilot.pause(0.05)
        await pilot.pause()

    app = recorded_plan_app(RecordedDaemon({**recording("morning"), **recording("plan")}))
    assert snap_compare(app, terminal_size=(80, 24), run_before=to_the_plan)


def test_plan_screen_120x40(snap_compare) -> None:
    async def to_the_plan(pilot: Pilot) -> None:
        await first_poll(pilot)
        await pilot.press("p")
        while not (isinstance(pilot.app.screen, PlanScreen) and list(pilot.app.screen.query(JobPlan))):
            await pilot.pause(0.05)
        await pilot.pause()

    app = recorded_plan_app(RecordedDaemon({**recording("morning"), **recording("plan")}))
    assert snap_compare(app, terminal_size=(120, 40), run_before=to_the_plan)
