"""The walkthrough's words and requests, without a screen: the target checked, the command, a run told plainly."""

from __future__ import annotations

import copy
import fnmatch
import os

import pytest

from console.client import restore_follow as follow
from console.client import restore_request as ask
from tests.console.fake_daemon import recording


def test_a_folder_must_be_absolute_and_home_is_expanded() -> None:
    assert ask.folder_of("  /srv/restore/../restore/mail01/ ") == "/srv/restore/mail01"
    assert ask.folder_of("~/r") == os.path.join(os.path.expanduser("~"), "r")
    with pytest.raises(ask.TargetProblem, match="'srv/x' is not an absolute path"):
        ask.folder_of("srv/x")
    with pytest.raises(ask.TargetProblem, match="type the folder"):
        ask.folder_of("   ")


def test_an_sr_is_a_uuid() -> None:
    assert ask.sr_of(" 8C2F7D7E-1B4A-4C3E-9F00-5D6E7F8A9B0C ") == "8c2f7d7e-1b4a-4c3e-9f00-5d6e7f8a9b0c"
    for bad in ("", "local storage", "8c2f7d7e-1b4a-4c3e-9f00-5d6e7f8a9b0"):
        with pytest.raises(ask.TargetProblem):
            ask.sr_of(bad)


def test_a_disk_is_asked_for_exactly_even_with_glob_characters_in_its_name() -> None:
    name = "vms/odd[1]-vm/disk*?.vhd"
    [glob] = ask.disk_globs([name])
    assert fnmatch.fnmatchcase(name, glob) and not fnmatch.fnmatchcase("vms/odd1-vm/diskXY.vhd", glob)


def test_a_folder_path_takes_what_is_in_it_and_nothing_beside_it() -> None:
    globs = ask.path_globs(" /mail/box1 ")
    assert globs == ["mail/box1"]
    assert ask.selects(globs, "mail/box1/3.eml") and ask.selects(globs, "mail/box1")
    assert not ask.selects(globs, "mail/box10/3.eml") and not ask.selects(globs, "other/mail/box1/3.eml")
    assert ask.path_globs("") == [] and ask.selects([], "anything")


def test_the_command_line_says_the_same_restore_quoted() -> None:
    request = ask.body(4, ["mail/my box/*.eml"], to="/srv/restore/a b", force=True)
    assert ask.command(request) == "tapeconsole restore 4 --to '/srv/restore/a b' --member 'mail/my box/*.eml' " \
                                   "--force --wait"
    assert ask.command(ask.body(3, [], to_xo="sr-1")) == "tapeconsole restore 3 --to-xo sr-1 --wait"


def running() -> dict:
    return copy.deepcopy(recording("restoring")["/restores/1"])


def test_a_running_restore_in_plain_words() -> None:
    run = running()
    assert follow.doing(run) == "Reading tape DEM002L5 in drive lto5, set 3."
    figures = follow.figures(run)
    assert "32%  210.5 MB of 658.7 MB  33.9 MB/s  13s left" in figures
    assert follow.tape_marks(run) == "Tapes: ▶ DEM002L5"
    run.update(bytes=0, member=None)
    assert follow.doing(run) == "Loading and positioning tape DEM002L5 in drive lto5…"
    run["drive_reads"]["positioning"] = ["set 3: seek to block 3610"]
    assert follow.doing(run) == "Positioning tape DEM002L5 in drive lto5 (set 3: seek to block 3610)…"


@pytest.mark.parametrize(("location", "verb", "where"), [
    ("shelf", "INSERT", "Take it from the shelf and put it into drive lto5 (LTO-5)."),
    ("offsite:vault-a", "BRING BACK", "It is offsite (vault-a): recall it from there, then put it into drive lto5"),
    ("drive:lto4", "INSERT", "It is in drive lto4: eject it there, then put it into drive lto5 (LTO-5)."),
])
def test_waiting_for_a_tape_says_where_it_is_and_what_to_do(location: str, verb: str, where: str) -> None:
    answers = recording("restoring")
    run = running()
    run.update(state="waiting", need="insert tape DEM002L5 into drive lto5", need_tape="DEM002L5")
    tapes = copy.deepcopy(answers["/tapes"])
    next(t for t in tapes if t["barcode"] == "DEM002L5")["location"] = location
    waiting = follow.waiting(run, tapes, answers["/drives"])
    assert waiting is not None and (waiting.verb, waiting.tape, waiting.drive) == (verb, "DEM002L5", "lto5")
    assert waiting.where.startswith(where) and waiting.wrong is None
    run["wrong_tape"] = {"found": "DEM001L5", "wanted": "DEM009L5"}  # an earlier wait's: not this one's
    assert follow.waiting(run, tapes, answers["/drives"]).wrong is None
    run["wrong_tape"] = {"found": "DEM003L5", "wanted": "DEM002L5"}
    waiting = follow.waiting(run, tapes, answers["/drives"])
    assert waiting is not None
    assert waiting.wrong == "Drive lto5 got DEM003L5, not DEM002L5: it was ejected. Put DEM003L5 back on the shelf."
    assert follow.waiting(running(), tapes, answers["/drives"]) is None  # reading: nothing to insert


def test_the_result_names_what_failed_and_what_was_refused() -> None:
    run = copy.deepcopy(recording("restoring")["ended /restores/1"])
    result = follow.outcome(run)
    assert result.ok and result.verdict == "Restored: 1 of 1 member(s). Each one's sha256 matches the manifest."
    assert result.where == "The restored data is in /tmp/tc-rec-zii8a_zl/restored-files01 on the backup server."
    assert result.lines == [f"✔ {run['results'][0]['name']} (658.7 MB): sha256 matches the manifest"]
    name = run["results"][0]["name"]
    run.update(ok=False, results=[{"name": name, "ok": False, "problem": "on tape does not match its sha256"}],
               refused=[{"name": "../evil", "why": "a '..' component leads out of the target"}])
    run["plan"]["unrestorable"] = [{"name": "vms/x.vhd", "why": "its end is on no set in the inventory"}]
    result = follow.outcome(run)
    assert not result.ok and result.verdict.startswith("Not everything was restored: 0 of 1 member(s).")
    assert result.lines == [f"✘ {name}: on tape does not match its sha256",
                            "✘ ../evil: refused: a '..' component leads out of the target",
                            "✘ vms/x.vhd: cannot be restored: its end is on no set in the inventory"]
    assert result.where is None
    run.update(state="cancelled", error="cancelled by root")
    assert follow.outcome(run).verdict == "Cancelled (cancelled by root). 0 of 1 member(s) were restored."
    run.update(state="failed", error="drive lto5: medium error")
    assert follow.outcome(run).verdict == "The restore failed: drive lto5: medium error."
