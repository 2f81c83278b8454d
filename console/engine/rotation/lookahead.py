"""The recall list: which tapes in the vault the coming nights will need, worked out night by night.

Each scheduled run of the next N nights takes its tape by the tape-choice rule, on a copy of the inventory
that moves as the nights go: a tape written one night is kept (unexpired) and goes to its pool's vault the
morning after, as the swap list says; tapes in the vault expire on their date. When a run finds nothing
usable here but an expired tape of its pool is in the vault, that tape is on the recall list with the night
it is needed; when not even the vault has one, the night is a shortage.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from croniter import croniter

from console.config.schema import JobConfig
from console.engine.jobs.tape_choice import TapeChoice, first_choice
from console.engine.retention import expiry, is_kept, vault_of
from console.engine.rotation.inputs import SiteNow, retention_day
from console.engine.rotation.next_tape import why_no_tape

Json = dict[str, Any]


@dataclass(frozen=True)
class Recall:
    barcode: str
    label: str | None
    pool: str
    vault: str
    night: date  # the night it is needed (local date of the run)
    job: str
    expired: date | None  # the day its retention ended

    def to_json(self) -> Json:
        return {"barcode": self.barcode, "label": self.label, "pool": self.pool, "vault": self.vault,
                "night": self.night.isoformat(), "job": self.job,
                "expired": self.expired.isoformat() if self.expired else None}


@dataclass(frozen=True)
class Shortage:
    night: date
    job: str
    pool: str
    problem: str

    def to_json(self) -> Json:
        return {"night": self.night.isoformat(), "job": self.job, "pool": self.pool, "problem": self.problem}


@dataclass(frozen=True)
class Outlook:
    recall: tuple[Recall, ...]
    shortages: tuple[Shortage, ...]
    runs: int  # scheduled runs looked at


def scheduled_runs(jobs: list[JobConfig], start: datetime, nights: int) -> list[tuple[datetime, JobConfig]]:
    """Every scheduled run in (start, start + nights days], in time order (config order on a tie)."""
    local = start.astimezone()
    until = local + timedelta(days=nights)
    fires: list[tuple[datetime, int, JobConfig]] = []
    for index, job in enumerate(jobs):
        if not job.schedule:
            continue
        it = croniter(job.schedule, local)
        while (moment := it.get_next(datetime)) <= until:
            fires.append((moment, index, job))
    return [(moment, job) for moment, _, job in sorted(fires, key=lambda f: (f[0], f[1]))]


def look_ahead(site: SiteNow, tapes: list[Json]) -> Outlook:
    """Run the coming nights on `tapes` (today's plan already applied: copies, changed here)."""
    tapes = copy.deepcopy(tapes)
    recalls: dict[str, Recall] = {}
    shortages: list[Shortage] = []
    fires = scheduled_runs(site.jobs, site.now, site.lookahead_nights)
    for moment, job in fires:
        day = retention_day(moment)
        choice = first_choice(site.choices(job, day=day, tapes=tapes), job.drive)
        if choice is None:
            choice = _from_the_vault(site, job, day, tapes)
            if choice is None:
                shortages.append(Shortage(moment.date(), job.name, job.pool, why_no_tape(site, job, day, tapes)))
                continue
            tape = choice.tape
            recalls.setdefault(tape["barcode"], Recall(
                tape["barcode"], tape.get("label"), job.pool, vault_of(tape["location"]) or "vault", moment.date(),
                job.name, expiry(tape, site.pools)))
        _write(site, job, _find(tapes, choice.barcode), moment)
    return Outlook(tuple(sorted(recalls.values(), key=lambda r: (r.night, r.barcode))), tuple(shortages), len(fires))


def _from_the_vault(site: SiteNow, job: JobConfig, day: date, tapes: list[Json]) -> TapeChoice | None:
    """The tape the run would take if the vault's tapes were here (only vault tapes: nothing here was usable)."""
    here = [{**t, "location": "shelf"} if vault_of(t.get("location")) else t for t in tapes]
    away = {t["barcode"] for t in tapes if vault_of(t.get("location"))}
    choice = next((c for c in site.choices(job, day=day, tapes=here) if c.barcode in away), None)
    return None if choice is None else TapeChoice(choice.barcode, choice.reason, choice.needs_label,
                                                   _find(tapes, choice.barcode))


def _find(tapes: list[Json], barcode: str) -> Json:
    return next(t for t in tapes if t["barcode"] == barcode)


def _write(site: SiteNow, job: JobConfig, tape: Json, moment: datetime) -> None:
    """The run writes the tape; the next morning it goes to the vault unless its pool appends to it."""
    pool = site.pools[job.pool]
    tape.update(pool=job.pool, label=tape.get("label") or tape["barcode"], status="writable",
                last_written=moment.isoformat())
    morning = retention_day(moment) + timedelta(days=1)
    if pool["allocation"] != "append" and is_kept(tape, site.pools, morning):
        tape["location"] = f"offsite:{pool.get('vault') or 'vault'}"
    else:
        tape["location"] = "shelf"
