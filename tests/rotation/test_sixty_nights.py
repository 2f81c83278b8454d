"""Sixty nights of rotation with a controlled clock: the real tape choice every night, the real swap list
every morning, a finite set of tapes and 14 days of retention.

Each night every scheduled job takes the tape the real `candidates` gives and writes a set the way a backup
records it (tape_records, the functions backup.py calls); each morning the real swap list is followed:
take-outs go to the vault, recalled tapes come back. Asserted every night: the tape is never unexpired,
never offsite, never one a restore holds, and there is always one. Then the same sixty nights without
bringing anything back: the run that comes up short is one the recall list had named tapes for.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from croniter import croniter

from console.config.loading import load_config
from console.config.schema import Config
from console.engine.inventory import Inventory
from console.engine.jobs.tape_choice import candidates, first_choice
from console.engine.jobs.tape_records import record_labelled, record_written
from console.engine.rotation.inputs import SiteNow
from console.engine.rotation.swap_list import build_swap_list
from console.engine.rotation.swaps import record_swap
from console.engine.rotation.tape_status import mark_tape

NIGHTS = 60
FIRST_MORNING = datetime(2026, 1, 5, 7, 0, tzinfo=UTC)  # a Monday
LTO5 = [f"VDI{n:03d}L5" for n in range(1, 17)]  # one tape a night, 14 days kept: 16 is tight
LTO4 = [f"FIL{n:03d}L4" for n in range(1, 14)]  # weekdays only
HOLD_DAYS = (24, 41)  # a restore holds tonight's best vdi tape all day
DAMAGED_DAY = 9  # a blank LTO-4 tape is found damaged

SITE = """
[daemon]
state_dir = "var"

[shelf]
cartridges = [{cartridges}]

[shelf.capacity_gib]
"LTO-4" = 1
"LTO-5" = 1

[drives.lto4]
kind = "virtual"
generation = "LTO-4"

[drives.lto5]
kind = "virtual"
generation = "LTO-5"

[pools.vdi-daily]
generation = "LTO-5"
retention_days = 14
vault = "bank-safe"

[pools.files-daily]
generation = "LTO-4"
retention_days = 14
vault = "town-hall"

[jobs.nightly-vdi]
source = "files"
drive = "lto5"
pool = "vdi-daily"
paths = ["data"]
schedule = "30 22 * * *"

[jobs.nightly-files]
source = "files"
drive = "lto4"
pool = "files-daily"
paths = ["data"]
schedule = "0 23 * * 1-5"

