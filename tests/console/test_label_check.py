"""What the console keeps of the swap list: the daemon's answer as steps, and the label read back judged.
(The list itself is the daemon's: tests/rotation.)"""

from __future__ import annotations

from console.client.swap_list import BringBack, Recalled, check_inserted, plan_from_answer
from tests.console.fake_daemon import recording


def test_the_daemons_swap_list_becomes_the_screens_plan() -> None:
    answer = dict(recording("morning")["/swap-list"])
    answer["recall"] = [
        {"barcode": "DEM007L5", "label": "DEM007L5", "pool": "vdi-daily", "vault": "bank-safe",
         "night": "2026-12-12", "job": "nightly-vdi", "expired": "2026-12-11"},
        {"barcode": "DEM107L4", "label": None, "pool": "files-daily", "vault": "town-hall", "night": "2026-12-12",
         "job": "nightly-files", "expired": "2026-12-12"},
        {"barcode": "DEM008L5", "label": "DEM008L5", "pool": "vdi-daily", "vault": "bank-safe",
         "night": "2026-12-13", "job": "nightly-vdi", "expired": "2026-12-12"},
    ]
    plan = plan_from_answer(answer)
    assert [(t.barcode, t.drive, t.vault, t.in_drive) for t in plan.take_out] == [
        ("DEM001L5", "lto5", "offsite-vault", False), ("DEM101L4", "lto4", "offsite-vault", False),
        ("DEM002L5", "lto5", "offsite-vault", False), ("DEM102L4", "lto4", "offsite-vault", False)]
    assert [(p.barcode, p.drive, p.reason, p.location) for p in plan.put_in] == [
        ("DEM003L5", "lto5", "blank", "shelf"), ("DEM103L4", "lto4", "blank", "shelf")]
    assert plan.recall == (
        BringBack("bank-safe", (Recalled("DEM007L5", "DEM007L5", "2026-12-12", "nightly-vdi"),
                                Recalled("DEM008L5", "DEM008L5", "2026-12-13", "nightly-vdi"))),
        BringBack("town-hall", (Recalled("DEM107L4", None, "2026-12-12", "nightly-files"),)))
    assert not plan.empty and plan_from_answer({"take_out": [], "put_in": [], "recall": []}).empty


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
