"""The restore walkthrough, driven by keys, against a real daemon: it restores, waits for tapes, cancels, refuses.

The daemon runs in this process on a temporary socket: the same API, service and built-in XO simulator as
`tapeconsole daemon run`, so a test can take the shelf's autoloader away from it (as on real drives) and
be the onsite person who puts a cartridge into the drive. The site is the console tests' (conftest.SITE),
with a smaller XO simulator and a faster LTO-4 drive. Every test leaves the drives empty and the tapes on the shelf.
"""

from __future__ import annotations

import copy
import random
import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from textual import events
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from console.client.daemon_client import DaemonClient, DaemonError
from console.config.loading import load_config
from console.engine.daemon.api import build_app
from console.engine.daemon.server import DaemonExtras, bind_socket
from console.engine.daemon.service import TapeService
from console.engine.sources.xo_client import XoClient
from console.tui.app import TapeConsoleApp
from console.tui.screens.restore import RestoreScreen
from console.wire import units
from console.wire.restore_catalog import RESTORABLE, RestoreCatalog
from tests.console.conftest import SITE, TODAY, Site, console, make_files, until
from tests.console.fake_daemon import RecordedDaemon, recording
from tests.restore.conftest import same_tree
from widgets import restore_run
from widgets.big_text import BigText
from widgets.confirm import ConfirmScreen
from widgets.restore_run import RestoreRunPanel

Json = dict[str, Any]
WANTED = "mail/box1/3.eml"
BIG_FILE = 12 << 20  # incompressible, more than the restore's pipe holds (32 records of 256 KiB)
SITE_HERE = SITE.replace("simulator_scale = 1.0", "simulator_scale = 0.1").replace(
    "native_rate_mb_s = 3\nfloor_rate_mb_s = 1", "native_rate_mb_s = 40\nfloor_rate_mb_s = 15")
assert SITE_HERE.count("native_rate_mb_s = 40") == 1 and "simulator_scale = 0.1" in SITE_HERE


@dataclass
class Daemon:
    site: Site
    service: TapeService
    extras: DaemonExtras

    def backup(self, job: str) -> Json:
        run = self.site.post(f"/jobs/{job}/run")
        deadline = time.monotonic() + 60
        while (run := self.site.run(run["id"]))["state"] not in ("done", "failed", "cancelled"):
            assert time.monotonic() < deadline, run
            time.sleep(0.1)
        assert run["state"] == "done", run.get("error")
        return run

    def restores(self) -> list[Json]:
        return self.site.get("/restores")

    def empty_drives(self) -> None:
        for drive in ("lto4", "lto5"):
            if self.site.drive(drive)["loaded"]:
                self.site.post(f"/drives/{drive}/eject")

    @contextmanager
    def without_autoloader(self) -> Iterator[None]:
        """Restores wait for someone to insert each tape, as on real drives."""
        manager = self.service.restores
        autoload, poll = manager.autoload, manager.operator_poll_seconds
        manager.autoload, manager.operator_poll_seconds = None, 0.05
        try:
            yield
        finally:
            manager.autoload, manager.operator_poll_seconds = autoload, poll


@contextmanager
def daemon_in_process() -> Iterator[Daemon]:
    folder = Path(tempfile.mkdtemp(prefix="tcw-", dir="/tmp"))  # short: Unix socket paths are limited
    config_path = folder / "config.toml"
    config_path.write_text(SITE_HERE)
    make_files(folder)
    # after the mail in the archive (it is in name order): a file-tree restore of one mail stops reading early
    (folder / "data" / "mail" / "zz-attachments.bin").write_bytes(random.Random(5).randbytes(BIG_FILE))
    config = load_config(config_path)
    extras = DaemonExtras(config)
    extras.start()
    service = TapeService(config, members_for=extras.sources)
    server = uvicorn.Server(uvicorn.Config(build_app(service), log_level="warning", access_log=False,
                                           lifespan="off"))
    sock = bind_socket(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="test-daemon", daemon=True)
    thread.start()
    site = Site(folder, config_path)
    try:
        deadline = time.monotonic() + 20
        with DaemonClient(site.socket) as probe:
            while probe.health() is None:
                assert time.monotonic() < deadline, "the daemon did not answer"
                time.sleep(0.05)
        yield Daemon(site, service, extras)
    finally:
        if site._client is not None:
            site._client.close()
        server.should_exit = True
        thread.join(15)
        sock.close()
        service.close()
        extras.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def daemon() -> Iterator[Daemon]:
    with daemon_in_process() as d:
        d.backup("nightly-files")
        yield d


