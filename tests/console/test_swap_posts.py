"""The swap screen walks the daemon's swap list (GET /v1/swap-list) and reports each confirmed step to the
daemon (POST /v1/swaps): out to the vault, back from the vault, in with the label read back."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from textual.widgets import Static

from console.tui.app import TapeConsoleApp
from console.tui.screens.swap import SwapScreen
from tests.console.conftest import until
from tests.console.fake_daemon import RecordedDaemon, recording
from widgets.big_text import BigText

RECALL = [
    {"barcode": "DEM007L5", "label": "DEM007L5", "pool": "vdi-daily", "vault": "bank-safe", "night": "2026-12-12",
     "job": "nightly-vdi", "expired": "2026-12-11"},
    {"barcode": "DEM008L5", "label": "DEM008L5", "pool": "vdi-daily", "vault": "bank-safe", "night": "2026-12-13",
     "job": "nightly-vdi", "expired": "2026-12-12"},
]


def loaded(drive: str, barcode: str, label: str | None = None) -> dict[str, Any]:
    return {"name": drive, "loaded": barcode, "label": label, "blank": label is None, "warning": None}


def app_for(daemon: RecordedDaemon) -> TapeConsoleApp:
    return TapeConsoleApp(daemon.link(), start="swap", busy_seconds=0.2, idle_seconds=0.2, today=date(2026, 11, 27),
                          cursor_blink=False, watch_terminal=False)


def shown(screen: SwapScreen) -> tuple[str, str, str]:
    return (screen.query_one("#swap-verb", BigText).text, screen.query_one("#swap-tape", BigText).text,
            str(screen.query_one("#swap-where", Static).content))


async def test_each_confirmed_step_is_posted_to_the_daemon() -> None:
    answers = copy.deepcopy(recording("morning"))
    answers["/swap-list"]["recall"] = RECALL
    daemon = RecordedDaemon(answers, replies={
        "/swaps": {"audit": {}, "tape": {}},
        "/drives/lto5/load": loaded("lto5", "DEM003L5"),
        "/drives/lto4/load": loaded("lto4", "DEM103L4", label="DEM001L5"),  # a labelled tape in a blank's shell
        "/drives/lto4/eject": {"drive": "lto4", "ejected": "DEM103L4"},
    })
    app = app_for(daemon)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await until(pilot, lambda: isinstance(app.screen, SwapScreen) and app.screen.steps and app.screen)
        assert len(screen.steps) == 7  # four out, one bring-back step, two in
        for barcode in ("DEM001L5", "DEM101L4", "DEM002L5", "DEM102L4"):
            await until(pilot, lambda barcode=barcode: shown(screen)[:2] == ("TAKE OUT", barcode), what=barcode)
            await pilot.press("enter")
        verb, tape, where = await until(pilot, lambda: shown(screen)[0] == "BRING BACK" and shown(screen))
        assert tape == "2 TAPES" and "Bring these back from bank-safe" in where
        assert "DEM007L5, for the night of 2026-12-12 (nightly-vdi)" in where
        await pilot.press("enter")
        await until(pilot, lambda: shown(screen)[:2] == ("INSERT", "DEM003L5"), what="insert DEM003L5")
        await pilot.press("enter")
        await until(pilot, lambda: shown(screen)[0] == "CORRECT", what="the label read back")
        await pilot.press("enter")
        await until(pilot, lambda: shown(screen)[:2] == ("INSERT", "DEM103L4"), what="insert DEM103L4")
        await pilot.press("enter")
        verb, tape, where = await until(pilot, lambda: shown(screen)[0] == "WRONG TAPE" and shown(screen))
        assert tape == "DEM001L5" and "reads DEM001L5, but DEM103L4 should be blank" in where
        posts = [(path, body) for path, body in daemon.posts if path == "/swaps"]
        assert posts == [
            ("/swaps", {"barcode": "DEM001L5", "direction": "out", "verdict": "moved", "drive": "lto5"}),
            ("/swaps", {"barcode": "DEM101L4", "direction": "out", "verdict": "moved", "drive": "lto4"}),
            ("/swaps", {"barcode": "DEM002L5", "direction": "out", "verdict": "moved", "drive": "lto5"}),
            ("/swaps", {"barcode": "DEM102L4", "direction": "out", "verdict": "moved", "drive": "lto4"}),
            ("/swaps", {"barcode": "DEM007L5", "direction": "back", "verdict": "moved"}),
            ("/swaps", {"barcode": "DEM008L5", "direction": "back", "verdict": "moved"}),
            ("/swaps", {"barcode": "DEM003L5", "direction": "in", "verdict": "correct", "drive": "lto5",
                        "found": "DEM003L5"}),
            ("/swaps", {"barcode": "DEM103L4", "direction": "in", "verdict": "wrong", "drive": "lto4",
                        "found": "DEM001L5"}),
        ]
        assert [p for p, _ in daemon.posts if p != "/swaps"] == ["/drives/lto5/load", "/drives/lto4/load"]


async def test_a_refused_bring_back_stays_on_its_step_and_says_why() -> None:
    answers = copy.deepcopy(recording("morning"))
    answers["/swap-list"].update(take_out=[], recall=RECALL)
    daemon = RecordedDaemon(answers, replies={
        "/swaps": (400, {"error": "field 'barcode': no tape DEM007L5 in the inventory"})})
    app = app_for(daemon)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await until(pilot, lambda: isinstance(app.screen, SwapScreen) and app.screen.steps and app.screen)
        await pilot.press("enter")
        result = screen.query_one("#swap-result", Static)
        await until(pilot, lambda: "no tape DEM007L5" in str(result.content), what="the refusal")
        assert shown(screen)[0] == "BRING BACK" and screen.current == 0


async def test_without_a_swap_list_the_screen_says_so_and_asks_again() -> None:
    answers = copy.deepcopy(recording("morning"))
    plan = answers.pop("/swap-list")
    daemon = RecordedDaemon(answers)
    app = app_for(daemon)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await until(pilot, lambda: isinstance(app.screen, SwapScreen) and app.screen)
        where = screen.query_one("#swap-where", Static)
        await until(pilot, lambda: "could not say which tapes to swap" in str(where.content), what="the problem")
        assert "no answer for GET /swap-list" in str(where.content) and not screen.steps
        answers["/swap-list"] = plan
        await pilot.press("r")
        await until(pilot, lambda: len(screen.steps) == 6, what="the list, asked again")
