"""A tape operation that changes what the inventory says of a tape (label, eject) is recorded as an intent
before the drive acts and cleared once the inventory says it; at start, an intent still pending (a kill in
between) is reconciled with what the drive holds, so the inventory always says what label a tape has and
where it is, and the audit log says it happened."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from console.engine.drives.base import DriveError
from console.engine.inventory import Inventory
from console.engine.tape_handling import tape_ops
from console.engine.tapeformat.label import LabelError, TapeLabel

PENDING_KEY = "pending_tape_operations"
log = logging.getLogger("tapeconsole.intents")
Json = dict[str, Any]


def record_intent(inventory: Inventory, action: str, **details: Any) -> str:
    """Note, durably, that `action` is about to happen; returns the intent's id for clear_intent()."""
    intent_id = uuid.uuid4().hex
    pending = list(inventory.get_state(PENDING_KEY, []) or [])
    pending.append({"id": intent_id, "action": action, **details})
    inventory.set_state(PENDING_KEY, pending)
    return intent_id


def clear_intent(inventory: Inventory, intent_id: str) -> None:
    pending = [i for i in inventory.get_state(PENDING_KEY, []) or [] if i.get("id") != intent_id]
    inventory.set_state(PENDING_KEY, pending)


def pending_intents(inventory: Inventory) -> list[Json]:
    value = inventory.get_state(PENDING_KEY, []) or []
    return [i for i in value if isinstance(i, dict)] if isinstance(value, list) else []


def reconcile(inventory: Inventory, drives: dict[str, Any], block_size: Callable[[str], int],
              apply_label: Callable[[str, TapeLabel, Json], None]) -> list[str]:
    """Settle every pending intent against the drives (name -> Drive); returns one line per intent."""
    lines = []
    for intent in pending_intents(inventory):
        drive = drives.get(str(intent.get("drive")))
        try:
            line = _settle(inventory, intent, drive, block_size, apply_label) if drive is not None else \
                f"{intent.get('action')} on drive {intent.get('drive')}: no such drive any more; dropped"
        except (DriveError, LabelError) as exc:
            line = f"{intent.get('action')} on drive {intent.get('drive')}: cannot be checked ({exc}); dropped"
        log.warning("interrupted %s", line)
        lines.append(line)
        clear_intent(inventory, str(intent.get("id")))
    return lines


def _settle(inventory: Inventory, intent: Json, drive: Any, block_size: Callable[[str], int],
            apply_label: Callable[[str, TapeLabel, Json], None]) -> str:
    name, barcode = str(intent.get("drive")), intent.get("barcode")
    status = drive.status()
    held = status.barcode if status.online else None
    if intent.get("action") == "eject":
        if status.online and (held is None or held == barcode):
            return f"eject of {barcode} from drive {name} did not happen: the tape is still in the drive"
        if barcode and inventory.tape(barcode) is not None:
            inventory.move_tape(barcode, "shelf")
            inventory.audit("eject", str(intent.get("user") or "tapeconsole"), drive=name, barcode=barcode,
                            reconciled=True)
        return f"eject of {barcode} from drive {name} happened: recorded on the shelf"
    if intent.get("action") == "label":
        wanted = intent.get("label") or {}
        on_tape = tape_ops.read_label(drive, block_size(name)) if status.online else None
        if on_tape is None or on_tape.uuid != wanted.get("uuid"):
            return f"label {wanted.get('label')} on drive {name} was not written: the inventory is unchanged"
        apply_label(name, on_tape, intent)
        return f"label {on_tape.label} on drive {name} was written: recorded"
    return f"unknown operation {intent.get('action')!r}; dropped"