# ---- driving the walkthrough
def screen_of(pilot: Pilot) -> RestoreScreen:
    screen = pilot.app.screen
    assert isinstance(screen, RestoreScreen), screen
    return screen


def text(screen: RestoreScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).content)


async def choose(pilot: Pilot, list_id: str, option_id: str) -> None:
    options = screen_of(pilot).query_one(f"#{list_id}", OptionList)
    await until(pilot, lambda: options.option_count and options.get_option_at_index(0).id, what=f"the {list_id}")
    ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
    index = next(i for i, ident in enumerate(ids) if ident and ident.startswith(option_id))
    await pilot.press("home", *["down"] * index, "enter")


async def type_into(pilot: Pilot, value: str) -> None:
    """Clear the focused input and type `value`, key by key."""
    assert isinstance(pilot.app.focused, Input), pilot.app.focused
    await pilot.press("end", "ctrl+u", *value)


async def paste_into(pilot: Pilot, value: str) -> None:
    """Clear the focused input and paste `value`, as a terminal pastes (typing a long path takes seconds here)."""
    field = pilot.app.focused
    assert isinstance(field, Input), field
    await pilot.press("end", "ctrl+u")
    field.post_message(events.Paste(value))
    await until(pilot, lambda: field.value == value, what="the paste")


async def to_the_target(pilot: Pilot, what: str, path: str | None = None) -> RestoreScreen:
    """From the first step to "where to": what, (which files), the newest night, the tapes."""
    screen = screen_of(pilot)
    await choose(pilot, "what-list", what)
    if path is not None:
        await until(pilot, lambda: screen.step == "files", what="the files step")
        await type_into(pilot, path)
        if path:
            found = screen.query_one("#files-list", OptionList)
            await until(pilot, lambda: found.option_count, what="the files found")
        await pilot.press("enter")
    await until(pilot, lambda: screen.step == "night", what="the nights")
    night = screen.query_one("#night-list", OptionList)
    await until(pilot, lambda: night.option_count, what="a night")
    await pilot.press("enter")
    await until(pilot, lambda: screen.step == "tapes", what="the tapes")
    await pilot.press("enter")
    await until(pilot, lambda: screen.step == "target", what="where to")
    return screen


async def ended(pilot: Pilot) -> RestoreRunPanel:
    panel = screen_of(pilot).panel
    await until(pilot, lambda: panel.ended, timeout=60, what="the run's end")
    return panel


# ---- the tests
async def test_a_file_of_a_file_tree_comes_back_byte_for_byte(daemon: Daemon, tmp_path: Path) -> None:
    original = daemon.site.folder / "data" / WANTED
    out = tmp_path / "restored"
    async with console(daemon.site, size=(80, 24), start="restore") as pilot:
        screen = await to_the_target(pilot, "files:nightly-files", WANTED)
        assert "tapeconsole restore" in text(screen, "#target-hint")
        await paste_into(pilot, str(out))
        assert text(screen, "#target-hint").endswith(f"--to {out} --member {WANTED} --wait")
        await pilot.press("enter")
        await until(pilot, lambda: screen.step == "run", what="the restore to start")
        panel = await ended(pilot)
        assert (out / WANTED).read_bytes() == original.read_bytes()
        assert [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()] == [WANTED]
        verdict, lines = text(panel, "#run-verdict"), text(panel, "#run-lines")
        assert verdict.startswith("Restored: 1 of 1 member(s).") and panel.current["state"] == "done"
        assert f"1 file(s), {units.size(original.stat().st_size)} under {out}" in lines
        assert f"The restored data is in {out}" in text(panel, "#run-where-data")
        assert text(screen, "#restore-steps").split("›")[-1].strip() == "6 Result"
        # the file came out before the archive's end, so its sha256 was not read: v verifies the set on tape
        assert "sha256 was not checked: press v to verify the tape" in verdict and "sha256 not checked" in lines
        await pilot.press("v")
        await until(pilot, lambda: panel.verifies and panel.ended, timeout=60, what="the verify")
        [checked] = panel.verifies
        assert checked["state"] == "done" and checked["ok"], checked
        assert "Verified: every member on tape matches the sha256 of the manifest." in text(panel, "#run-verdict")
        assert f"✔ set {checked['results'][0]['set']} on " in text(panel, "#run-lines") and not panel.can_verify

        # the same again into the folder that now holds it: asked first, naming the folder, then replaced
        (out / WANTED).write_text("changed since the restore\n")
        await pilot.press("n")
        await to_the_target(pilot, "files:nightly-files", WANTED)
        assert screen.query_one("#target-input", Input).value == str(out)  # remembered
        await pilot.press("enter")
        question = await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen) and pilot.app.screen,
                               what="the question")
        assert str(out) in question.title_text and "already holds 1 file(s) or folder(s)" in question.body
        await pilot.press("y")
        panel = await ended(pilot)
        assert "(1 replaced)" in text(panel, "#run-lines")
        assert (out / WANTED).read_bytes() == original.read_bytes()
        assert panel.current["request"]["force"] is True
    daemon.empty_drives()


