"""Every operator action through the keys, the pickers and the confirmations, against a real daemon.

The tests share one daemon and run in order; each leaves both drives empty (the last one, cancel, aside).
"""

from __future__ import annotations

from textual.widgets import Button, Input, OptionList, Select, Static

from console.tui.screens.commands import ConsoleCommands
from console.tui.screens.label_form import LabelForm
from console.tui.screens.plan import PlanScreen
from tests.console.conftest import Site, console, notices, until
from widgets.confirm import ConfirmScreen
from widgets.drive_panel import DrivePanel
from widgets.picker import PickerScreen
from widgets.tape_table import TapeTable


async def pick(pilot, ident: str) -> None:
    """Choose `ident` in the open picker."""
    picker = await until(pilot, lambda: pilot.app.screen if isinstance(pilot.app.screen, PickerScreen) else None,
                         what="a picker")
    options = picker.query_one(OptionList)
    options.highlighted = options.get_option_index(ident)
    await pilot.press("enter")
    await pilot.pause()


async def test_the_dashboard_shows_what_the_daemon_has(site: Site) -> None:
    async with console(site) as pilot:
        app = pilot.app
        panels = {p.drive_name for p in app.screen.query(DrivePanel)}
        assert panels == {"lto4", "lto5"}
        table = app.screen.query_one(TapeTable)
        assert {str(k.value) for k in table.rows} == {t["barcode"] for t in site.get("/tapes")}
        system = str(app.screen.query_one("#system", Static).content)
        assert f"daemon pid {site.get('/health')['pid']} cpu " in system and " threads)" in system
        assert "host: cpu " in system and " net in " in system  # the backup server's figures, named as the host's


async def test_verify_starts_a_verify_of_the_chosen_tape(site: Site) -> None:
    async with console(site) as pilot:
        await pilot.press("v")  # every tape is blank: nothing to verify, said plainly
        await until(pilot, lambda: any("no labelled tape on site" in n for n in notices(pilot.app)))
    site.post("/drives/lto5/load", {"barcode": "TST001L5"})
    site.post("/drives/lto5/label", {"label": "TST001L5", "pool": "vdi-daily"})
    async with console(site) as pilot:
        pilot.app.action_verify("TST001L5")  # what the palette's "Verify a tape" does for a chosen tape
        # the daemon answers: a freshly labelled tape has no set yet, and the console says so
        await until(pilot, lambda: any("tape TST001L5 holds no set to verify" in n for n in notices(pilot.app)))
        assert not [w for w in pilot.app.workers if w.error is not None]  # a readable notice, not a traceback
    assert "verify" not in [e["action"] for e in site.get("/audit?limit=10")]  # refused: nothing was read
    site.post("/drives/lto5/eject")  # the site is shared with the next tests: leave the drive empty


async def test_offsite_and_back_from_the_tape_table(site: Site) -> None:
    async with console(site) as pilot:
        app = pilot.app
        table = app.screen.query_one(TapeTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("TST102L4"))
        await pilot.press("o")  # a blank tape holds nothing to keep offsite
        await until(pilot, lambda: any("offsite: tape TST102L4 is blank" in n for n in notices(app)))
        assert not isinstance(app.screen, ConfirmScreen) and site.tape("TST102L4")["location"] == "shelf"
    site.post("/drives/lto4/load", {"barcode": "TST102L4"})
    site.post("/drives/lto4/label", {"label": "TST102L4", "pool": "files-daily"})
    site.post("/drives/lto4/eject")
    async with console(site) as pilot:
        app = pilot.app
        table = app.screen.query_one(TapeTable)
        table.focus()
        table.move_cursor(row=table.get_row_index("TST102L4"))
        await pilot.press("o")  # labelled now: it asks first, naming the tape and the vault
        confirm = await until(pilot, lambda: app.screen if isinstance(app.screen, ConfirmScreen) else None)
        assert "TST102L4" in confirm.title_text and "offsite-vault" in confirm.body
        await pilot.press("n")
        await pilot.pause(0.3)
        assert site.tape("TST102L4")["location"] == "shelf"
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: site.tape("TST102L4")["location"] == "offsite:offsite-vault", what="offsite")
        await until(pilot, lambda: str(table.get_cell("TST102L4", "location")) == "offsite:offsite-vault",
                    what="the table row")
        await pilot.press("n")
        await until(pilot, lambda: site.tape("TST102L4")["location"] == "shelf", what="back onsite")
        moves = [e for e in site.get("/audit?limit=20") if e["action"] == "move" and e["barcode"] == "TST102L4"]
        assert [m["location"] for m in moves] == ["offsite:offsite-vault", "shelf"]


