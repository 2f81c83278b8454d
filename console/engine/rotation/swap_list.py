"""The morning swap list, for the onsite person and the courier:

- take out: every tape still here that holds unexpired backups goes to its pool's vault: last night's
  tapes, ejected by their jobs, and any left behind on an earlier day. A pool that appends keeps its
  tape until it is full; a tape in a drive that is working stays, and so does one a restore needs or
  one the coming nights need (brought back early: it does not go back and forth).
- put in: each job's drive needs the tape its next run takes (the tape-choice rule). A drive that already
  holds it needs nothing; two jobs on one drive: one tape in at a time. With nothing usable here, the
  pool's oldest expired tape in the vault comes back for tonight.
- recall: the vault's tapes the next N nights will need (lookahead.py), with the night and the vault, so
  the courier brings them back in time.
- notes: what the list cannot settle, in plain words (a job still running, waiting, or failed last night).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

from console.config.schema import JobConfig
from console.engine.jobs.tape_choice import TapeChoice, first_choice
from console.engine.retention import WRITTEN, expiry, is_kept, vault_of
from console.engine.rotation.inputs import SiteNow
from console.engine.rotation.lookahead import Recall, Shortage, look_ahead
from console.wire.states import ACTIVE, FINISHED
from console.wire.swap_list import PutIn, TakeOut

Json = dict[str, Any]


@dataclass(frozen=True)
class SwapList:
    day: date
    take_out: tuple[TakeOut, ...]
    put_in: tuple[PutIn, ...]
    recall: tuple[Recall, ...]
    stays: tuple[Recall, ...]  # unexpired tapes here that the coming nights need: they do not go out
    shortages: tuple[Shortage, ...]  # nights when not even the vault has a usable tape
    notes: tuple[str, ...]
    lookahead_nights: int
    unscheduled: tuple[str, ...]  # jobs without a schedule: their future nights cannot be looked at

    def to_json(self) -> Json:
        return {
            "day": self.day.isoformat(), "take_out": [t.to_json() for t in self.take_out],
            "put_in": [p.to_json() for p in self.put_in], "recall": [r.to_json() for r in self.recall],
            "stays": [{k: v for k, v in r.to_json().items() if k != "vault"} for r in self.stays],
            "shortages": [s.to_json() for s in self.shortages], "notes": list(self.notes),
            "lookahead_nights": self.lookahead_nights, "unscheduled": list(self.unscheduled),
        }


def build_swap_list(site: SiteNow) -> SwapList:
    notes, running = _job_notes(site)
    take_out = [item for tape in sorted(site.tapes, key=lambda t: (t.get("last_written") or "", t["barcode"]))
                if (item := _going_offsite(site, tape)) is not None]
    outgoing = {item.barcode for item in take_out}
    put_in: list[PutIn] = []
    for job in site.jobs:
        if job.name in running or any(p.drive == job.drive for p in put_in):
            continue
        choice = first_choice(site.choices(job, exclude=outgoing | {p.barcode for p in put_in}), job.drive)
        if choice is None:
            choice = _back_for_tonight(site, job, {p.barcode for p in put_in})
        if choice is None:
            continue  # the lookahead's shortage (or the job's next_tape_problem) says why
        if choice.tape.get("location") == f"drive:{job.drive}":
            continue  # the drive already holds it
        put_in.append(PutIn(choice.barcode, choice.tape.get("label"), job.drive, job.name, job.pool, choice.reason,
                            choice.tape.get("location") or "shelf", choice.needs_label))
    outlook = look_ahead(site, _after_the_swap(site, take_out, put_in))
    # a tape here that the coming nights need stays here rather than go to the vault and come back
    stays = {r.barcode for r in outlook.recall} & outgoing
    here = stays | {p.barcode for p in put_in}
    return SwapList(
        day=site.today, take_out=tuple(t for t in take_out if t.barcode not in stays), put_in=tuple(put_in),
        recall=tuple(r for r in outlook.recall if r.barcode not in here),
        stays=tuple(r for r in outlook.recall if r.barcode in stays), shortages=outlook.shortages,
        notes=tuple(notes), lookahead_nights=site.lookahead_nights,
        unscheduled=tuple(j.name for j in site.jobs if not j.schedule),
    )


def _job_notes(site: SiteNow) -> tuple[list[str], set[str]]:
    """Plain-word notes on each job's run, and the jobs running now (their drive is not swapped)."""
    notes: list[str] = []
    running: set[str] = set()
    for job in site.jobs:
        runs = [r for r in site.runs if (r.get("job") or r.get("name")) == job.name]
        active = next((r for r in reversed(runs) if r.get("state") in ACTIVE), None)
        if active is not None and active["state"] == "waiting-for-tape":
            notes.append(f"{job.name} waits for a tape on drive {job.drive}: {active.get('waiting') or 'a tape'}.")
            continue
        if active is not None and active["state"] == "running":
            running.add(job.name)
            notes.append(f"{job.name} is still running on drive {job.drive}: swap its tape after it ends.")
            continue
        last = next((r for r in reversed(runs) if r.get("state") in FINISHED), None)
        if last is not None and last["state"] != "done":
            why = f" ({last['error']})" if last.get("error") else ""
            notes.append(f"{job.name}'s last run {last['state']}{why}: tell the operator.")
    return notes, running


