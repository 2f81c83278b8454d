"""The swap list the console derives until the daemon has one: which tapes go out, which go in."""

from __future__ import annotations

import copy
from datetime import date

from console.rotation import check_inserted, next_tape, plan_swap
from tests.console.fake_daemon import recording

TODAY = date(2026, 11, 27)


def plan(answers: dict, today: date = TODAY):  # type: ignore[no-untyped-def]
    return plan_swap(jobs=answers["/jobs"], runs=answers["/runs"], tapes=answers["/tapes"],
                     pools=answers["/pools"], drives=answers["/drives"], today=today)


def tape(answers: dict, barcode: str) -> dict:
    return next(t for t in answers["/tapes"] if t["barcode"] == barcode)


def test_the_morning_after_two_nights() -> None:
    swap = plan(recording("morning"))
    assert [(t.barcode, t.drive, t.job, t.vault) for t in swap.take_out] == [
        ("DEM001L5", "lto5", "nightly-vdi", "offsite-vault"), ("DEM101L4", "lto4", "nightly-files", "offsite-vault"),
        ("DEM002L5", "lto5", "nightly-vdi", "offsite-vault"), ("DEM102L4", "lto4", "nightly-files", "offsite-vault"),
    ]
    assert not any(t.in_drive for t in swap.take_out)
    assert [(p.barcode, p.drive, p.why) for p in swap.put_in] == [("DEM003L5", "lto5", "blank"),
                                                                   ("DEM103L4", "lto4", "blank")]
    assert swap.notes == ()


def test_nothing_moves_while_both_jobs_write() -> None:
    swap = plan(recording("streaming"))
    assert {t.barcode for t in swap.take_out} == {"DEM001L5", "DEM101L4"}  # night one's, left on the shelf
    assert swap.put_in == ()
    assert len(swap.notes) == 2 and all("still running" in n for n in swap.notes)


def test_a_tape_still_in_an_idle_drive_is_ejected_first() -> None:
    answers = copy.deepcopy(recording("morning"))
    tape(answers, "DEM002L5")["location"] = "drive:lto5"
    lto5 = next(d for d in answers["/drives"] if d["name"] == "lto5")
    lto5.update(loaded="DEM002L5", label="DEM002L5", pool="vdi-daily", state="idle")
    swap = plan(answers)
    out = next(t for t in swap.take_out if t.barcode == "DEM002L5")
    assert out.in_drive and out.drive == "lto5"
    assert any(p.drive == "lto5" for p in swap.put_in), "the drive still needs tonight's tape"


def test_expired_tapes_stay_and_are_reused_before_blank_ones() -> None:
    answers = copy.deepcopy(recording("morning"))
    later = date(2026, 12, 20)  # every written tape has expired (2026-12-10)
    swap = plan(answers, later)
    assert swap.take_out == ()
    assert [(p.barcode, p.why) for p in swap.put_in] == [("DEM001L5", "expired"), ("DEM101L4", "expired")]


def test_an_empty_labelled_tape_of_the_pool_comes_before_a_blank_one() -> None:
    answers = copy.deepcopy(recording("morning"))
    tape(answers, "DEM006L5").update(label="DEM006L5", pool="vdi-daily", status="writable")
    pool = next(p for p in answers["/pools"] if p["name"] == "vdi-daily")
    chosen, why = next_tape(pool, answers["/tapes"], TODAY, set())
    assert (chosen["barcode"], why) == ("DEM006L5", "empty tape of the pool")


def test_with_an_empty_shelf_an_expired_tape_comes_back_from_the_vault() -> None:
    answers = copy.deepcopy(recording("morning"))
    for t in answers["/tapes"]:
        if t["generation"] == "LTO-5":
            t["location"] = "offsite:offsite-vault"
    swap = plan(answers, date(2026, 12, 20))
    vdi = next(p for p in swap.put_in if p.drive == "lto5")
    assert (vdi.barcode, vdi.location) == ("DEM001L5", "offsite:offsite-vault")
    assert vdi.why.startswith("expired")


def test_a_pool_that_appends_keeps_its_tape_until_it_is_full() -> None:
    answers = copy.deepcopy(recording("morning"))
    next(p for p in answers["/pools"] if p["name"] == "files-daily")["allocation"] = "append"
    swap = plan(answers)
    assert {t.barcode for t in swap.take_out} == {"DEM001L5", "DEM002L5"}
    tape(answers, "DEM101L4")["status"] = "full"
    assert "DEM101L4" in {t.barcode for t in plan(answers).take_out}


def test_a_job_waiting_for_a_tape_gets_one() -> None:
    answers = copy.deepcopy(recording("morning"))
    answers["/runs"].append({"id": 9, "job": "nightly-vdi", "drive": "lto5", "state": "waiting-for-tape",
                             "waiting": "insert a writable LTO-5 tape of pool vdi-daily", "tapes": []})
    next(j for j in answers["/jobs"] if j["name"] == "nightly-vdi")["running"] = 9
    swap = plan(answers)
    assert [p.drive for p in swap.put_in] == ["lto5", "lto4"]
    assert any("waits for a tape" in n and "insert a writable LTO-5" in n for n in swap.notes)


def drive(**fields: object) -> dict:
    return {"name": "lto5", "loaded": None, "label": None, "blank": None, "warning": None, **fields}


def test_the_label_read_back_decides() -> None:
    labelled = {"barcode": "DEM002L5", "label": "DEM002L5"}
    blank = {"barcode": "DEM003L5", "label": None}
    assert check_inserted(labelled, drive(loaded="DEM002L5", label="DEM002L5")).correct
    wrong = check_inserted(labelled, drive(loaded="DEM002L5", label="DEM001L5",
                                           warning="this tape reads label DEM001L5, which the inventory has on X"))
    assert not wrong.correct and "reads DEM001L5, not DEM002L5" in wrong.text and wrong.found == "DEM001L5"
    assert check_inserted(blank, drive(loaded="DEM003L5", blank=True)).correct
    labelled_instead = check_inserted(blank, drive(loaded="DEM003L5", label="DEM001L5"))
    assert not labelled_instead.correct and "should be blank" in labelled_instead.text
    assert "is empty" in check_inserted(blank, drive()).text
    blank_instead = check_inserted(labelled, drive(loaded="DEM002L5", blank=True,
                                                   warning="inventory says DEM002L5 is labelled DEM002L5"))
    assert not blank_instead.correct and "a blank tape" in blank_instead.text
    foreign = check_inserted(labelled, drive(loaded="DEM002L5", warning="not a tapeconsole label"))
    assert not foreign.correct and "without a tapeconsole label" in foreign.text
