"""Each job's next tape: the one its next run takes (the tape-choice rule on today's inventory), or why
there is none, in plain words ("bring back DEM001L5 from bank-safe", "4 kept until 2026-12-10 ...").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from console.config.schema import JobConfig
from console.engine.jobs.tape_choice import TapeChoice, first_choice
from console.engine.retention import expiry, is_kept, vault_of
from console.engine.rotation.inputs import SiteNow
from console.wire.lto import drive_can_write

Json = dict[str, Any]


@dataclass(frozen=True)
class NextTape:
    job: str
    choice: TapeChoice | None
    problem: str | None  # why there is no tape, when there is none

    def to_json(self) -> Json:
        choice = self.choice
        tape = None if choice is None else {
            "barcode": choice.barcode, "label": choice.tape.get("label"), "reason": choice.reason,
            "location": choice.tape.get("location"), "needs_label": choice.needs_label,
        }
        return {"next_tape": tape, "next_tape_problem": self.problem}


def next_tape(site: SiteNow, job: JobConfig) -> NextTape:
    choice = first_choice(site.choices(job), job.drive)
    return NextTape(job.name, choice, None if choice is not None else why_no_tape(site, job, site.today))


def why_no_tape(site: SiteNow, job: JobConfig, day: date, tapes: list[Json] | None = None) -> str:
    """Why no tape can take the job on `day`, naming what would help first."""
    pool = site.pools.get(job.pool)
    if pool is None:
        return f"pool {job.pool} is not configured"
    generation = pool["generation"]
    drive_generation = site.drive_generations[job.drive]
    media = [t for t in (site.tapes if tapes is None else tapes)
             if t["generation"] == generation and drive_can_write(drive_generation, t["generation"])]
    ours = [t for t in media if t.get("pool") == job.pool]
    parts: list[str] = []
    away = sorted((t for t in ours if vault_of(t.get("location")) and t.get("status") in ("writable", "full")
                   and not is_kept(t, site.pools, day) and not t.get("write_protected")),
                  key=lambda t: (t.get("last_written") or "", t["barcode"]))
    if away:
        first = away[0]
        parts.append(f"bring back {first.get('label') or first['barcode']} from {vault_of(first['location'])} "
                     f"(expired {expiry(first, site.pools)})")
    kept = [t for t in ours if is_kept(t, site.pools, day) and t.get("status") in ("writable", "full")]
    if kept:
        ends = [e for t in kept if (e := expiry(t, site.pools)) is not None]
        until = f"kept until {min(ends)} or later" if ends else "kept forever"
        parts.append(f"{len(kept)} {'is' if len(kept) == 1 else 'are'} {until}")
    held = [t["barcode"] for t in media if t["barcode"] in site.held]
    if held:
        parts.append(", ".join(f"{b} is needed by {site.held[b]}" for b in held[:3]))
    elsewhere = [t["barcode"] for t in ours if (t.get("location") or "").startswith("drive:")
                 and t["location"] != f"drive:{job.drive}"]
    if elsewhere:
        parts.append(f"{', '.join(elsewhere)} in another drive")
    unusable = [t for t in ours if t.get("status") in ("damaged", "retired") or t.get("write_protected")]
    if unusable:
        parts.append(f"{len(unusable)} damaged, retired or write-protected")
    parts.append(f"no usable blank {generation} tape")  # a usable blank would have been the choice
    return f"no usable {generation} tape of pool {job.pool} here: " + "; ".join(parts)
