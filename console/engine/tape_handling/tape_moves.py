"""The one place that moves a tape: eject it, load it and read its label, and record both.

Every move (the operator's, a backup's, a restore's or a verify's) goes through here, so each one updates
the tape's location in the inventory and leaves an audit entry naming who moved it and why. The caller
holds the drive (DriveHandle.hold) and runs in a worker thread: on a real drive a move takes minutes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from console.engine.drives.base import Drive, DriveError
from console.engine.inventory import Inventory
from console.engine.tape_handling.drive_handle import DriveHandle, LoadedTape
from console.engine.tape_handling.intents import clear_intent, record_intent
from console.engine.tape_handling.tape_ops import identify

Loader = Callable[[Drive, str], None]  # puts the cartridge with that barcode into the drive


def eject_and_record(handle: DriveHandle, drive: Drive, inventory: Inventory, user: str,
                     **why: Any) -> str | None:
    """Eject the tape in `drive`, record it on the shelf and audit the eject; returns its barcode if known.

    The intent is recorded first: a kill between the eject and the record is reconciled at start."""
    known = _status_barcode(drive) or (handle.loaded.barcode if handle.loaded else None)
    intent = record_intent(inventory, "eject", drive=handle.name, barcode=known, user=user)
    try:
        barcode = drive.eject() or (handle.loaded.barcode if handle.loaded else None)
    except Exception:  # the drive refused: nothing happened to reconcile
        clear_intent(inventory, intent)
        raise
    handle.loaded = None
    if barcode and inventory.tape(barcode) is not None:
        inventory.move_tape(barcode, "shelf")
    inventory.audit("eject", user, drive=handle.name, barcode=barcode, **why)
    clear_intent(inventory, intent)
    return barcode


def _status_barcode(drive: Drive) -> str | None:
    try:
        return drive.status().barcode
    except DriveError:
        return None


def load_and_record(handle: DriveHandle, drive: Drive, inventory: Inventory, barcode: str, user: str,
                    loader: Loader, **why: Any) -> LoadedTape:
    """Load the cartridge `barcode` with `loader`, read its label, record it in this drive, audit the load."""
    loader(drive, barcode)
    return identify_and_record(handle, drive, inventory, drive.status().barcode or barcode, user, **why)


def identify_and_record(handle: DriveHandle, drive: Drive, inventory: Inventory, barcode: str | None, user: str,
                        *, audit: bool = True, **why: Any) -> LoadedTape:
    """Read the label of the tape now in `drive`, hold it as loaded, record its location (and audit the load)."""
    loaded = handle.loaded = identify(drive, handle.config.block_size, barcode, inventory)
    if loaded.barcode and inventory.tape(loaded.barcode) is not None:
        inventory.move_tape(loaded.barcode, f"drive:{handle.name}")
    if audit:
        inventory.audit("load", user, drive=handle.name, barcode=loaded.barcode, label=loaded.label, **why)
    return loaded
