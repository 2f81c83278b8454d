"""The morning swap list from the engine: which tapes go out, which go in, which come back from the vault,
on the recorded morning after two nights of the embedded default (tests/console/data) and variations of it."""

from __future__ import annotations

import copy
import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from console.config.loading import embedded_default_path, load_config
from console.engine.retention import tape_state, with_state
from console.engine.rotation.next_tape import next_tape
from console.engine.rotation.swap_list import SwapList, build_swap_list
from tests.console.fake_daemon import recording
from tests.rotation.recorded import site_from

MORNING = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # the recording: night two ended 2026-11-26 20:01 UTC


def swap(answers: dict[str, Any], ram_path: Path, now: datetime = MORNING, **options: Any) -> SwapList:
    return build_swap_list(site_from(answers, ram_path, now, **options))


def tape(answers: dict[str, Any], barcode: str) -> dict[str, Any]:
    return next(t for t in answers["/tapes"] if t["barcode"] == barcode)


def scheduled(cron: str = "30 22 * * *", nights: int = 7):  # type: ignore[no-untyped-def]
    """The embedded default with both jobs on a schedule, looking `nights` ahead."""
    config = load_config(embedded_default_path())
    jobs = {name: dataclasses.replace(job, schedule=cron) for name, job in config.jobs.items()}
    return dataclasses.replace(config, jobs=jobs, rotation=dataclasses.replace(config.rotation,
                                                                                lookahead_nights=nights))


def test_the_morning_after_two_nights(ram_path: Path) -> None:
    plan = swap(recording("morning"), ram_path)
    assert [(t.barcode, t.drive, t.job, t.vault) for t in plan.take_out] == [
        ("DEM001L5", "lto5", "nightly-vdi", "offsite-vault"), ("DEM101L4", "lto4", "nightly-files", "offsite-vault"),
        ("DEM002L5", "lto5", "nightly-vdi", "offsite-vault"), ("DEM102L4", "lto4", "nightly-files", "offsite-vault"),
    ]
    assert not any(t.in_drive for t in plan.take_out) and {t.expires for t in plan.take_out} == {date(2026, 12, 10)}
    assert [(p.barcode, p.drive, p.reason, p.needs_label) for p in plan.put_in] == [
        ("DEM003L5", "lto5", "blank", True), ("DEM103L4", "lto4", "blank", True)]
    assert plan.notes == () and plan.recall == () and plan.unscheduled == ("nightly-vdi", "nightly-files")


def test_nothing_moves_while_both_jobs_write(ram_path: Path) -> None:
    plan = swap(recording("streaming"), ram_path)
    assert {t.barcode for t in plan.take_out} == {"DEM001L5", "DEM101L4"}  # night one's, left on the shelf
    assert plan.put_in == ()
    assert len(plan.notes) == 2 and all("still running" in n for n in plan.notes)


def test_a_tape_still_in_an_idle_drive_is_ejected_first(ram_path: Path) -> None:
    answers = copy.deepcopy(recording("morning"))
    tape(answers, "DEM002L5")["location"] = "drive:lto5"
    plan = swap(answers, ram_path)
    out = next(t for t in plan.take_out if t.barcode == "DEM002L5")
    assert out.in_drive and out.drive == "lto5"
    assert [p.barcode for p in plan.put_in if p.drive == "lto5"] == ["DEM003L5"], "the drive needs tonight's tape"


def test_expired_tapes_stay_and_are_reused_before_blank_ones(ram_path: Path) -> None:
    plan = swap(recording("morning"), ram_path, datetime(2026, 12, 20, 7, tzinfo=UTC))  # all expired 2026-12-10
    assert plan.take_out == ()
    assert [(p.barcode, p.reason) for p in plan.put_in] == [("DEM001L5", "expired"), ("DEM101L4", "expired")]


def test_an_empty_labelled_tape_of_the_pool_comes_before_a_blank_one(ram_path: Path) -> None:
    answers = copy.deepcopy(recording("morning"))
    tape(answers, "DEM006L5").update(label="DEM006L5", pool="vdi-daily", status="writable")
    lto5 = next(p for p in swap(answers, ram_path).put_in if p.drive == "lto5")
    assert (lto5.barcode, lto5.reason, lto5.needs_label) == ("DEM006L5", "empty tape of the pool", False)


