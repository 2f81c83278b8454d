"""Screen behaviour that needs no live daemon: recorded answers, and replies chosen for each case."""

from __future__ import annotations

import copy
from datetime import date

import httpx
from textual.widgets import Input, OptionList, Select, Static

from console.tui.app import TapeConsoleApp
from console.tui.screens.label_form import LabelForm
from console.tui.screens.restore import RestoreScreen
from console.tui.screens.swap import SwapScreen
from tests.console.conftest import until
from tests.console.fake_daemon import RecordedDaemon, recording
from widgets.big_text import BigText
from widgets.system_strip import SystemStrip


def recorded(daemon: RecordedDaemon, **options: object) -> TapeConsoleApp:
    return TapeConsoleApp(daemon.link(), busy_seconds=0.2, idle_seconds=0.2, today=date(2026, 11, 27),
                          cursor_blink=False, watch_terminal=False, **options)


async def first_poll(pilot) -> None:  # type: ignore[no-untyped-def]
    await until(pilot, lambda: pilot.app.snapshot.tick, what="the first poll")
    await pilot.pause()


async def test_restore_goes_on_with_enter_and_back_with_escape_and_backspace() -> None:
    app = recorded(RecordedDaemon(recording("morning")), start="restore")
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(pilot)
        screen = app.screen
        assert isinstance(screen, RestoreScreen)
        targets = screen.query_one("#what-list", OptionList)
        await until(pilot, lambda: targets.option_count > 1, what="the targets")
        await pilot.press("enter", "enter")
        assert screen.step == "tapes"
        await pilot.press("enter")
        assert screen.step == "target"
        hint = str(screen.query_one("#target-hint", Static).content)
        assert hint.startswith("From the command line: tapeconsole restore 3 --to ") and "--member vms/dc01-" in hint
        await pilot.press("escape")  # the input has the focus: Esc goes back a step
        assert screen.step == "tapes"
        await pilot.press("backspace")
        assert screen.step == "night"
        await pilot.press("escape", "escape")
        await until(pilot, lambda: not app.is_running, what="the standalone walkthrough to close")


async def test_a_refused_restore_says_why_and_stays_on_where_to() -> None:
    daemon = RecordedDaemon(recording("morning"), replies={
        "/restores": (409, {"error": "tape DEM002L5 is offsite (offsite-vault): recall it from offsite-vault"})})
    app = recorded(daemon, start="restore")
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(pilot)
        screen = app.screen
        assert isinstance(screen, RestoreScreen)
        targets = screen.query_one("#what-list", OptionList)
        await until(pilot, lambda: targets.option_count > 1, what="the targets")
        await pilot.press("enter", "enter", "enter")
        await pilot.press("end", "ctrl+u", *"srv/x", "enter")
        problem = screen.query_one("#target-problem", Static)
        assert "'srv/x' is not an absolute path" in str(problem.content) and daemon.posts == []
        await pilot.press("home", "/", "enter")
        await until(pilot, lambda: "Refused" in str(problem.content), what="the refusal")
        assert str(problem.content) == ("Refused: tape DEM002L5 is offsite (offsite-vault): recall it "
                                        "from offsite-vault")
        [(path, body)] = daemon.posts
        assert path == "/restores" and body["set"] == 3 and body["to"] == "/srv/x" and body["force"] is False
        assert body["members"] == [n for n in body["members"] if n.startswith("vms/dc01-")] != []
        assert screen.step == "target" and isinstance(app.focused, Input)


async def test_skipped_swap_steps_are_named_at_the_end() -> None:
    app = recorded(RecordedDaemon(recording("morning")), start="swap")
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(pilot)
        screen = app.screen
        assert isinstance(screen, SwapScreen) and len(screen.steps) == 6
        await pilot.press(*"ssssss")
        assert screen.query_one("#swap-verb", BigText).text == "ALL DONE"
        result = str(screen.query_one("#swap-result", Static).content)
        assert result.startswith("Skipped: DEM001L5, DEM101L4") and "Tell the operator" in result


