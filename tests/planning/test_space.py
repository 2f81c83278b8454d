"""The tape a job's next run gets, the room on it, and the verdict: fits, tight, spills, no tape."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from console.engine.planning.space import Ledger, record, room_on, space_for
from tests.planning.conftest import MB, Clock, add_tape, files_job, make_config, make_inventory

CAP = 10 * MB
BLOCK = 262144
ROOM = CAP - BLOCK - CAP // 50  # a blank tape to label: the label's block and the 2% early-warning zone kept free


def site(tmp_path: Path, tapes: int, *, allocation: str = "new-each-run"):
    clock = Clock("2026-11-26T07:00")
    config = make_config(tmp_path, allocation=allocation)
    inventory = make_inventory(tmp_path, config, clock)
    for n in range(tapes):
        add_tape(inventory, f"TST00{n + 1}L5", CAP)
    return clock, config, inventory


def verdict(tmp_path: Path, tapes: int, expected: int | None):
    clock, config, inventory = site(tmp_path, tapes)
    return space_for(inventory, files_job(config), config.drives["lto5"], expected, moment=clock.now)


def test_room_on_a_blank_an_appended_and_a_labelled_tape() -> None:
    assert room_on({"capacity": CAP}, relabel=True, block_size=BLOCK) == ROOM == 9_537_856
    used = {"capacity": CAP, "bytes_used": 4 * MB}
    assert room_on(used, relabel=False, block_size=BLOCK) == CAP - 4 * MB - CAP // 50
    assert room_on(used, relabel=True, block_size=BLOCK) == ROOM  # relabelled: what was on it is gone
    assert room_on({"capacity": CAP, "early_warning_bytes": MB}, relabel=True, block_size=BLOCK) == CAP - BLOCK - MB


def test_fits_tight_and_unknown(tmp_path: Path) -> None:
    space = verdict(tmp_path / "a", 1, MB)
    assert (space.verdict, space.room, space.fits, space.tapes_needed) == ("fits", ROOM, True, 1)
    assert space.tape is not None and space.tape["barcode"] == "TST001L5" and space.tape["needs_label"]
    assert space.text == "fits on TST001L5 (blank: to label): 10% of its 9.5 MB"
    tight = verdict(tmp_path / "b", 1, int(ROOM * 0.95))
    assert (tight.verdict, tight.fits) == ("tight", True) and "95% of its 9.5 MB" in tight.text
    unknown = verdict(tmp_path / "c", 1, None)
    assert (unknown.verdict, unknown.fits) == ("unknown", None)


def test_spills_onto_the_tapes_on_hand_or_says_how_many_are_missing(tmp_path: Path) -> None:
    space = verdict(tmp_path / "a", 3, int(ROOM * 2.5))
    assert (space.verdict, space.fits, space.tapes_needed, space.short) == ("spills", False, 3, 0)
    assert space.uses == ("TST001L5", "TST002L5", "TST003L5")
    assert space.text.endswith("continues onto 2 more tapes (2 on hand)")
    short = verdict(tmp_path / "b", 1, int(ROOM * 2.5))
    assert (short.verdict, short.tapes_needed, short.short) == ("spills", 3, 2)
    assert short.text.endswith("continues onto 2 more tapes; 2 tapes short: label or bring more")


def test_no_tape_when_every_tape_is_offsite_or_protected(tmp_path: Path) -> None:
    clock, config, inventory = site(tmp_path, 0)
    add_tape(inventory, "TST001L5", CAP, location="offsite:vault")
    add_tape(inventory, "TST002L5", CAP, write_protected=True)
    written = (clock.moment() - timedelta(days=2)).isoformat()
    add_tape(inventory, "TST003L5", CAP, label="TST003L5", pool="vdi-daily", status="full", last_written=written)
    space = space_for(inventory, files_job(config), config.drives["lto5"], MB, moment=clock.now)
    assert (space.verdict, space.fits, space.tape) == ("no tape", False, None)
    assert space.text.startswith("no tape for pool vdi-daily can take it: insert a writable LTO-5 tape")


def test_an_appending_pool_counts_what_is_on_its_tape(tmp_path: Path) -> None:
    clock, config, inventory = site(tmp_path, 0, allocation="append")
    written = (clock.moment() - timedelta(days=1)).isoformat()
    add_tape(inventory, "TST001L5", CAP, label="TST001L5", pool="vdi-daily", status="writable",
             bytes_used=6 * MB, last_written=written)
    add_tape(inventory, "TST002L5", CAP)
    job, drive = files_job(config), config.drives["lto5"]
    ledger = Ledger()
    first = space_for(inventory, job, drive, 2 * MB, moment=clock.now, ledger=ledger)
    assert first.tape is not None and first.tape["reason"] == "append"
    assert (first.verdict, first.room) == ("fits", CAP - 6 * MB - CAP // 50)  # 2 MB of the 3.8 MB left
    record(ledger, first, "append")
    second = space_for(inventory, job, drive, 2 * MB, moment=clock.now, ledger=ledger)
    # the first run appended 2 MB: 1.8 MB left on TST001L5, so the second spills onto the blank
    assert (second.room, second.verdict, second.uses) == (CAP - 8 * MB - CAP // 50, "spills", ("TST001L5", "TST002L5"))


def test_runs_planned_before_take_their_tapes(tmp_path: Path) -> None:
    clock, config, inventory = site(tmp_path, 2)
    job, drive = files_job(config), config.drives["lto5"]
    ledger = Ledger()
    tonight = space_for(inventory, job, drive, MB, moment=clock.now, ledger=ledger)
    record(ledger, tonight, "new-each-run")
    tomorrow = space_for(inventory, job, drive, MB, moment=clock.now + timedelta(days=1), ledger=ledger)
    third = space_for(inventory, job, drive, MB, moment=clock.now + timedelta(days=2),
                      ledger=Ledger(taken={"TST001L5", "TST002L5"}))
    assert (tonight.uses, tomorrow.uses, third.verdict) == (("TST001L5",), ("TST002L5",), "no tape")


def test_a_tape_whose_retention_ends_by_the_run_is_taken_then_and_one_in_the_vault_is_recalled(tmp_path: Path) -> None:
    clock, config, inventory = site(tmp_path, 0)
    tomorrow_run = clock.now.replace(hour=22, minute=30) + timedelta(days=1)
    kept_until_tomorrow = (tomorrow_run - timedelta(days=14)).astimezone().isoformat()
    add_tape(inventory, "TST001L5", CAP, label="TST001L5", pool="vdi-daily", status="full",
             last_written=kept_until_tomorrow, bytes_used=9 * MB)
    job, drive = files_job(config), config.drives["lto5"]
    today = space_for(inventory, job, drive, MB, moment=clock.now)
    tomorrow = space_for(inventory, job, drive, MB, moment=tomorrow_run)
    assert today.verdict == "no tape"
    assert tomorrow.verdict == "fits" and tomorrow.tape is not None and tomorrow.tape["reason"] == "expired"
    assert tomorrow.room == ROOM  # relabelled: its old sets are overwritten
    inventory.move_tape("TST001L5", "offsite:vault")
    recalled = space_for(inventory, job, drive, MB, moment=tomorrow_run)
    assert recalled.tape is not None and recalled.tape["reason"] == "expired, in the vault"
    assert "expired, in the vault: recall it" in recalled.text