def _written_by(tape: Json, runs: list[Json]) -> Json | None:
    """The latest run that wrote the tape (runs list their tapes by label)."""
    names = {tape["barcode"], tape.get("label")}
    return max((r for r in runs if names & set(r.get("tapes") or [])), key=lambda r: r["id"], default=None)


def _going_offsite(site: SiteNow, tape: Json) -> TakeOut | None:
    location = tape.get("location") or ""
    pool = site.pools.get(tape.get("pool") or "")
    if pool is None or not tape.get("last_written") or tape.get("status") not in WRITTEN:
        return None
    if not (location == "shelf" or location.startswith("drive:")) or not is_kept(tape, site.pools, site.today):
        return None
    in_drive = location.startswith("drive:")
    drive = location.split(":", 1)[1] if in_drive else None
    if drive is not None and drive in site.busy_drives:
        return None
    if pool["allocation"] == "append" and tape.get("status") != "full":
        return None
    if tape["barcode"] in site.held:
        return None  # a restore reads it here first
    run = _written_by(tape, site.runs) or {}
    return TakeOut(tape["barcode"], tape.get("label"), drive or run.get("drive"), run.get("job"),
                   pool["name"], pool.get("vault") or "vault", in_drive, expiry(tape, site.pools))


def _back_for_tonight(site: SiteNow, job: JobConfig, taken: set[str]) -> TapeChoice | None:
    """Nothing here can take tonight's run: the pool's tape the rule would take from the vault."""
    here = [{**t, "location": "shelf"} if vault_of(t.get("location")) else t for t in site.tapes]
    away = {t["barcode"]: t for t in site.tapes if vault_of(t.get("location"))}
    choice = next((c for c in site.choices(job, tapes=here, exclude=taken) if c.barcode in away), None)
    if choice is None:
        return None
    return TapeChoice(choice.barcode, "expired, back from the vault", choice.needs_label, away[choice.barcode])


def _after_the_swap(site: SiteNow, take_out: list[TakeOut], put_in: list[PutIn]) -> list[Json]:
    """The inventory as it will be once this morning's list is done."""
    tapes = copy.deepcopy(site.tapes)
    out = {t.barcode: t.vault for t in take_out}
    back = {p.barcode for p in put_in if vault_of(p.location)}
    for tape in tapes:
        if tape["barcode"] in out:
            tape["location"] = f"offsite:{out[tape['barcode']]}"
        elif tape["barcode"] in back:
            tape["location"] = "shelf"
    return tapes