def test_a_drive_already_holding_its_next_tape_needs_nothing(ram_path: Path) -> None:
    answers = copy.deepcopy(recording("morning"))
    tape(answers, "DEM005L5")["location"] = "drive:lto5"  # a blank: the job labels it
    assert [p.drive for p in swap(answers, ram_path).put_in] == ["lto4"]


def test_with_an_empty_shelf_an_expired_tape_comes_back_from_the_vault(ram_path: Path) -> None:
    answers = copy.deepcopy(recording("morning"))
    for t in answers["/tapes"]:
        if t["generation"] == "LTO-5":
            t["location"] = "offsite:offsite-vault"
    plan = swap(answers, ram_path, datetime(2026, 12, 20, 7, tzinfo=UTC))
    lto5 = next(p for p in plan.put_in if p.drive == "lto5")
    assert (lto5.barcode, lto5.location, lto5.reason) == ("DEM001L5", "offsite:offsite-vault",
                                                           "expired, back from the vault")


def test_a_pool_that_appends_keeps_its_tape_until_it_is_full(ram_path: Path) -> None:
    answers = copy.deepcopy(recording("morning"))
    next(p for p in answers["/pools"] if p["name"] == "files-daily")["allocation"] = "append"
    assert {t.barcode for t in swap(answers, ram_path / "a").take_out} == {"DEM001L5", "DEM002L5"}
    tape(answers, "DEM101L4")["status"] = "full"
    assert "DEM101L4" in {t.barcode for t in swap(answers, ram_path / "b").take_out}


def test_a_job_waiting_for_a_tape_gets_one(ram_path: Path) -> None:
    answers = copy.deepcopy(recording("morning"))
    answers["/runs"].append({"id": 9, "job": "nightly-vdi", "drive": "lto5", "state": "waiting-for-tape",
                             "waiting": "insert a writable LTO-5 tape of pool vdi-daily", "tapes": []})
    plan = swap(answers, ram_path)
    assert [p.drive for p in plan.put_in] == ["lto5", "lto4"]
    assert any("waits for a tape" in n and "insert a writable LTO-5" in n for n in plan.notes)


def test_a_failed_night_is_a_note_for_the_operator(ram_path: Path) -> None:
    answers = copy.deepcopy(recording("morning"))
    answers["/runs"][-1].update(state="failed", error="files source: /srv/mail: permission denied")
    plan = swap(answers, ram_path)
    assert plan.notes == ("nightly-files's last run failed (files source: /srv/mail: permission denied): "
                          "tell the operator.",)


def test_a_tape_a_restore_needs_stays_and_is_never_put_in(ram_path: Path) -> None:
    held = {"DEM002L5": "restore run 4", "DEM003L5": "verify run 5"}
    plan = swap(recording("morning"), ram_path, held=held)
    assert "DEM002L5" not in {t.barcode for t in plan.take_out}
    assert [(p.barcode, p.drive) for p in plan.put_in] == [("DEM004L5", "lto5"), ("DEM103L4", "lto4")]


def test_the_recall_list_names_the_vault_tapes_the_coming_nights_need(ram_path: Path) -> None:
    """Four blank tapes of each pool left and a run every night from 2026-12-05: the first four nights take
    the blanks; on 2026-12-09 nothing anywhere has expired (a shortage, said in plain words); on 12-10 and
    12-11 the expired tapes come back. vdi's are in the vault (the recall list); files' are still on the
    shelf: they stay rather than go out and come back."""
    answers = copy.deepcopy(recording("morning"))
    for t in answers["/tapes"]:
        if t["barcode"] in ("DEM001L5", "DEM002L5"):
            t["location"] = "offsite:offsite-vault"
    plan = swap(answers, ram_path, datetime(2026, 12, 5, 7, tzinfo=UTC), config=scheduled(nights=8))
    assert plan.unscheduled == ()
    assert [(r.barcode, r.night, r.vault, r.job, r.expired) for r in plan.recall] == [
        ("DEM001L5", date(2026, 12, 10), "offsite-vault", "nightly-vdi", date(2026, 12, 10)),
        ("DEM002L5", date(2026, 12, 11), "offsite-vault", "nightly-vdi", date(2026, 12, 10))]
    assert plan.take_out == ()
    assert [(r.barcode, r.night) for r in plan.stays] == [("DEM101L4", date(2026, 12, 10)),
                                                          ("DEM102L4", date(2026, 12, 11))]
    assert [(s.night, s.job) for s in plan.shortages] == [
        (date(2026, 12, 9), "nightly-vdi"), (date(2026, 12, 9), "nightly-files"),
        (date(2026, 12, 12), "nightly-vdi"), (date(2026, 12, 12), "nightly-files")]
    assert plan.shortages[0].problem == ("no usable LTO-5 tape of pool vdi-daily here: 6 are kept until "
                                         "2026-12-10 or later; no usable blank LTO-5 tape")