async def test_the_palette_names_the_target_and_offers_only_what_can_work(site: Site) -> None:
    async with console(site) as pilot:
        offered = [title for title, _, _ in ConsoleCommands(pilot.app.screen).commands()]
        assert "Mark TST001L5 offsite" in offered  # labelled
        assert not [t for t in offered if "offsite" in t and ("TST103L4" in t or "WPR001L5" in t)]  # blank
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"TST001L5 offs")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), what="the question")
        await pilot.press("y")
        await until(pilot, lambda: site.tape("TST001L5")["location"].startswith("offsite"), what="the move")
    moves = [e for e in site.get("/audit?limit=20") if e["action"] == "move" and e["barcode"] == "TST001L5"]
    assert moves and moves[-1]["location"] == site.tape("TST001L5")["location"]
    site.post("/tapes/TST001L5/location", {"location": "shelf"})  # the site is shared with the next tests


async def test_the_load_picker_offers_only_media_the_drive_can_write(site: Site) -> None:
    async with console(site) as pilot:
        await pilot.press("l")
        await pick(pilot, "lto4")
        picker = await until(pilot, lambda: pilot.app.screen if isinstance(pilot.app.screen, PickerScreen)
                             and "lto4" in pilot.app.screen.title_text else None, what="the tape picker")
        offered = [ident for ident, _ in picker.choices]
        assert offered and all(b.endswith(("L4", "L3")) for b in offered), offered
        await pilot.press("escape")


async def test_a_refusal_is_a_readable_notice_not_a_traceback(site: Site) -> None:
    async with console(site) as pilot:
        app = pilot.app
        site.post("/drives/lto4/load", {"barcode": "TST101L4"})
        await until(pilot, lambda: (app.snapshot.drive("lto4") or {}).get("loaded"), what="the poll")
        app.screen.query_one("#drive-lto5", DrivePanel).focus()  # the empty drive
        await pilot.press("e")
        await until(pilot, lambda: any("eject lto5: drive lto5 holds no tape" in n for n in notices(app)))
        app.action_offsite("TST101L4")  # as from a stale screen: the tape went into a drive meanwhile
        await until(pilot, lambda: any("is in lto4: eject it first" in n for n in notices(app)))
        assert not [w for w in app.workers if w.error is not None]
        assert app.is_running
        site.post("/drives/lto4/eject")


async def test_demo_key_says_why_it_cannot_start_on_the_dashboard_and_the_plan(site: Site) -> None:
    site.post("/drives/lto4/load", {"barcode": "TST101L4"})
    site.post("/drives/lto5/load", {"barcode": "TST001L5"})
    runs_before = [r["id"] for r in site.get("/runs")]
    async with console(site) as pilot:
        app = pilot.app
        await until(pilot, lambda: all(d.get("loaded") for d in app.snapshot.drives), what="the poll")
        await pilot.press("d")
        await until(pilot, lambda: any("demo: both drives hold tapes (lto4: TST101L4, lto5: TST001L5)" in n
                                       for n in notices(app)), what="why, on the dashboard")
        await pilot.press("p")
        await until(pilot, lambda: isinstance(app.screen, PlanScreen), what="the plan screen")
        await pilot.press("d")
        await until(pilot, lambda: sum("demo: both drives hold tapes" in n for n in notices(app)) == 2,
                    what="why, on the plan screen")
        assert isinstance(app.screen, PlanScreen)  # said where the key was pressed, nothing opened instead
    assert [r["id"] for r in site.get("/runs")] == runs_before  # no job was started
    assert (site.drive("lto4")["loaded"], site.drive("lto5")["loaded"]) == ("TST101L4", "TST001L5")
    site.post("/drives/lto4/eject")
    site.post("/drives/lto5/eject")


async def test_load_label_with_refusals_then_eject(site: Site) -> None:
    async with console(site) as pilot:
        app = pilot.app
        await pilot.press("l")
        await pick(pilot, "lto5")  # both drives are empty: it asks which
        await pick(pilot, "TST003L5")
        await until(pilot, lambda: site.drive("lto5")["loaded"] == "TST003L5", what="the load")
        await until(pilot, lambda: any("loaded TST003L5, blank" in n for n in notices(app)), what="the notice")
        await until(pilot, lambda: (app.snapshot.drive("lto5") or {}).get("loaded"), what="the next poll")

        await pilot.press("L")  # only lto5 holds a tape: no question which
        form = await until(pilot, lambda: app.screen if isinstance(app.screen, LabelForm) else None, what="form")
        field = form.query_one("#label-text", Input)
        field.value = "bad label!"
        await pilot.click("#write")
        await pilot.pause()
        problem = str(form.query_one("#label-problem", Static).content)
        assert "must be 1-32 letters" in problem
        assert not isinstance(app.screen, ConfirmScreen)

        field.value = "TST003L5"
        form.query_one("#label-pool", Select).value = "files-daily"  # LTO-4 media only: the daemon refuses
        await pilot.pause()  # the form reflows as the problem line empties
        await pilot.click("#write")
        confirm = await until(pilot, lambda: app.screen if isinstance(app.screen, ConfirmScreen) else None)
        assert "TST003L5" in confirm.title_text and "lto5" in confirm.body
        await pilot.press("y")
        await until(pilot, lambda: "takes LTO-4 media" in str(form.query_one("#label-problem", Static).content),
                    what="the refusal in the form")
        assert app.screen is form and not form.query_one("#write", Button).disabled

        form.query_one("#label-pool", Select).value = "vdi-daily"
        await pilot.pause()
        await pilot.click("#write")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await until(pilot, lambda: site.tape("TST003L5")["pool"] == "vdi-daily", what="the label")
        await until(pilot, lambda: not isinstance(app.screen, LabelForm), what="the form to close")
        assert site.tape("TST003L5")["label"] == "TST003L5"

        await until(pilot, lambda: (app.snapshot.drive("lto5") or {}).get("label"), what="the next poll")
        await pilot.press("e")
        await until(pilot, lambda: site.drive("lto5")["loaded"] is None, what="the eject")
        await until(pilot, lambda: any("lto5: ejected TST003L5" in n for n in notices(app)))
        actions = [(e["action"], e.get("barcode")) for e in site.get("/audit?limit=20")]
        assert ("load", "TST003L5") in actions and ("label", "TST003L5") in actions
        assert ("eject", "TST003L5") in actions