async def test_a_restore_waiting_for_its_tape_says_insert_it_and_goes_on_once_it_is_in(
        daemon: Daemon, tmp_path: Path) -> None:
    [files_set] = [s for s in daemon.site.get("/sets") if s["job"] == "nightly-files"]
    tape, drive = files_set["barcode"], daemon.service.slots["lto4"].drive
    wrong = next(t["barcode"] for t in daemon.site.get("/tapes") if t["generation"] == "LTO-4"
                 and t["barcode"] != tape and t["location"] == "shelf")
    out = tmp_path / "all"
    with daemon.without_autoloader():
        async with console(daemon.site, size=(80, 24), start="restore") as pilot:
            screen = await to_the_target(pilot, "files:nightly-files", "")
            await paste_into(pilot, str(out))
            await pilot.press("enter")
            panel = screen.panel
            verb, name = panel.query_one("#run-verb", BigText), panel.query_one("#run-tape", BigText)
            await until(pilot, lambda: verb.display and verb.text == "INSERT", what="the insert step")
            assert name.text == files_set["tape"]
            assert text(panel, "#run-where").startswith("Take it from the shelf and put it into drive lto4 (LTO-4).")
            assert text(panel, "#run-tapes") == f"Tapes: ▶ {files_set['tape']}"
            drive.load(wrong)  # the onsite person takes the wrong cartridge first
            await until(pilot, lambda: f"Drive lto4 got {wrong}, not {files_set['tape']}" in text(panel, "#run-wrong"),
                        what="the wrong tape named")
            assert (verb.text, name.text) == ("INSERT", files_set["tape"])  # still the one to insert
            drive.load(tape)
            await ended(pilot)
            assert not verb.display and panel.current["state"] == "done"
            assert same_tree(daemon.site.folder / "data" / "mail", out / "mail")
            assert "sha256 matches the manifest" in text(panel, "#run-lines")
    daemon.empty_drives()


async def test_cancel_asks_first_then_stops_the_run(daemon: Daemon, tmp_path: Path) -> None:
    with daemon.without_autoloader():
        async with console(daemon.site, size=(80, 24), start="restore") as pilot:
            screen = await to_the_target(pilot, "files:nightly-files", "")
            await paste_into(pilot, str(tmp_path / "never"))
            await pilot.press("enter")
            panel = screen.panel
            await until(pilot, lambda: panel.current and panel.current["state"] == "waiting", what="the wait")
            await pilot.press("c")
            question = await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen) and pilot.app.screen,
                                   what="the question")
            assert f"Cancel run {panel.current['id']}?" == question.title_text
            await pilot.press("n")  # not yet: it keeps waiting
            await pilot.pause(0.3)
            assert daemon.site.get(f"/restores/{panel.current['id']}")["state"] == "waiting"
            await pilot.press("c")
            await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), what="the question again")
            await pilot.press("y")
            await ended(pilot)
            run = daemon.site.get(f"/restores/{panel.current['id']}")
            assert run["state"] == "cancelled" and "cancelled while waiting to insert" in run["error"]
            assert text(panel, "#run-verdict").startswith("Cancelled (cancelled while waiting to insert tape")
            assert not panel.query_one("#run-problem").display  # "Cancelling…" went with the run
            await pilot.press("escape")
            await until(pilot, lambda: not pilot.app.is_running, what="the walkthrough to close")
    daemon.empty_drives()