async def test_a_refused_swap_step_says_why_and_stays() -> None:
    daemon = RecordedDaemon(recording("morning"), replies={
        "/swaps": (409, {"error": "tape DEM001L5 is still in drive lto5: eject it first"})})
    app = recorded(daemon, start="swap")
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(pilot)
        await pilot.press("enter")
        result = app.screen.query_one("#swap-result", Static)
        await until(pilot, lambda: "eject it first" in str(result.content), what="the refusal")
        assert "Press Enter to try again" in str(result.content)
        assert app.screen.query_one("#swap-tape", BigText).text == "DEM001L5"


async def test_relabelling_asks_for_the_old_label_typed_back() -> None:
    answers = copy.deepcopy(recording("morning"))
    lto5 = next(d for d in answers["/drives"] if d["name"] == "lto5")
    lto5.update(loaded="DEM001L5", label="DEM001L5", pool="vdi-daily", blank=False, state="idle")
    # the console sees its retention ended today (else it refuses before the form); the daemon refuses all the same
    next(t for t in answers["/tapes"] if t["barcode"] == "DEM001L5")["expires"] = "2026-11-27"
    daemon = RecordedDaemon(answers, replies={"/drives/lto5/label": (409, {
        "error": "refused: tape DEM001L5 holds backups until 2026-12-10; tape DEM001L5 is not overwritten"})})
    app = recorded(daemon)
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(pilot)
        await pilot.press("L")
        form = await until(pilot, lambda: isinstance(app.screen, LabelForm) and app.screen, what="the form")
        assert form.query_one("#label-pool", Select).value == "vdi-daily"  # the pools of this media first
        await pilot.click("#write")
        await pilot.pause()
        problem = form.query_one("#label-problem", Static)
        assert "type DEM001L5 in the last field" in str(problem.content) and daemon.posts == []
        # the old label typed back, then Enter: keys, not a click, so no stale layout can swallow it
        form.query_one("#label-confirm", Input).focus()
        await pilot.press(*"DEM001L5", "enter")
        await until(pilot, lambda: app.screen is not form,
                    what=f"the confirmation (the form says {str(problem.content)!r})")
        assert "DEM001L5" in app.screen.title_text  # type: ignore[attr-defined]
        await pilot.press("y")
        await until(pilot, lambda: "holds backups until 2026-12-10" in str(problem.content), what="the refusal")
        assert daemon.posts == [("/drives/lto5/label", {"label": "DEM001L5", "pool": "vdi-daily",
                                                        "confirm": "DEM001L5"})]


async def test_no_demo_on_real_drives() -> None:
    answers = copy.deepcopy(recording("morning"))
    answers["/runs"] = []
    for drive in answers["/drives"]:
        drive["kind"] = "st"
    app = recorded(RecordedDaemon(answers))
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(pilot)
        assert not app.demo_possible and not app.screen.query_one("#hint").display
        shown = [b.binding.action for b in app.active_bindings.values() if b.enabled and b.binding.show]
        assert "app.demo" not in shown and "app.run_job" in shown
        await pilot.press("d")  # nothing starts, and it says why
        await until(pilot, lambda: list(app._notifications), what="the reason")
        assert app.snapshot.runs == []
        assert [n.message for n in app._notifications] == [
            "demo: this site has real drives: the demo runs on virtual drives only (b runs a job)"]


class StoppingDaemon(RecordedDaemon):
    down = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused")
        return super().handle(request)


async def test_a_silent_daemon_is_shown_not_hidden() -> None:
    daemon = StoppingDaemon(recording("morning"))
    app = recorded(daemon)
    async with app.run_test(size=(80, 24)) as pilot:
        await first_poll(pilot)
        strip = app.screen.query_one(SystemStrip)
        assert "daemon pid 16769" in str(strip.content)
        daemon.down = True
        await until(pilot, lambda: "daemon not answering" in str(strip.content), what="the lost daemon")
        assert app.screen.query_one("#drive-lto5")  # the last picture stays on screen
