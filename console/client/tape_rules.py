"""What the daemon would refuse a tape, checked before the console asks the operator anything: labelling a tape
whose backups are still kept, moving offsite a tape that holds nothing worth keeping, loading media a drive
cannot write. The rules are the daemon's (console/engine/retention.py); the daemon checks them again.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from console.wire.lto import drive_can_write
from console.wire.tape_names import sticker_first

Json = dict[str, Any]


def tape_name(tape: Json) -> str:
    """The sticker first, the label beside it when it differs."""
    return f"tape {sticker_first(tape['barcode'], tape.get('label'))}"


def label_refusal(tape: Json | None, pool: Json | None, today: date) -> str | None:
    """Why the daemon would refuse to label this tape (the retention rule of console/engine/retention.py and
    the write-protect tab), or None."""
    if tape is None:
        return None
    name = tape_name(tape)
    if tape.get("write_protected"):
        return f"{name} is write-protected: slide its tab back first"
    if not tape.get("last_written"):
        return None
    if pool is None or pool.get("retention_days") is None:
        keeper = f"pool {tape.get('pool')}" if pool is not None else "a pool no longer configured"
        return f"{name} is in {keeper}, which keeps its backups forever: it cannot be relabelled"
    expires = tape.get("expires")
    if expires and today < date.fromisoformat(expires):
        return f"{name} holds backups kept until {expires}: it can be relabelled from that day on"
    return None


def offsite_refusal(tape: Json) -> str | None:
    """Why this tape should not go offsite, or None: a blank tape holds nothing to keep; a write-protected one
    that holds no backup cannot be given any."""
    name = tape_name(tape)
    if tape.get("status") == "blank" or not tape.get("label"):
        return f"{name} is blank: it holds nothing to keep offsite"
    if tape.get("write_protected") and not tape.get("last_written"):
        return f"{name} is write-protected and holds no backup"
    return None


def writable_by(drive: Json, tape: Json) -> bool:
    """The drive can write this cartridge (its own generation or one back)."""
    drive_gen, media = drive.get("generation"), tape.get("generation")
    return not drive_gen or not media or drive_can_write(drive_gen, media)