async def test_refusals_say_why_in_one_line_and_the_walkthrough_goes_on(daemon: Daemon, tmp_path: Path) -> None:
    daemon.backup("nightly-vdi")
    handle = daemon.extras.simulator
    with XoClient(handle.url, token=handle.token) as xo:
        sr = xo.list_srs(fields="id,name_label")[0]["id"]
    not_a_folder = tmp_path / "a-file"
    not_a_folder.write_text("x")
    before = len(daemon.restores())
    async with console(daemon.site, size=(80, 24), start="restore") as pilot:
        screen = await to_the_target(pilot, "vm:mail01/mail01_system")
        problem = screen.query_one("#target-problem", Static)
        await pilot.press("shift+tab", "down", "enter")  # into Xen Orchestra
        assert screen.to_xo and "SR's uuid" in text(screen, "#target-label")
        await type_into(pilot, "not-a-uuid")
        await pilot.press("enter")
        await until(pilot, lambda: "'not-a-uuid' is not an SR uuid" in str(problem.content), what="the shape check")
        unknown = "00000000-1111-2222-3333-444444444444"
        await paste_into(pilot, unknown)
        await pilot.press("enter")
        await until(pilot, lambda: "has no SR" in str(problem.content), what="the daemon's refusal")
        assert str(problem.content).startswith(f"Refused: Xen Orchestra has no SR {unknown} (SRs: ")
        assert "\n" not in str(problem.content) and screen.step == "target"
        await pilot.press("shift+tab", "up", "enter")  # a folder after all
        await paste_into(pilot, str(not_a_folder))
        await pilot.press("enter")
        await until(pilot, lambda: str(problem.content) == f"Refused: {not_a_folder} is not a folder",
                    what="the folder refused")
        assert len(daemon.restores()) == before  # nothing started
        await pilot.press("shift+tab", "down", "enter")
        await paste_into(pilot, sr)
        await pilot.press("enter")
        panel = await ended(pilot)
        assert panel.current["state"] == "done" and panel.current["ok"], panel.current
        [imported] = handle.sim.received()
        assert imported.sr_id == sr and imported.created
        assert f"in Xen Orchestra as new VDI {imported.vdi_id}" in text(panel, "#run-lines")
        assert text(panel, "#run-where-data") == f"The disks are in Xen Orchestra, on SR {sr}."
    daemon.empty_drives()


async def test_opening_the_walkthrough_follows_a_restore_already_running() -> None:
    """After the console was closed (or the SSH session lost) mid-restore: r shows that restore again."""
    answers = copy.deepcopy(recording("restoring"))
    assert [r["state"] for r in answers["/restores"]] == ["running"]
    app = TapeConsoleApp(RecordedDaemon(answers).link(), busy_seconds=3600, idle_seconds=3600, today=TODAY,
                         cursor_blink=False, watch_terminal=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.snapshot.tick, what="the first poll")
        await pilot.press("r")
        screen = await until(pilot, lambda: isinstance(app.screen, RestoreScreen) and app.screen, what="the screen")
        await until(pilot, lambda: screen.step == "run" and screen.panel.current, what="the run followed")
        assert text(screen.panel, "#run-state") == "Reading tape DEM002L5 in drive lto5, set 3."
        assert any("following it" in str(n.message) for n in app._notifications)
        await pilot.press("escape")  # leaves it running, and says so
        await until(pilot, lambda: app.screen is not screen, what="back on the dashboard")
        assert any("goes on in the daemon (run 1)" in str(n.message) for n in app._notifications)


class SilentDaemon(RecordedDaemon):
    down = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused")
        return super().handle(request)


