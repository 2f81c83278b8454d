"""What a backup records in the inventory when it takes a tape and writes to it, in one place: the backup
job calls these, and so does the rotation's simulation of many nights (tests/rotation), so both keep
the inventory the same way.
"""

from __future__ import annotations

from datetime import datetime

from console.engine.inventory import Inventory
from console.engine.inventory.inventory import iso
from console.engine.jobs.tape_choice import TapeChoice


def record_labelled(
    inventory: Inventory, choice: TapeChoice, *, text: str, label_uuid: str, created: str, pool: str, user: str,
    drive: str, job: str, label_bytes: int,
) -> None:
    """The tape was (re)labelled into the pool: an expired tape's old sets are gone; it holds only its label."""
    if choice.reason == "expired":
        gone = inventory.mark_sets_overwritten(choice.barcode)
        inventory.audit("overwrite-expired", user, drive=drive, barcode=choice.barcode, label=text,
                        old_label=choice.tape.get("label"), expired=choice.tape.get("expires"),
                        sets_overwritten=gone, job=job)
    else:
        inventory.audit("label", user, drive=drive, barcode=choice.barcode, label=text, pool=pool, job=job)
    inventory.update_tape(choice.barcode, label=text, label_uuid=label_uuid, pool=pool, status="writable",
                          bytes_used=label_bytes, labelled=created, last_written=None)


def record_written(inventory: Inventory, barcode: str, *, bytes_used: int, ended: datetime) -> None:
    """A set ended on the tape: its new fill and its last write (retention counts from it)."""
    inventory.update_tape(barcode, bytes_used=bytes_used, last_written=iso(ended))