[rotation]
lookahead_nights = 7
"""


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@dataclass
class Nights:
    """What happened: the tape each run took, the nights that came up short, what each recall list said."""

    written: dict[tuple[date, str], str] = field(default_factory=dict)  # (night, job) -> barcode
    short: list[tuple[date, str]] = field(default_factory=list)
    recalled_for: dict[date, set[str]] = field(default_factory=lambda: defaultdict(set))  # night -> barcodes
    first_listed: dict[tuple[str, date], date] = field(default_factory=dict)  # (barcode, night) -> morning
    held: dict[date, str] = field(default_factory=dict)  # night -> the tape a restore held
    brought_back: set[str] = field(default_factory=set)  # tapes that came back and were then written


def make_site(tmp_path: Path) -> tuple[Config, Inventory, Clock]:
    names = ", ".join(f'"{b}"' for b in LTO5 + LTO4)
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "config.toml").write_text(SITE.format(cartridges=names))
    config = load_config(tmp_path / "config.toml")
    clock = Clock(FIRST_MORNING)
    inventory = Inventory(tmp_path / "inventory.json", clock=clock)
    inventory.sync_pools(config.pools.values())
    for barcode in LTO5 + LTO4:
        inventory.register_cartridge(barcode, f"LTO-{barcode[-1]}", 1 << 30, "shelf")
    return config, inventory, clock


def backup(config: Config, inventory: Inventory, clock: Clock, job_name: str, held: set[str],
           nights: Nights) -> str | None:
    """One scheduled run: the real choice, then the inventory records a backup makes. None: no tape."""
    job = config.jobs[job_name]
    drive = config.drives[job.drive]
    choice = first_choice(candidates(inventory, job.pool, job.drive, drive.generation, held=held), job.drive)
    if choice is None:
        return None
    tape = inventory.tape(choice.barcode)
    assert tape is not None
    assert not tape["location"].startswith("offsite"), f"{choice.barcode} is offsite"
    assert not inventory.is_protected(tape)[0], f"{choice.barcode} is unexpired: {inventory.is_protected(tape)[1]}"
    assert choice.barcode not in held, f"{choice.barcode} is held by a restore"
    assert tape["status"] not in ("damaged", "retired")
    if tape.get("last_written") and choice.barcode in {b for s in nights.recalled_for.values() for b in s}:
        nights.brought_back.add(choice.barcode)
    if choice.needs_label:
        record_labelled(inventory, choice, text=tape.get("label") or choice.barcode, label_uuid=f"uuid-{clock()}",
                        created=clock().isoformat(), pool=job.pool, user="schedule", drive=job.drive, job=job.name,
                        label_bytes=drive.block_size)
    label = tape.get("label") or choice.barcode
    run_id = inventory.add_run({"job": job.name, "drive": job.drive, "pool": job.pool, "state": "done",
                                "tapes": [label], "error": None})
    inventory.add_set({"job": job.name, "run": run_id, "barcode": choice.barcode, "tape": label, "state": "complete"})
    record_written(inventory, choice.barcode, bytes_used=drive.block_size + (300 << 20),
                   ended=clock() + timedelta(minutes=50))
    return choice.barcode


def tonights_runs(config: Config, morning: datetime) -> list[tuple[datetime, str]]:
    """The scheduled runs between this morning and the next, in time order (cron in local time, as the
    daemon's scheduler reads it)."""
    fires = []
    for job in config.jobs.values():
        assert job.schedule
        it = croniter(job.schedule, morning.astimezone())
        while (moment := it.get_next(datetime)) < morning + timedelta(days=1):
            fires.append((moment, job.name))
    return sorted(fires)


def sixty_nights(tmp_path: Path, *, bring_back: bool, until_short: bool = False) -> Nights:
    """The nights as described above; `until_short` stops after the first night a run found no tape."""
    config, inventory, clock = make_site(tmp_path)
    drives = list(config.drives)
    nights = Nights()
    for day in range(NIGHTS):
        morning = FIRST_MORNING + timedelta(days=day)
        clock.moment = morning
        held: set[str] = set()
        if day in HOLD_DAYS:  # a restore of tonight's best tape starts this morning and reads all day
            fire = next(m for m, name in tonights_runs(config, morning) if name == "nightly-vdi")
            clock.moment = fire
            best = first_choice(candidates(inventory, "vdi-daily", "lto5", "LTO-5"), "lto5")
            clock.moment = morning
            if best is not None:
                held = {best.barcode}
                nights.held[morning.date()] = best.barcode
        if day == DAMAGED_DAY:
            blank = next(t["barcode"] for t in inventory.tapes() if t["generation"] == "LTO-4"
                         and t["status"] == "blank")
            mark_tape(inventory, blank, "damaged", "operator", {})
        site = SiteNow.from_inventory(inventory, config, held={b: "restore run 1" for b in held})
        swap = build_swap_list(site)
        assert not {p.barcode for p in swap.put_in} & held and not {r.barcode for r in swap.recall} & held
        assert swap.shortages == (), "enough tapes in all: the vault can always give one back"
        for recall in swap.recall:
            nights.recalled_for[recall.night].add(recall.barcode)
            nights.first_listed.setdefault((recall.barcode, recall.night), morning.date())
            assert recall.vault == ("bank-safe" if recall.pool == "vdi-daily" else "town-hall")
        for out in swap.take_out:
            record_swap(inventory, drives, {"barcode": out.barcode, "drive": out.drive, "direction": "out",
                                            "verdict": "moved"}, "onsite")
        back = [r.barcode for r in swap.recall] + [p.barcode for p in swap.put_in if p.location != "shelf"]
        for barcode in back if bring_back else []:
            record_swap(inventory, drives, {"barcode": barcode, "direction": "back", "verdict": "moved"}, "courier")
        for moment, job in tonights_runs(config, morning):
            clock.moment = moment
            barcode = backup(config, inventory, clock, job, held, nights)
            if barcode is None:
                nights.short.append((moment.date(), job))
            else:
                nights.written[(moment.date(), job)] = barcode
        if until_short and nights.short:
            break
    return nights


@pytest.fixture(scope="module")
def followed(ram_folder: Path) -> Nights:
    return sixty_nights(ram_folder / "followed", bring_back=True)


def test_sixty_nights_following_the_swap_list_always_have_a_tape(followed: Nights) -> None:
    nights = followed
    weekdays = sum(1 for d in range(NIGHTS) if (FIRST_MORNING + timedelta(days=d)).weekday() < 5)
    assert nights.short == []
    assert len(nights.written) == NIGHTS + weekdays  # every scheduled run wrote
    assert nights.recalled_for, "the vault had to give tapes back: the tapes here alone do not last 60 nights"
    assert len(nights.brought_back) >= 10, "most later nights write tapes the recall list brought back"
    for night, barcode in nights.held.items():
        assert nights.written[(night, "nightly-vdi")] != barcode
    # the courier hears of each night's need from the vault a week ahead (lookahead_nights = 7): the first
    # morning a pool's tape for that night was on the list is six mornings before it
    notice: dict[tuple[date, str], int] = {}
    for night, barcodes in nights.recalled_for.items():
        for barcode in barcodes:
            key = (night, barcode[-2:])  # the pool, by generation
            days = (night - nights.first_listed[(barcode, night)]).days
            notice[key] = max(notice.get(key, 0), days)
    assert notice and set(notice.values()) == {6}


def test_without_the_recall_list_the_run_comes_up_short(followed: Nights, ram_folder: Path) -> None:
    ignored = sixty_nights(ram_folder / "ignored", bring_back=False, until_short=True)
    assert ignored.short, "with nothing brought back from the vault some run finds no tape"
    night, job = ignored.short[0]
    # the first night that comes up short is the first night the recall list named, a week ahead
    assert night == min(ignored.recalled_for)
    named = ignored.recalled_for[night]
    assert min(ignored.first_listed[(b, night)] for b in named) == night - timedelta(days=6)
    # following the list, that night had its tape: one the list had brought back from the vault
    brought_back = {b for barcodes in followed.recalled_for.values() for b in barcodes}
    assert followed.written[(night, job)] in brought_back
