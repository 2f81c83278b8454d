"""First run, then the morning after: the demo key, the tape swap (right and wrong tapes), the restore walkthrough.

One daemon, in order: the demo writes last night's tapes; the swap sends them offsite and puts new ones in;
a mislabelled cartridge is caught by the label read back; the restore walkthrough brings the VDI tape back
and restores a disk from it.
"""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.widgets import OptionList, Static

from console.tui.screens.restore import RestoreScreen
from console.tui.screens.swap import SwapScreen
from tests.console.conftest import Site, console, notices, until
from widgets.big_text import BigText


def words(screen: SwapScreen) -> tuple[str, str, str]:
    """The big verb, the big tape name and the plain words the swap screen shows."""
    return (screen.query_one("#swap-verb", BigText).text, screen.query_one("#swap-tape", BigText).text,
            str(screen.query_one("#swap-where", Static).content))


async def at_step(pilot, verb: str) -> tuple[str, str, str]:
    return await until(pilot, lambda: (w := words(pilot.app.screen)) and w[0] == verb and w, what=f"step {verb}")


def swap_image(site: Site, first: str, second: str) -> None:
    """Put each cartridge's tape in the other's shell: a sticker that lies about the tape inside."""
    a, b = site.shelf / f"{first}.tape", site.shelf / f"{second}.tape"
    temp = site.shelf / "swapping.tmp"
    a.rename(temp)
    b.rename(a)
    temp.rename(b)


async def test_first_run_one_key_starts_both_nightly_jobs(site: Site) -> None:
    async with console(site, size=(80, 24)) as pilot:
        app = pilot.app
        hint = app.screen.query_one("#hint", Static)
        assert "Press d" in str(hint.content) and hint.display
        footer = [b.binding.description for b in app.active_bindings.values() if b.enabled and b.binding.show]
        assert "demo: start both jobs" in footer
        await pilot.press("d")
        runs = await until(pilot, lambda: (r := site.get("/runs")) and {x["job"] for x in r} >= {"nightly-vdi",
                                                                                            "nightly-files"} and r,
                           what="both nightly jobs")
        await until(pilot, lambda: any(n.startswith("demo: started") for n in notices(app)))
        for run in runs:
            await until(pilot, lambda run=run: site.run(run["id"])["state"] == "done", timeout=60,
                        what=f"{run['job']} to end")
        await until(pilot, lambda: not hint.display, what="the hint to go")


async def test_swap_sends_last_nights_tapes_offsite_and_checks_the_new_ones(site: Site) -> None:
    written = {r["job"]: r["tapes"][0] for r in site.get("/runs")}
    async with console(site) as pilot:
        app = pilot.app
        await pilot.press("w")
        screen = await until(pilot, lambda: isinstance(app.screen, SwapScreen) and app.screen.steps and app.screen)
        outgoing = [s.item for s in screen.steps if s.going_out]
        assert {t.barcode for t in outgoing} == {written["nightly-vdi"], written["nightly-files"]}
        for item in outgoing:
            verb, tape, where = await until(pilot, lambda item=item: words(screen)[1] == item.barcode and words(screen),
                                            what=f"take out {item.barcode}")
            assert verb == "TAKE OUT" and f"drive {item.drive}" in where and "offsite box" in where
            await pilot.press("enter")
            await until(pilot, lambda item=item: site.tape(item.barcode)["location"] == "offsite:offsite-vault")
        incoming = [s.item for s in screen.steps if not s.going_out]
        assert [p.drive for p in incoming] == ["lto5", "lto4"]
        for item in incoming:
            verb, tape, where = await at_step(pilot, "INSERT")
            assert tape == (item.label or item.barcode) and f"drive {item.drive}" in where
            await pilot.press("enter")
            verb, tape, where = await at_step(pilot, "CORRECT")
            assert f"Correct: drive {item.drive}" in where
            await pilot.press("enter")
        await at_step(pilot, "ALL DONE")
        assert {site.drive("lto5")["loaded"], site.drive("lto4")["loaded"]} == {p.barcode for p in incoming}
        audit = [(e["action"], e.get("barcode")) for e in site.get("/audit?limit=50")]
        swaps = [(e["barcode"], e["direction"], e["verdict"]) for e in site.get("/audit?limit=50")
                 if e["action"] == "swap"]
        for item in incoming:
            assert ("load", item.barcode) in audit and (item.barcode, "in", "correct") in swaps
        assert (written["nightly-vdi"], "out", "moved") in swaps and (written["nightly-files"], "out", "moved") in swaps
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, SwapScreen), what="back on the dashboard")


