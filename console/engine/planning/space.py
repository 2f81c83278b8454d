"""The tape a job's next run will get and the room on it, with a verdict: fits, tight, spills or no tape.

The tape is the job's own first choice (jobs.tape_choice.candidates), so the planner and the backup agree.
Room on it: capacity minus what is used when the run appends (or writes after the label of a tape already
labelled into the pool), the whole capacity minus the new label when it will be (re)labelled; less the
early-warning zone the backup keeps free in every case. A run larger than the room spills: its sets
continue on the next tapes of the pool, which must be on hand.

Runs planned before this one (other jobs of the pool, or tonight's run when tomorrow's is checked) are
accounted in a Ledger: the tapes they take and the bytes they append.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from console.config.schema import DriveConfig, JobConfig
from console.engine.inventory import Inventory
from console.engine.jobs.tape_choice import TapeChoice, describe_need, first_choice, rank
from console.engine.retention import is_kept
from console.wire.lto import NATIVE_CAPACITY
from console.wire.plan_words import plural, size

TIGHT = 0.9  # above this share of the room a run is "tight"
FREEING_NIGHTS = 7  # tapes whose retention ends within this many nights are counted as coming


def early_warning_reserve(tape: dict[str, Any]) -> int:
    """Bytes kept free before the physical end, as the backup keeps them (2% of the tape, at most 4 GiB)."""
    return int(tape.get("early_warning_bytes") or min(int(tape["capacity"]) // 50, 4 << 30))


def room_on(tape: dict[str, Any], *, relabel: bool, block_size: int) -> int:
    """Bytes a run can write on this tape."""
    used = block_size if relabel else max(int(tape.get("bytes_used") or 0), block_size)
    return max(0, int(tape["capacity"]) - used - early_warning_reserve(tape))


def typical_tape(inventory: Inventory, generation: str) -> dict[str, Any]:
    """One tape of a generation as most of the inventory's tapes of it are (capacity, early-warning zone);
    the native capacity when the inventory has none."""
    tapes = [t for t in inventory.tapes() if t["generation"] == generation and t.get("capacity")]
    if not tapes:
        return {"capacity": NATIVE_CAPACITY[generation]}
    caps = [int(t["capacity"]) for t in tapes]
    capacity = max(set(caps), key=lambda c: (caps.count(c), c))
    same = next(t for t in tapes if int(t["capacity"]) == capacity)
    return {"capacity": capacity, "early_warning_bytes": same.get("early_warning_bytes")}


def usable_capacity(inventory: Inventory, generation: str, block_size: int) -> int:
    """What one freshly labelled tape of the generation holds for a run."""
    return room_on(typical_tape(inventory, generation), relabel=True, block_size=block_size)


@dataclass
class Ledger:
    """What the runs planned before take: whole tapes (new-each-run, spills) and bytes appended."""

    taken: set[str] = field(default_factory=set)
    appended: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Space:
    verdict: str  # fits | tight | spills | no tape | unknown
    text: str  # the verdict in a sentence
    tape: dict[str, Any] | None  # barcode, label, reason, needs_label, location
    room: int | None
    expected: int | None
    tapes_needed: int  # tapes the run writes on (1 + the spill)
    tapes_on_hand: int  # tapes the pool's runs can take now (for this one: after the runs planned before)
    uses: tuple[str, ...] = ()  # barcodes the run would write on
    short: int = 0  # tapes missing for the spill

    @property
    def fits(self) -> bool | None:
        """True: fits the tape it gets; False: spills or has no tape; None: size unknown."""
        if self.verdict == "unknown":
            return None
        return self.verdict in ("fits", "tight")

    def to_json(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "text": self.text, "tape": self.tape, "room": self.room,
                "expected": self.expected, "tapes_needed": self.tapes_needed, "tapes_on_hand": self.tapes_on_hand,
                "uses": list(self.uses), "short": self.short, "fits": self.fits}


def expiring(inventory: Inventory, pool: str, after: date, until: date) -> list[tuple[date, dict[str, Any]]]:
    """Tapes of the pool whose retention ends in (after, until], soonest first (offsite ones included:
    they come back with the tape swap)."""
    found = []
    for tape in inventory.tapes():
        if tape.get("pool") != pool or tape.get("write_protected") or tape["status"] not in ("writable", "full"):
            continue
        if not tape.get("expires"):
            continue
        ends = date.fromisoformat(tape["expires"])
        if after < ends <= until:
            found.append((ends, tape))
    return sorted(found, key=lambda item: (item[0], item[1]["barcode"]))


def freeing(inventory: Inventory, pool: str, today: date, nights: int = FREEING_NIGHTS) -> list[dict[str, Any]]:
    """Per night of the coming week, the tapes of the pool whose retention ends then."""
    by_night: dict[date, list[str]] = {}
    for ends, tape in expiring(inventory, pool, today, today + timedelta(days=nights)):
        by_night.setdefault(ends, []).append(tape.get("label") or tape["barcode"])
    return [{"night": night.isoformat(), "tapes": names} for night, names in sorted(by_night.items())]


def kept_on(inventory: Inventory, day: date) -> Callable[[dict[str, Any]], bool]:
    """Whether writing over a tape on `day` would destroy backups under retention (the inventory's rule,
    asked about another day)."""
    pools = {p["name"]: p for p in inventory.pools()}
    return lambda tape: is_kept(tape, pools, day)


def choices_on(inventory: Inventory, job: JobConfig, drive: DriveConfig, moment: datetime, *,
               exclude: Collection[str] = ()) -> list[TapeChoice]:
    """The tapes a run of the job starting at `moment` could take, best first: the job's own choice rule
    (the tape in its drive first), retention judged on that day; then the pool's tapes in the vault whose
    retention has ended by then (a swap brings them back)."""
    pool = inventory.pool(job.pool)
    if pool is None:
        return []
    day = moment.astimezone(UTC).date()  # retention is judged on the UTC day, as the inventory's clock does
    kept = kept_on(inventory, day)
    tapes = inventory.tapes()
    ranked = rank(tapes, pool, job.drive, drive.generation, protected=kept, exclude=exclude)
    first = first_choice(ranked, job.drive)
    ordered = ([first] + [c for c in ranked if c is not first]) if first else []
    vault = sorted((t for t in tapes if t.get("pool") == job.pool and (t.get("location") or "").startswith("offsite")
                    and t["status"] in ("writable", "full") and not t.get("write_protected")
                    and t["barcode"] not in exclude and t.get("last_written") and not kept(t)),
                   key=lambda t: (t["last_written"], t["barcode"]))
    return ordered + [TapeChoice(t["barcode"], "expired, in the vault", True, t) for t in vault]


def _choice_json(choice: TapeChoice) -> dict[str, Any]:
    tape = choice.tape
    return {"barcode": choice.barcode, "label": tape.get("label"), "reason": choice.reason,
            "needs_label": choice.needs_label, "location": tape.get("location"), "capacity": tape.get("capacity"),
            "bytes_used": tape.get("bytes_used")}


REASONS = {"append": "appending", "empty tape of the pool": "labelled, empty", "expired": "expired: to relabel",
           "blank": "blank: to label", "expired, in the vault": "expired, in the vault: recall it"}


def space_for(inventory: Inventory, job: JobConfig, drive: DriveConfig, expected: int | None, *,
              moment: datetime, ledger: Ledger | None = None, held: Collection[str] = ()) -> Space:
    """The tape a run starting at `moment` gets, the room on it and the verdict. `ledger`: what the runs
    planned before it take; `held`: tapes a restore or verify needs (never written)."""
    ledger = ledger or Ledger()
    pool = inventory.pool(job.pool) or {"generation": drive.generation, "allocation": "new-each-run"}
    choices = choices_on(inventory, job, drive, moment, exclude={*ledger.taken, *held})
    if not choices:
        need = describe_need(job.pool, job.drive, pool["generation"])
        return Space("no tape", f"no tape for pool {job.pool} can take it: {need}", None, None, expected, 0, 0,
                     short=1)
    rooms = [room_on(c.tape, relabel=c.needs_label, block_size=drive.block_size)
             - ledger.appended.get(c.barcode, 0) for c in choices]
    first, room = choices[0], max(0, rooms[0])
    name = first.tape.get("label") or first.barcode
    how = REASONS.get(first.reason, first.reason)
    tape = _choice_json(first)
    on_hand = len(choices)
    if expected is None:
        return Space("unknown", f"{name} ({how}) has {size(room)} of room; tonight's size is unknown", tape, room,
                     None, 1, on_hand, (first.barcode,))
    share = expected / room if room else math.inf
    if share <= TIGHT:
        return Space("fits", f"fits on {name} ({how}): {share:.0%} of its {size(room)}", tape, room, expected, 1,
                     on_hand, (first.barcode,))
    if share <= 1:
        return Space("tight", f"tight on {name} ({how}): {share:.0%} of its {size(room)}", tape, room, expected, 1,
                     on_hand, (first.barcode,))
    rest, uses = expected - room, [first.barcode]
    for choice, more in zip(choices[1:], rooms[1:], strict=True):
        if rest <= 0:
            break
        uses.append(choice.barcode)
        rest -= max(0, more)
    per_tape = usable_capacity(inventory, pool["generation"], drive.block_size)
    short = math.ceil(rest / per_tape) if rest > 0 else 0
    more_tapes = len(uses) - 1 + short
    text = (f"spills: {size(expected)} on {name} ({how}, {size(room)} of room) continues onto "
            f"{plural(more_tapes, 'more tape')}")
    text += f"; {plural(short, 'tape')} short: label or bring more" if short else f" ({on_hand - 1} on hand)"
    return Space("spills", text, tape, room, expected, 1 + more_tapes, on_hand, tuple(uses), short)


def record(ledger: Ledger, space: Space, allocation: str) -> None:
    """The run planned: its tapes are taken (new-each-run, and every tape a spill fills), its bytes appended."""
    if not space.uses:
        return
    first = space.uses[0]
    if allocation == "append" and space.expected is not None and len(space.uses) == 1:
        ledger.appended[first] = ledger.appended.get(first, 0) + space.expected
    else:
        ledger.taken.update(space.uses)