def test_a_short_lookahead_sees_no_recall_yet(ram_path: Path) -> None:
    answers = copy.deepcopy(recording("morning"))
    for t in answers["/tapes"]:
        if t["barcode"] in ("DEM001L5", "DEM002L5"):
            t["location"] = "offsite:offsite-vault"
    plan = swap(answers, ram_path, datetime(2026, 12, 5, 7, tzinfo=UTC), config=scheduled(nights=3))
    assert plan.recall == () and plan.shortages == () and plan.lookahead_nights == 3


def test_weekday_schedules_are_followed_night_by_night(ram_path: Path) -> None:
    """Runs Monday to Friday only: from Friday 2026-12-04 the four blanks last until Wednesday 12-09; on
    Thursday 12-10 the first expired tapes come back from the vault."""
    answers = copy.deepcopy(recording("morning"))
    for t in answers["/tapes"]:
        if t.get("pool"):
            t["location"] = "offsite:offsite-vault"
    plan = swap(answers, ram_path, datetime(2026, 12, 4, 7, tzinfo=UTC), config=scheduled("30 22 * * 1-5"))
    assert {(r.barcode, r.night) for r in plan.recall} == {("DEM001L5", date(2026, 12, 10)),
                                                           ("DEM101L4", date(2026, 12, 10))}
    assert plan.shortages == ()


def test_tape_states_show_expired_without_changing_the_status() -> None:
    answers = recording("morning")
    pools = {p["name"]: p for p in answers["/pools"]}
    written = tape(answers, "DEM001L5")
    assert tape_state(written, pools, date(2026, 12, 9)) == "writable"
    assert tape_state(written, pools, date(2026, 12, 10)) == "expired"
    assert tape_state({**written, "status": "damaged"}, pools, date(2026, 12, 10)) == "damaged"
    assert tape_state(tape(answers, "DEM003L5"), pools, date(2026, 12, 10)) == "blank"
    forever = {**pools, "vdi-daily": {**pools["vdi-daily"], "retention_days": None}}
    assert tape_state(written, forever, date(2040, 1, 1)) == "writable"
    listed = with_state(answers["/tapes"], answers["/pools"], date(2026, 12, 20))
    assert sorted(t["barcode"] for t in listed if t["state"] == "expired") == [
        "DEM001L5", "DEM002L5", "DEM101L4", "DEM102L4"]
    assert all(t["status"] in ("blank", "writable") for t in listed)


def test_each_job_shows_its_next_tape_or_why_there_is_none(ram_path: Path) -> None:
    answers = copy.deepcopy(recording("morning"))
    site = site_from(answers, ram_path / "a", MORNING)
    vdi = next_tape(site, site.jobs[0]).to_json()
    assert vdi == {"next_tape": {"barcode": "DEM003L5", "label": None, "reason": "blank", "location": "shelf",
                                 "needs_label": True}, "next_tape_problem": None}
    for t in answers["/tapes"]:
        if t["generation"] == "LTO-5" and t["status"] == "blank":
            t["status"] = "retired"
    tape(answers, "DEM001L5")["location"] = "offsite:offsite-vault"
    tape(answers, "DEM002L5")["status"] = "damaged"
    later = site_from(answers, ram_path / "b", datetime(2026, 12, 11, 7, tzinfo=UTC))
    none = next_tape(later, later.jobs[0]).to_json()
    assert none["next_tape"] is None
    assert none["next_tape_problem"] == (
        "no usable LTO-5 tape of pool vdi-daily here: bring back DEM001L5 from offsite-vault (expired 2026-12-10); "
        "1 damaged, retired or write-protected; no usable blank LTO-5 tape")
