"""A swap step the onsite person confirmed, as the swap screen reports it (POST /v1/swaps):

- out:  the tape went into the offsite box: its location becomes offsite:<vault> (its pool's, or the one
        named), like `tapeconsole offsite`; verdict `moved`.
- back: the courier brought it back from the vault: it is on the shelf again; verdict `moved`.
- in:   it was inserted into a drive and its label read back: verdict `correct`, or `wrong` with what was
        `found` in the drive.

Every step goes to the audit log ("swap", with the user and the time). A bad body is refused naming the field.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from console.engine.inventory import Inventory
from console.engine.refusals import BadRequest, Refused

Json = dict[str, Any]
VERDICTS = {"out": ("moved",), "back": ("moved",), "in": ("correct", "wrong")}


def _text(body: Json, name: str, *, required: bool = True) -> str | None:
    value = body.get(name)
    if value is None:
        if required:
            raise BadRequest(f"missing field {name!r}")
        return None
    if not isinstance(value, str) or not value.strip():
        raise BadRequest(f"field {name!r} must be a non-empty string")
    return value.strip()


def record_swap(inventory: Inventory, drives: Collection[str], body: Json, user: str) -> Json:
    """Check the step, record what moved and audit it; returns the audit entry and the tape as it is now."""
    direction = _text(body, "direction")
    if direction not in VERDICTS:
        raise BadRequest(f"field 'direction' must be out, in or back, got {direction!r}")
    verdict = _text(body, "verdict")
    if verdict not in VERDICTS[direction]:
        raise BadRequest(f"field 'verdict' must be {' or '.join(VERDICTS[direction])} for direction {direction}, "
                         f"got {verdict!r}")
    barcode = _text(body, "barcode")
    assert barcode is not None
    tape = inventory.tape(barcode)
    if tape is None:
        raise BadRequest(f"field 'barcode': no tape {barcode} in the inventory")
    drive = _text(body, "drive", required=direction == "in")
    if drive is not None and drive not in drives:
        raise BadRequest(f"field 'drive': no drive {drive!r} (drives: {', '.join(drives)})")
    found = _text(body, "found", required=False)
    vault = _text(body, "vault", required=False)
    if vault is not None and direction != "out":
        raise BadRequest("field 'vault' is only for direction out")
    name = tape.get("label") or barcode
    was = tape.get("location") or ""
    location = was
    if direction in ("out", "back"):
        if was.startswith("drive:"):
            raise Refused(f"tape {name} is still in drive {was.split(':', 1)[1]}: eject it first")
        if direction == "out":
            pool = inventory.pool(tape["pool"]) if tape.get("pool") else None
            location = f"offsite:{vault or (pool['vault'] if pool else 'vault')}"
        else:
            location = "shelf"
        inventory.update_tape(barcode, location=location)
    elif verdict == "correct" and was != f"drive:{drive}":
        raise Refused(f"the inventory has tape {name} at {was or 'an unknown place'}, not in drive {drive}: "
                      f"load it first (tapeconsole load {drive} {barcode})")
    entry = inventory.audit("swap", user, barcode=barcode, label=tape.get("label"), drive=drive,
                            direction=direction, verdict=verdict, found=found, location=location, was=was)
    return {"audit": entry, "tape": inventory.tape(barcode)}
