"""Getting the tape a restore needs into its drive, and making sure it is that tape.

Virtual drives load from the shelf, like a small autoloader (a tape in the other drive is ejected there
first, if that drive is idle). A real drive ejects what it holds and waits for the onsite person to insert
the tape named, checking the label of whatever comes in. The tape read is always identified by its label
(the uuid in file 0), never trusted from a sticker alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from console.engine.drives.base import Drive, DriveError
from console.engine.inventory import Inventory
from console.engine.refusals import Refused
from console.engine.restore.reader import RunCancelled
from console.engine.tape_handling.drive_handle import DriveHandle, LoadedTape
from console.engine.tape_handling.tape_moves import eject_and_record, identify_and_record, load_and_record

Autoload = Callable[[Drive, str], None]


@dataclass(frozen=True)
class WantedTape:
    barcode: str
    label: str | None
    label_uuid: str | None

    def describe(self) -> str:
        if self.label and self.label != self.barcode:
            return f"tape {self.label} (barcode {self.barcode})"
        return f"tape {self.barcode}"


class TapeHandler:
    """Loads and checks tapes in the drive `slot` (held by the caller)."""

    def __init__(
        self,
        slot: DriveHandle,
        slots: dict[str, DriveHandle],
        inventory: Inventory,
        autoload: Autoload | None,
        cancel: threading.Event,
        *,
        on_wait: Callable[[str | None, str | None], None] = lambda need, barcode: None,
        on_wrong: Callable[[str, str], None] = lambda found, wanted: None,
        note: Callable[[str], None] = lambda text: None,
        moved: Callable[[str], None] = lambda text: None,
        poll_seconds: float = 2.0,
        wait_seconds: float = 6 * 3600,
    ) -> None:
        self.slot = slot
        self.slots = slots
        self.inventory = inventory
        self.autoload = autoload
        self.cancel = cancel
        self.on_wait = on_wait  # (what to do in words, the barcode wanted); (None, None) once it goes on
        self.on_wrong = on_wrong  # (the label or barcode found, the barcode wanted)
        self.note = note
        self.moved = moved  # the handler's own loads and ejects
        self.poll_seconds = poll_seconds
        self.wait_seconds = wait_seconds

    @property
    def drive(self) -> Drive:
        return self.slot.drive

    def identify(self, barcode: str | None) -> LoadedTape:
        return identify_and_record(self.slot, self.drive, self.inventory, barcode, "tapeconsole", audit=False)

    def ensure(self, wanted: WantedTape) -> LoadedTape:
        """Make the drive hold `wanted`; returns what the drive holds, identified by its label."""
        status = self.drive.status()
        if status.online:
            loaded = self.slot.loaded
            if loaded is None or status.barcode is None or loaded.barcode != status.barcode:
                loaded = self.identify(status.barcode)  # a real drive cannot tell what was swapped in: read it
            if self._is(loaded, wanted):
                return loaded
            self._eject()
        if self.autoload is not None:
            return self._autoload(wanted)
        return self._wait_for_operator(wanted)

    @staticmethod
    def _is(loaded: LoadedTape, wanted: WantedTape) -> bool:
        if wanted.label_uuid:
            return loaded.label_uuid == wanted.label_uuid
        return loaded.barcode == wanted.barcode and (wanted.label is None or loaded.label == wanted.label)

    def _eject(self) -> None:
        barcode = eject_and_record(self.slot, self.drive, self.inventory, "tapeconsole", reason="restore")
        self.moved(f"ejected {barcode or 'the tape'} from drive {self.slot.name}")

    def _free(self, wanted: WantedTape) -> None:
        """A virtual tape held by the other drive is ejected there first (that drive must be idle)."""
        for other in self.slots.values():
            if other is self.slot or other.drive.status().barcode != wanted.barcode:
                continue
            with other.hold(f"ejecting {wanted.barcode} for a restore on {self.slot.name}") as drive:
                eject_and_record(other, drive, self.inventory, "tapeconsole", reason="restore")
            self.moved(f"ejected {wanted.barcode} from drive {other.name}")

    def _autoload(self, wanted: WantedTape) -> LoadedTape:
        assert self.autoload is not None
        self._free(wanted)
        try:
            loaded = load_and_record(self.slot, self.drive, self.inventory, wanted.barcode, "tapeconsole",
                                     self.autoload, reason="restore")
        except DriveError as exc:
            raise Refused(f"cannot load {wanted.describe()} into drive {self.slot.name}: {exc}") from None
        self.moved(f"loaded {wanted.describe()} into drive {self.slot.name}")
        if not self._is(loaded, wanted):
            reads = loaded.label or loaded.foreign or "no label"
            raise Refused(f"{wanted.barcode} reads {reads}, not {wanted.describe()}")
        return loaded

    def _wait_for_operator(self, wanted: WantedTape) -> LoadedTape:
        need = f"insert {wanted.describe()} into drive {self.slot.name}"
        self.on_wait(need, wanted.barcode)
        deadline = time.monotonic() + self.wait_seconds
        try:
            while True:
                if self.cancel.wait(self.poll_seconds):
                    raise RunCancelled(f"cancelled while waiting to {need}")
                if time.monotonic() > deadline:
                    raise Refused(f"nobody did {need} within {self.wait_seconds / 3600:.1f} h")
                try:
                    status = self.drive.status()
                except DriveError:
                    continue
                if not status.online:
                    continue
                loaded = self.identify(status.barcode)
                if self._is(loaded, wanted):
                    self.inventory.audit("load", "operator", drive=self.slot.name, barcode=loaded.barcode,
                                         reason="restore")
                    return loaded
                self._eject()
                found = loaded.label or loaded.barcode or "an unknown tape"
                self.on_wrong(found, wanted.barcode)
                self.note(f"drive {self.slot.name} got {found}, not {wanted.describe()}: ejected it")
        finally:
            self.on_wait(None, None)
