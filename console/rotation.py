"""Today's tape swap, worked out from what the daemon already says (/jobs, /runs, /tapes, /pools, /drives).

The daemon has no swap list yet: this module is the one place that derives it, so a daemon endpoint can
replace it later. The rules, as the operator would apply them by hand:

- Out: every tape still here that holds unexpired backups goes to its pool's vault: last night's tapes,
  ejected by their jobs, and any left behind on an earlier day (a pool that appends to its tape keeps it
  until it is full; a tape in a working drive stays).
- In: each job's drive needs the tape it will write next. A drive that already holds a writable tape of the
  job's pool needs nothing. Otherwise, from the shelf: an empty labelled tape of the pool, then the pool's
  oldest expired tape, then an unassigned blank tape of the pool's generation (the job labels it); with
  none on the shelf, the pool's oldest expired tape in the vault comes back.
- The label read back from the drive must match: `check_inserted` says "correct" or names the tape found.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

Json = dict[str, Any]
FINISHED = ("done", "failed", "cancelled", "interrupted")


@dataclass(frozen=True)
class TakeOut:
    barcode: str
    label: str | None
    drive: str  # the drive that wrote it
    job: str
    vault: str  # where it goes
    in_drive: bool  # still loaded: eject it first


@dataclass(frozen=True)
class PutIn:
    barcode: str
    label: str | None
    drive: str
    job: str
    pool: str
    why: str  # 'empty tape of the pool', 'expired', 'blank'
    location: str  # where to fetch it from (shelf, offsite:<vault>)


@dataclass(frozen=True)
class SwapPlan:
    take_out: tuple[TakeOut, ...]
    put_in: tuple[PutIn, ...]
    notes: tuple[str, ...]  # what the plan could not do, in plain words

    @property
    def empty(self) -> bool:
        return not self.take_out and not self.put_in


@dataclass(frozen=True)
class Verdict:
    correct: bool
    text: str
    found: str | None  # barcode or label found in the drive


def _written_by(barcode: str, label: str | None, runs: list[Json]) -> Json | None:
    """The latest run that wrote the tape (runs list their tapes by label)."""
    names = {barcode, label}
    return max((r for r in runs if names & set(r.get("tapes") or [])), key=lambda r: r["id"], default=None)


def _last_finished(job: str, runs: list[Json]) -> Json | None:
    finished = [r for r in runs if (r.get("job") or r.get("name")) == job and r.get("state") in FINISHED]
    return max(finished, key=lambda r: r["id"]) if finished else None


def _expired(tape: Json, today: date) -> bool:
    expires = tape.get("expires")
    return bool(expires) and date.fromisoformat(expires) < today


def _usable(tape: Json, generation: str) -> bool:
    return (tape.get("generation") == generation and not tape.get("write_protected")
            and tape.get("status") not in ("damaged", "retired"))


def next_tape(pool: Json, tapes: list[Json], today: date, taken: set[str]) -> tuple[Json, str] | None:
    """The tape a job of `pool` writes next, from the shelf, and why; None when the shelf has none."""
    shelf = [t for t in tapes if t.get("location") == "shelf" and t["barcode"] not in taken
             and _usable(t, pool["generation"])]
    ours = sorted((t for t in shelf if t.get("pool") == pool["name"]), key=lambda t: t["barcode"])
    if pool.get("allocation") == "append":
        room = sorted((t for t in ours if t.get("status") == "writable" and t.get("last_written")),
                      key=lambda t: t["last_written"], reverse=True)
        if room:
            return room[0], "the pool's tape with room"
    empty = [t for t in ours if t.get("status") == "writable" and not t.get("last_written")]
    if empty:
        return empty[0], "empty tape of the pool"
    expired = sorted((t for t in ours if t.get("last_written") and t.get("status") in ("writable", "full")
                      and _expired(t, today)), key=lambda t: (t["last_written"], t["barcode"]))
    if expired:
        return expired[0], "expired"
    blank = sorted((t for t in shelf if t.get("status") == "blank" and not t.get("pool")), key=lambda t: t["barcode"])
    if blank:
        return blank[0], "blank"
    return None


def _drive_ready(drive: Json | None, pool: Json, tapes: list[Json], today: date) -> bool:
    """The drive already holds a tape the job can write to."""
    if drive is None or not drive.get("loaded") or drive.get("warning"):
        return False
    tape = next((t for t in tapes if t["barcode"] == drive["loaded"]), None)
    if tape is None or not _usable(tape, pool["generation"]):
        return False
    if tape.get("pool") == pool["name"]:
        return tape.get("status") == "writable" or (tape.get("status") == "full" and _expired(tape, today))
    return tape.get("status") == "blank" and not tape.get("pool")


def plan_swap(*, jobs: list[Json], runs: list[Json], tapes: list[Json], pools: list[Json],
              drives: list[Json], today: date) -> SwapPlan:
    pools_by_name = {p["name"]: p for p in pools}
    drives_by_name = {d["name"]: d for d in drives}
    busy_drives = {d["name"] for d in drives if d.get("state") not in ("idle", "no-tape", "error")}
    notes: list[str] = []
    runs_by_id = {r["id"]: r for r in runs}
    waiting = {j["name"] for j in jobs
               if (runs_by_id.get(j.get("running")) or {}).get("state") == "waiting-for-tape"}
    for job in jobs:
        if job["name"] in waiting:
            need = runs_by_id[job["running"]].get("waiting") or "a tape"
            notes.append(f"{job['name']} waits for a tape on drive {job['drive']}: {need}.")
            continue
        if job.get("running") is not None:
            notes.append(f"{job['name']} is still running on drive {job['drive']}: swap its tape after it ends.")
            continue
        last = _last_finished(job["name"], runs)
        if last is not None and last["state"] != "done":
            why = f" ({last['error']})" if last.get("error") else ""
            notes.append(f"{job['name']}'s last run {last['state']}{why}: tell the operator.")
    take_out = [item for tape in sorted(tapes, key=lambda t: (t.get("last_written") or "", t["barcode"]))
                if (item := _going_offsite(tape, pools_by_name, busy_drives, runs, today)) is not None]
    outgoing = {item.barcode for item in take_out}
    put_in: list[PutIn] = []
    taken = set(outgoing)
    for job in jobs:
        pool = pools_by_name.get(job["pool"])
        running = job.get("running") is not None and job["name"] not in waiting
        if pool is None or running or any(p.drive == job["drive"] for p in put_in):
            continue  # two jobs sharing a drive: one tape in at a time
        drive = drives_by_name.get(job["drive"])
        ready = (drive or {}).get("loaded") not in outgoing and _drive_ready(drive, pool, tapes, today)
        if ready and job["name"] not in waiting:
            continue
        choice = next_tape(pool, tapes, today, taken) or _bring_back(pool, tapes, today, taken)
        if choice is None:
            notes.append(f"No tape for {job['name']} (pool {pool['name']}, {pool['generation']}) on the shelf "
                         "or due back: tell the operator.")
            continue
        tape, why = choice
        taken.add(tape["barcode"])
        put_in.append(PutIn(barcode=tape["barcode"], label=tape.get("label"), drive=job["drive"], job=job["name"],
                            pool=pool["name"], why=why, location=tape["location"]))
    return SwapPlan(tuple(take_out), tuple(put_in), tuple(notes))


def _going_offsite(tape: Json, pools: dict[str, Json], busy_drives: set[str], runs: list[Json],
                   today: date) -> TakeOut | None:
    """A tape holding unexpired backups that is still here goes to its pool's vault (a pool that appends
    keeps its tape until it is full; a tape in a drive that is working stays)."""
    location = tape.get("location") or ""
    pool = pools.get(tape.get("pool") or "")
    if pool is None or not tape.get("last_written") or tape.get("status") not in ("writable", "full"):
        return None
    if not (location == "shelf" or location.startswith("drive:")) or _expired(tape, today):
        return None
    in_drive = location.startswith("drive:")
    if in_drive and location.split(":", 1)[1] in busy_drives:
        return None
    if pool.get("allocation") == "append" and tape.get("status") != "full":
        return None
    run = _written_by(tape["barcode"], tape.get("label"), runs)
    drive = location.split(":", 1)[1] if in_drive else (run or {}).get("drive") or "?"
    return TakeOut(barcode=tape["barcode"], label=tape.get("label"), drive=drive,
                   job=(run or {}).get("job") or "?", vault=pool.get("vault") or "offsite", in_drive=in_drive)


def _bring_back(pool: Json, tapes: list[Json], today: date, taken: set[str]) -> tuple[Json, str] | None:
    """An expired tape of the pool in the vault, oldest first: it comes back to be written again."""
    due = sorted((t for t in tapes if (t.get("location") or "").startswith("offsite") and t.get("pool") == pool["name"]
                  and t["barcode"] not in taken and _usable(t, pool["generation"]) and _expired(t, today)),
                 key=lambda t: (t.get("last_written") or "", t["barcode"]))
    return (due[0], "expired, back from the vault") if due else None


def check_inserted(expected: Json, drive: Json) -> Verdict:
    """Compare what the drive read from the inserted tape with the tape that was asked for."""
    if not drive.get("loaded"):
        return Verdict(False, f"Drive {drive['name']} is empty: no tape was found.", None)
    found_label, found_barcode = drive.get("label"), drive["loaded"]
    want_label = expected.get("label")
    if want_label:
        if found_label == want_label and not drive.get("warning"):
            return Verdict(True, f"Correct: drive {drive['name']} reads {want_label}.", found_label)
        if found_label:
            return Verdict(False, f"Wrong tape: drive {drive['name']} reads {found_label}, not {want_label}.",
                           found_label)
        what = "a blank tape" if drive.get("blank") else "a tape without a tapeconsole label"
        return Verdict(False, f"Wrong tape: drive {drive['name']} holds {what}, not {want_label}.", found_barcode)
    if found_label:
        return Verdict(False, f"Wrong tape: drive {drive['name']} reads {found_label}, but {expected['barcode']} "
                              "should be blank.", found_label)
    if drive.get("blank") and found_barcode == expected["barcode"] and not drive.get("warning"):
        return Verdict(True, f"Correct: drive {drive['name']} holds {found_barcode}, blank as expected.", found_barcode)
    reason = drive.get("warning") or f"it holds {found_barcode}"
    return Verdict(False, f"Wrong tape: drive {drive['name']} — {reason}.", found_barcode)
