"""Operations on the tape in a drive: read its label, label it, dump one tape file.

Each function expects the caller to hold the drive (DriveHandle.hold) and runs in a worker thread:
on a real drive any of these can take minutes.
"""

from __future__ import annotations

from collections.abc import Iterator

from console.engine.drives.base import (
    BlankTape,
    Drive,
    DriveError,
    DriveIOError,
)
from console.engine.inventory import Inventory
from console.engine.refusals import Refused
from console.engine.tape_handling.drive_handle import LoadedTape
from console.engine.tapeformat.label import LabelError, TapeLabel, build_label_file, parse_label_file
from console.wire.lto import drive_can_write

MAX_LABEL_BYTES = 4 * 1024 * 1024


def read_buffer_size(block_size: int) -> int:
    """A read buffer large enough for any block this drive writes (st fails reads shorter than a block)."""
    return max(block_size, 1024 * 1024)


def read_tape_file(drive: Drive, block_size: int, limit: int | None = None) -> Iterator[bytes]:
    """Yield the blocks of the tape file at the current position, up to its filemark."""
    size = read_buffer_size(block_size)
    total = 0
    while True:
        block = drive.read_block(size)
        if not block:
            return
        total += len(block)
        if limit is not None and total > limit:
            raise LabelError(f"tape file is larger than {limit} bytes: not a label")
        yield block


def read_label(drive: Drive, block_size: int) -> TapeLabel | None:
    """Rewind and read tape file 0. None for a blank tape; LabelError for a foreign one."""
    drive.rewind()
    drive.set_block_size(0)
    try:
        data = b"".join(read_tape_file(drive, block_size, limit=MAX_LABEL_BYTES))
    except BlankTape:
        return None
    finally:
        try:
            drive.rewind()
        except DriveError:
            pass
    if not data:
        raise LabelError("tape file 0 is empty")
    return parse_label_file(data)


def identify(drive: Drive, block_size: int, barcode: str | None, inventory: Inventory) -> LoadedTape:
    """Read the label of the loaded tape and check it against the inventory."""
    try:
        label = read_label(drive, block_size)
    except LabelError as exc:
        return LoadedTape(barcode=barcode, foreign=str(exc))
    if label is None:
        tape = inventory.tape(barcode) if barcode else None
        warning = None
        if tape and tape.get("label"):
            warning = f"inventory says {barcode} is labelled {tape['label']}, but the tape reads blank"
        return LoadedTape(barcode=barcode, blank=True, warning=warning)
    loaded = LoadedTape(
        barcode=barcode or label.barcode, label=label.label, label_uuid=label.uuid, pool=label.pool
    )
    known = inventory.tape_by_uuid(label.uuid)
    if known is None:
        loaded.warning = f"label {label.label} ({label.uuid[:8]}) is not in this inventory: scan it before use"
    elif barcode and known["barcode"] != barcode:
        loaded.warning = f"this tape reads label {label.label}, which the inventory has on {known['barcode']}"
    return loaded


def check_can_label(
    drive: Drive,
    drive_generation: str,
    loaded: LoadedTape,
    new_label: str,
    pool_name: str,
    confirm: str | None,
    inventory: Inventory,
) -> tuple[dict, str]:
    """Every refusal before a label is written. Returns (pool record, barcode)."""
    status = drive.status()
    barcode = loaded.barcode
    if barcode is None:
        raise Refused("the tape in the drive has no known barcode: load it with its sticker first")
    if status.write_protected:
        raise Refused(f"tape {barcode} is write-protected: slide its tab to write, or use another tape")
    media = status.media_generation
    if media and not drive_can_write(drive_generation, media):
        raise Refused(f"a {drive_generation} drive cannot write {media} media ({barcode})")
    pool = inventory.pool(pool_name)
    if pool is None:
        known = ", ".join(p["name"] for p in inventory.pools()) or "none configured"
        raise Refused(f"pool {pool_name!r} does not exist (pools: {known})")
    if media and pool["generation"] != media:
        raise Refused(f"pool {pool_name} takes {pool['generation']} media, tape {barcode} is {media}")
    other = inventory.tape_by_label(new_label)
    if other is not None and other["barcode"] != barcode:
        raise Refused(f"label {new_label} is already in the inventory, on tape {other['barcode']}")
    old = loaded.label
    if loaded.foreign:
        if confirm != "FOREIGN":
            raise Refused(f"tape {barcode} holds data that is not a tapeconsole label: "
                          f"to overwrite it, type --confirm FOREIGN")
    elif old is not None:
        record = inventory.tape_by_uuid(loaded.label_uuid) if loaded.label_uuid else None
        if record is None:
            if confirm != old:
                raise Refused(f"tape {barcode} holds label {old}, unknown to this inventory "
                              f"(another installation?): to overwrite it, type --confirm {old}")
        else:
            protected, why = inventory.is_protected(record)
            if protected:
                raise Refused(f"refused: {why}; tape {barcode} is not overwritten")
            if confirm != old:
                raise Refused(f"tape {barcode} holds label {old}: to relabel it, type --confirm {old}")
    elif confirm not in (None, ""):
        raise Refused(f"tape {barcode} is blank: --confirm {confirm} does not apply")
    return pool, barcode


def write_label(drive: Drive, label: TapeLabel, block_size: int) -> None:
    """Write file 0 at BOT (everything after it on the tape is gone), then read it back."""
    drive.rewind()
    drive.set_block_size(0)
    data = memoryview(build_label_file(label, block_size))
    for start in range(0, len(data), block_size):
        drive.write_block(data[start : start + block_size])
    drive.write_filemarks(1)
    back = read_label(drive, block_size)
    if back is None or back.uuid != label.uuid:
        raise DriveIOError(f"label {label.label} did not read back after writing")


def position_at_file(drive: Drive, number: int) -> None:
    """Rewind and space forward to the start of tape file `number`."""
    if number < 0:
        raise Refused(f"tape file numbers start at 0, got {number}")
    drive.rewind()
    drive.set_block_size(0)
    if number:
        try:
            drive.space_filemarks(number)
        except (DriveIOError, BlankTape) as exc:
            raise Refused(f"tape file {number} does not exist on this tape ({exc})") from None



def close_cut_file(drive: Drive) -> None:
    """A set that a crash or power loss cut short has no filemark after it: space to end of data and
    write one, so the next set starts a tape file of its own."""
    drive.end_of_data()
    drive.write_filemarks(1)
