"""The swap list as the console walks it: the daemon works the list out (GET /v1/swap-list, from
console/engine/rotation); this module turns its answer into the steps' items and judges the label the
drive reads back after an insert. The restore walkthrough builds its own SwapPlan of tapes to insert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from console.wire.swap_list import PutIn, TakeOut

Json = dict[str, Any]


@dataclass(frozen=True)
class Recalled:
    barcode: str
    label: str | None
    night: str  # ISO date of the night it is needed
    job: str


@dataclass(frozen=True)
class BringBack:
    """The tapes the courier brings back from one vault for the coming nights: one step."""

    vault: str
    tapes: tuple[Recalled, ...]


@dataclass(frozen=True)
class SwapPlan:
    take_out: tuple[TakeOut, ...]
    put_in: tuple[PutIn, ...]
    notes: tuple[str, ...]  # what the plan could not do, in plain words
    recall: tuple[BringBack, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.take_out and not self.put_in and not self.recall


def plan_from_answer(answer: Json) -> SwapPlan:
    """The daemon's GET /v1/swap-list answer as the swap screen's plan (recalled tapes grouped by vault)."""
    take_out = tuple(TakeOut.from_json(t) for t in answer.get("take_out", []))
    put_in = tuple(PutIn.from_json(p) for p in answer.get("put_in", []))
    vaults: dict[str, list[Recalled]] = {}
    for r in answer.get("recall", []):
        vaults.setdefault(r["vault"], []).append(Recalled(r["barcode"], r.get("label"), r["night"], r["job"]))
    recall = tuple(BringBack(vault, tuple(tapes)) for vault, tapes in vaults.items())
    return SwapPlan(take_out, put_in, tuple(answer.get("notes", [])), recall)


@dataclass(frozen=True)
class Verdict:
    correct: bool
    text: str
    found: str | None  # barcode or label found in the drive


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
