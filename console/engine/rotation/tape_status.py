"""Marking a tape damaged or retired, and back (`ok`): the tape choice never takes a damaged or retired
tape. The status it had is kept, so `ok` puts it back as it was. Audited; refused for a tape in a drive
that is working (a job writing it, a restore reading it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from console.engine.inventory import Inventory
from console.engine.refusals import BadRequest, NotFound, Refused

Json = dict[str, Any]
MARKS = ("damaged", "retired", "ok")
MARKED = ("damaged", "retired")


def mark_tape(inventory: Inventory, barcode: str, wanted: str, user: str, busy_drives: Mapping[str, str]) -> Json:
    """Set the tape's status to damaged or retired, or back to its own with `ok`; returns the tape record."""
    if wanted not in MARKS:
        raise BadRequest(f"field 'status' must be damaged, retired or ok, got {wanted!r}")
    tape = inventory.tape(barcode)
    if tape is None:
        raise NotFound(f"no tape {barcode} in the inventory")
    name = tape.get("label") or barcode
    location = tape.get("location") or ""
    drive = location.split(":", 1)[1] if location.startswith("drive:") else None
    if drive is not None and drive in busy_drives:
        raise Refused(f"tape {name} is in drive {drive}, which is {busy_drives[drive]}: mark it once the drive "
                      "is done")
    was = tape["status"]
    if wanted == "ok":
        if was not in MARKED:
            raise Refused(f"tape {name} is {was}, not damaged or retired: nothing to undo")
        status = tape.get("status_before_mark") or ("writable" if tape.get("label") else "blank")
        fields: Json = {"status": status, "status_before_mark": None}
    else:
        if was == wanted:
            return tape
        status = wanted
        fields = {"status": status, "status_before_mark": tape.get("status_before_mark") if was in MARKED else was}
    inventory.update_tape(barcode, **fields)
    inventory.audit("tape-status", user, barcode=barcode, label=tape.get("label"), status=status, was=was)
    record = inventory.tape(barcode)
    assert record is not None
    return record