async def test_run_a_job_now_and_watch_it_in_the_queue(site: Site) -> None:
    async with console(site) as pilot:
        app = pilot.app
        await pilot.press("b")
        await pick(pilot, "nightly-vdi")
        runs = await until(pilot, lambda: [r for r in site.get("/runs") if r["job"] == "nightly-vdi"], what="a run")
        run_id = runs[0]["id"]
        await until(pilot, lambda: site.run(run_id)["state"] == "done", timeout=60, what="the run to end")
        queue = app.screen.query_one("#jobs")
        await until(pilot, lambda: f"run:{run_id}" in [str(k.value) for k in queue.rows]
                    and str(queue.get_cell(f"run:{run_id}", "state")) == "done", what="the queue row")
        assert site.run(run_id)["tapes"], "the job loaded and labelled a tape itself"


async def test_labelling_an_unexpired_tape_is_refused_before_any_question(site: Site) -> None:
    written = next(t for t in site.get("/tapes") if t.get("last_written") and t.get("expires"))  # the run above
    site.post("/drives/lto5/load", {"barcode": written["barcode"]})
    async with console(site) as pilot:
        app = pilot.app
        await until(pilot, lambda: (app.snapshot.drive("lto5") or {}).get("label"), what="the poll")
        await pilot.press("L")
        await until(pilot, lambda: any(f"kept until {written['expires']}" in n for n in notices(app)),
                    what="the refusal")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, (LabelForm, ConfirmScreen))  # no form, no old label to type back
    site.post("/drives/lto5/eject")


async def test_cancel_asks_naming_the_tape_and_cancels(site: Site) -> None:
    async with console(site) as pilot:
        app = pilot.app
        run = site.post("/jobs/slow-vdi/run")
        await until(pilot, lambda: site.run(run["id"])["tape"], timeout=30, what="slow-vdi writing a tape")
        await until(pilot, lambda: any(r.get("tape") for r in app.snapshot.active_runs()), what="the next poll")
        tape = site.run(run["id"])["tape"]
        # the tape table's `used` is live while the set is written (the inventory records it when the set ends)
        table = app.screen.query_one(TapeTable)
        await until(pilot, lambda: " MB " in str(table.get_cell(tape, "used")), what="the live used column")
        assert site.tape(tape)["bytes_used"] < 1 << 20  # the inventory itself: the label only, until the set ends
        await pilot.press("c")
        confirm = await until(pilot, lambda: app.screen if isinstance(app.screen, ConfirmScreen) else None)
        assert tape in confirm.title_text and "slow-vdi" in confirm.body
        await pilot.press("n")  # refused: nothing happens
        await pilot.pause(0.3)
        assert site.run(run["id"])["state"] == "running"
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        queue = app.screen.query_one("#jobs")
        # the queue says `cancelling` as soon as the daemon took the request, then the run ends at the next record
        await until(pilot, lambda: str(queue.get_cell(f"run:{run['id']}", "state")) == "cancelling",
                    timeout=3, what="cancelling in the queue")
        assert ("cancel", "slow-vdi") in [(e["action"], e.get("job")) for e in site.get("/audit?limit=20")]
        await until(pilot, lambda: any(f"cancelling run {run['id']} (tape {tape})" in n for n in notices(app)))
        # the job stops at the next record: nothing more goes into its buffer (the drive then writes out its own
        # 128 MiB at this site's 3 MB/s before the filemark: the run reads cancelled after that, not waited for here)
        taken = site.run(run["id"])["buffer"]["bytes_in"]
        await pilot.pause(1.0)
        assert site.run(run["id"])["buffer"]["bytes_in"] == taken
        assert "the drive writes out" in str(queue.get_cell(f"run:{run['id']}", "note"))