async def test_swap_names_the_wrong_tape_it_finds(site: Site) -> None:
    inserted = site.drive("lto5")["loaded"]
    site.post("/drives/lto5/eject")
    last_night = next(r for r in site.get("/runs") if r["job"] == "nightly-vdi")["tapes"][0]
    swap_image(site, inserted, last_night)  # the blank cartridge now holds last night's labelled tape
    try:
        async with console(site, start="swap") as pilot:
            screen = pilot.app.screen
            verb, tape, where = await at_step(pilot, "INSERT")
            assert tape == inserted
            await pilot.press("enter")
            verb, tape, where = await at_step(pilot, "WRONG TAPE")
            assert tape == last_night and f"reads {last_night}" in where
            await pilot.press("enter")  # the console ejects it
            await until(pilot, lambda: site.drive("lto5")["loaded"] is None, what="the eject")
            swap_image(site, inserted, last_night)  # the right tape this time
            await at_step(pilot, "INSERT")
            await pilot.press("enter")
            await at_step(pilot, "CORRECT")
            await pilot.press("enter")
            await at_step(pilot, "ALL DONE")
            assert screen.standalone
            await pilot.press("escape")
            await until(pilot, lambda: not pilot.app.is_running, what="tapeconsole swap to exit")
    finally:
        if (site.shelf / "swapping.tmp").exists():
            (site.shelf / "swapping.tmp").unlink()


async def test_restore_walkthrough_brings_the_tape_back_and_restores_the_disk(site: Site, tmp_path: Path) -> None:
    vdi_tape = next(r for r in site.get("/runs") if r["job"] == "nightly-vdi")["tapes"][0]
    async with console(site) as pilot:
        app = pilot.app
        await pilot.press("r")
        screen = await until(pilot, lambda: isinstance(app.screen, RestoreScreen) and app.screen)
        what = screen.query_one("#what-list", OptionList)
        await until(pilot, lambda: what.option_count and what.get_option_at_index(0).id, what="the targets")
        ids = [what.get_option_at_index(i).id for i in range(what.option_count)]
        assert "files:nightly-files" in ids and any(i and i.startswith("vm:") for i in ids)
        what.highlighted = next(i for i, ident in enumerate(ids) if ident and ident.startswith("vm:"))
        await pilot.press("enter")
        night = screen.query_one("#night-list", OptionList)
        await until(pilot, lambda: night.option_count, what="the nights")
        await pilot.press("enter")
        needed = str(screen.query_one("#tapes-list", Static).content)
        assert vdi_tape in needed and "offsite (offsite-vault): bring it back first" in needed
        hint = str(screen.query_one("#tapes-next", Static).content)
        assert "for the recall step" in hint and "asks for each tape" not in hint
        await pilot.press("enter")  # Enter too offers the recall: the daemon would refuse a restore from offsite
        swap = await until(pilot, lambda: isinstance(app.screen, SwapScreen) and app.screen)
        await at_step(pilot, "BRING BACK")
        await pilot.press("enter")
        await at_step(pilot, "EJECT")  # lto5 still holds this morning's tape
        await pilot.press("enter")
        await at_step(pilot, "INSERT")
        await pilot.press("enter")
        await at_step(pilot, "CORRECT")
        await pilot.press("enter")
        await at_step(pilot, "ALL DONE")
        assert swap.steps[0].item.barcode == vdi_tape
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen and screen.step == "target", what="where to restore")
        assert site.drive("lto5")["loaded"] == vdi_tape
        out = tmp_path / "disk"
        await pilot.press("end", "ctrl+u")
        app.focused.post_message(events.Paste(str(out)))  # as a terminal pastes: typing it takes seconds here
        await pilot.pause()
        await pilot.press("enter")
        panel = screen.panel
        await until(pilot, lambda: panel.ended, timeout=60, what="the restore's end")
        run = panel.current
        assert run["state"] == "done" and run["ok"] and run["drive"] == "lto5", run
        [restored] = run["results"]
        assert Path(restored["path"]).stat().st_size == restored["size"] == run["bytes"]
        assert Path(restored["path"]).relative_to(out).parts[0] == "vms" and restored["path"].endswith(".vhd")
    site.post("/drives/lto5/eject")  # the drives empty, the tapes on the shelf, as the next module expects
