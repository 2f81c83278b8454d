"""Which tape a job writes to: never an offsite tape, never one whose retention has not expired, never one
a restore or verify holds.

Order for a pool that takes a new tape each run: a labelled tape of the pool that holds nothing,
then the pool's oldest expired tape, then an unassigned blank. A pool that appends first takes its
tape with room that was written last.

`rank` is the rule on its own (tape records in, choices out, the retention question asked through
`protected`), so the swap list can ask it about future nights; `candidates` asks it about now.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from console.engine.inventory import Inventory
from console.engine.retention import is_kept
from console.wire.lto import drive_can_write

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class TapeChoice:
    barcode: str
    reason: str  # 'empty tape of the pool', 'expired', 'blank', 'append'
    needs_label: bool  # blank or expired: (re)labelled into the pool before writing
    tape: dict[str, Any]


def usable_by(tape: dict[str, Any], drive_name: str, drive_generation: str) -> bool:
    location = tape.get("location") or ""
    if location.startswith("offsite") or (location.startswith("drive:") and location != f"drive:{drive_name}"):
        return False
    if tape.get("write_protected") or tape.get("status") in ("damaged", "retired"):
        return False
    return drive_can_write(drive_generation, tape["generation"])


def rank(
    tapes: Iterable[Json], pool: Json, drive_name: str, drive_generation: str, *,
    protected: Callable[[Json], bool], exclude: Collection[str] = (),
) -> list[TapeChoice]:
    """Every tape of `tapes` a job of `pool` could write to on `drive_name`, best first."""
    pool_name = pool["name"]
    usable = [
        t for t in tapes
        if t["barcode"] not in exclude and usable_by(t, drive_name, drive_generation)
        and t["generation"] == pool["generation"]
    ]
    loaded_first = sorted(usable, key=lambda t: (t.get("location") != f"drive:{drive_name}", t["barcode"]))
    choices: list[TapeChoice] = []
    if pool["allocation"] == "append":
        appendable = [t for t in loaded_first if t.get("pool") == pool_name and t["status"] == "writable"
                      and t.get("last_written")]
        appendable.sort(key=lambda t: t["last_written"], reverse=True)
        choices += [TapeChoice(t["barcode"], "append", False, t) for t in appendable]
    empty = [t for t in loaded_first if t.get("pool") == pool_name and t["status"] == "writable"
             and not t.get("last_written")]
    choices += [TapeChoice(t["barcode"], "empty tape of the pool", False, t) for t in empty]
    expired = [t for t in usable if t.get("pool") == pool_name and t.get("last_written")
               and t["status"] in ("writable", "full") and not protected(t)]
    expired.sort(key=lambda t: (t["last_written"], t["barcode"]))
    choices += [TapeChoice(t["barcode"], "expired", True, t) for t in expired
                if pool["allocation"] != "append" or t["status"] == "full"]
    blanks = [t for t in loaded_first if t["status"] == "blank" and not t.get("pool")]
    choices += [TapeChoice(t["barcode"], "blank", True, t) for t in blanks]
    seen: set[str] = set()
    unique = []
    for choice in choices:
        if choice.barcode not in seen:
            seen.add(choice.barcode)
            unique.append(choice)
    return unique


def candidates(
    inventory: Inventory, pool_name: str, drive_name: str, drive_generation: str, *,
    exclude: Collection[str] | None = None, held: Collection[str] | None = None,
) -> list[TapeChoice]:
    """Every tape the job could write to now, best first; `held`: tapes a restore or verify needs."""
    pools = {p["name"]: p for p in inventory.pools()}
    if pool_name not in pools:
        return []
    today = inventory.clock().date()  # the inventory's retention day (Inventory.is_protected's rule)
    return rank(inventory.tapes(), pools[pool_name], drive_name, drive_generation,
                protected=lambda t: is_kept(t, pools, today), exclude={*(exclude or ()), *(held or ())})


def first_choice(choices: list[TapeChoice], drive_name: str) -> TapeChoice | None:
    """The tape a run takes: the one already in its drive when it is a choice, else the best one."""
    loaded = next((c for c in choices if c.tape.get("location") == f"drive:{drive_name}"), None)
    return loaded or (choices[0] if choices else None)


def describe_need(
    pool_name: str, drive_name: str, pool_generation: str, choices: list[TapeChoice] | None = None
) -> str:
    """What to insert, naming the best tape when one is known (the onsite person reads this)."""
    for choice in choices or []:
        location = choice.tape.get("location") or "shelf"
        if choice.tape.get("label") and location == "shelf":
            return f"insert tape {choice.tape['label']} (pool {pool_name}) into drive {drive_name}"
    return (f"insert a writable {pool_generation} tape of pool {pool_name} (or a blank one) "
            f"into drive {drive_name}")