async def test_a_daemon_that_stops_answering_mid_restore_is_said_then_followed_again(monkeypatch) -> None:
    monkeypatch.setattr(restore_run, "UNANSWERED_SECONDS", 0.1)
    daemon = SilentDaemon(copy.deepcopy(recording("restoring")))
    app = TapeConsoleApp(daemon.link(), start="restore", busy_seconds=0.1, idle_seconds=0.1, today=TODAY,
                         cursor_blink=False, watch_terminal=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await until(pilot, lambda: isinstance(app.screen, RestoreScreen) and app.screen, what="the screen")
        panel = screen.panel
        await until(pilot, lambda: panel.current, what="the restore followed")
        problem = panel.query_one("#run-problem", Static)
        daemon.down = True
        await until(pilot, lambda: problem.display and "The daemon does not answer" in str(problem.content),
                    what="the lost daemon said")
        assert str(problem.content).endswith("Asking again…") and screen.step == "run"
        daemon.down = False
        await until(pilot, lambda: not problem.display, what="the daemon back")
        assert text(panel, "#run-state") == "Reading tape DEM002L5 in drive lto5, set 3."


async def test_opening_the_walkthrough_asks_the_daemon_once() -> None:
    """The sets with their member lists, the jobs and the restore runs come in one answer (GET /restore-catalog),
    not one request per set."""
    daemon = RecordedDaemon(copy.deepcopy(recording("morning")))
    app = TapeConsoleApp(daemon.link(), busy_seconds=3600, idle_seconds=3600, today=TODAY, cursor_blink=False,
                         watch_terminal=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.snapshot.tick, what="the first poll")
        await pilot.pause(0.2)
        before = len(daemon.gets)
        await pilot.press("r")
        screen = await until(pilot, lambda: isinstance(app.screen, RestoreScreen) and app.screen, what="the screen")
        targets = screen.query_one("#what-list", OptionList)
        await until(pilot, lambda: targets.option_count > 1, what="the targets")
        await pilot.pause(0.2)
        assert daemon.gets[before:] == ["/restore-catalog"]
        assert [targets.get_option_at_index(i).id for i in range(targets.option_count)][-1] == "files:nightly-files"


def test_the_restore_catalog_answers_what_the_walkthrough_asked_for_one_by_one(daemon: Daemon) -> None:
    """GET /v1/restore-catalog over the API: the sets, the member lists of the restorable ones, newest first
    (GET /sets/ID each), the jobs and the restore runs."""
    site = daemon.site
    if not any(s["job"] == "nightly-vdi" for s in site.get("/sets")):  # when run on its own
        daemon.backup("nightly-vdi")
    catalog = site.get("/restore-catalog")
    sets = site.get("/sets")
    assert catalog["sets"] == sets and catalog["jobs"] == site.get("/jobs")
    restorable = sorted((s["id"] for s in sets if s["state"] in RESTORABLE), reverse=True)
    assert len(restorable) >= 2 and {s["job"] for s in sets} == {"nightly-files", "nightly-vdi"}
    assert [d["id"] for d in catalog["details"]] == restorable
    assert all(d == site.get(f"/sets/{d['id']}") and d["members"] for d in catalog["details"])
    runs = site.get("/restores")
    assert [(r["id"], r["kind"], r["state"]) for r in catalog["restores"]] == \
        [(r["id"], r["kind"], r["state"]) for r in runs]
    assert RestoreCatalog.from_json(catalog).details == {d["id"]: d for d in catalog["details"]}
    assert [d["id"] for d in site.get("/restore-catalog?limit=1")["details"]] == restorable[:1]
    for bad in ("all", "²"):  # '²' is a digit to str.isdigit() and not to int(): once a 500
        with pytest.raises(DaemonError) as refused:
            site.get(f"/restore-catalog?limit={bad}")
        assert refused.value.status == 400 and "'limit' must be a whole number" in str(refused.value)


async def test_a_burst_of_keys_in_the_folder_field_is_what_it_holds_whatever_refreshes_meanwhile() -> None:
    """Keys typed fast (a paste, a slow SSH link) while the step redraws: the field keeps every key."""
    from console.tui.messages import RestoreToKindChosen
    from console.tui.screens.restore_steps.target import TargetStep

    app = TapeConsoleApp(RecordedDaemon(copy.deepcopy(recording("morning"))).link(), start="restore",
                         busy_seconds=0.2, idle_seconds=0.2, today=TODAY, cursor_blink=False, watch_terminal=False)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await until(pilot, lambda: isinstance(app.screen, RestoreScreen) and app.screen, what="the screen")
        await to_the_target(pilot, "vm:")
        field = screen.query_one("#target-input", Input)
        assert app.focused is field
        typed = "/tmp/x/restore-files"
        step = screen.query_one(TargetStep)
        await pilot.press("end", "ctrl+u", *typed[:8])
        step.post_message(RestoreToKindChosen(False))  # a redraw mid-burst: the kind list's highlight set again
        screen.walk.typed["folder"] = typed[:5]  # the walk's copy lags behind the keys
        step.post_message(RestoreToKindChosen(False))
        await pilot.press(*typed[8:])
        await pilot.pause(0.5)  # polls come and go
        assert field.value == typed
        assert screen.walk.typed["folder"] == typed
