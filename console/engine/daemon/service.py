"""The daemon's business: drives, tapes and the inventory, behind methods the API calls.

Methods that move tape block for as long as the drive needs: the API runs them in worker threads.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

from console.config.schema import Config
from console.engine.drives.base import BlankTape, Drive, DriveError
from console.engine.drives.factory import build_drives
from console.engine.inventory import Inventory
from console.engine.jobs.manager import EventHook, JobManager, MemberBuilder
from console.engine.refusals import BadRequest, NotFound, Refused
from console.engine.restore.manager import RestoreManager
from console.engine.retention import with_state
from console.engine.state_folder import private_folder
from console.engine.tape_handling import tape_ops
from console.engine.tape_handling.drive_handle import DriveHandle, LoadedTape
from console.engine.tape_handling.intents import clear_intent, reconcile, record_intent
from console.engine.tape_handling.tape_moves import eject_and_record, identify_and_record
from console.engine.tapeformat.label import TapeLabel
from console.wire.labels import check_label_text
from console.wire.lto import NATIVE_CAPACITY

log = logging.getLogger("tapeconsole.daemon")
SHORT_WAIT = 15.0  # an operator's operation waits this long for a short one (identifying a tape) to end


class TapeService:
    def __init__(
        self,
        config: Config,
        inventory: Inventory | None = None,
        *,
        members_for: MemberBuilder | None = None,
        recheck_seconds: float = 5.0,
        on_event: EventHook | None = None,
    ) -> None:
        self.config = config
        private_folder(config.daemon.state_dir, group=config.daemon.group)
        if config.shelf is not None:
            private_folder(config.shelf.path)
        self.inventory = inventory or Inventory(config.daemon.state_dir / "inventory.json")
        self.inventory.sync_pools(config.pools.values())
        self.shelf, drives = build_drives(config)
        self.slots: dict[str, DriveHandle] = {
            name: DriveHandle(config=config.drives[name], drive=drive) for name, drive in drives.items()
        }
        if self.shelf is not None and config.shelf is not None:
            for barcode in config.shelf.cartridges:
                info = self.shelf.info(barcode)
                self.inventory.register_cartridge(
                    barcode,
                    info.generation,
                    info.capacity_bytes,
                    self._shelf_location(barcode),
                    write_protected=info.write_protected,
                )
                self.inventory.update_tape(barcode, early_warning_bytes=info.early_warning_bytes)
        self.jobs = JobManager(
            config, self.inventory, self.slots, members_for or (lambda job, run: []),
            autoload=self._autoload if self.shelf is not None else None,
            recheck_seconds=recheck_seconds, on_event=on_event,
        )
        self.reconciled = self._reconcile_intents()
        self.interrupted = self.jobs.recover()
        self.restores = RestoreManager(
            config, self.inventory, self.slots,
            autoload=self._autoload if self.shelf is not None else None,
            xo_client=getattr(members_for, "xo_client", None),
            jobs=self.jobs,
        )
        self.jobs.held_tapes = self.restores.held_tapes  # a backup never takes a tape a restore needs
        self.restores.drop_overwritten_from_index()  # catch up on tapes overwritten before a crash
        # a relabel (by the operator, a backup taking an expired tape, or a scan) drops the old nights' files
        self.inventory.on_sets_overwritten = lambda barcode: self.restores.drop_overwritten_from_index()
        self.scheduler: Any = None  # set by the daemon when it runs the schedule

    def _autoload(self, drive: Drive, barcode: str) -> None:
        """A virtual drive takes the next tape from the shelf, like a small autoloader."""
        drive.load(barcode)

    def _shelf_location(self, barcode: str) -> str:
        for name, slot in self.slots.items():
            if slot.drive.status().barcode == barcode:
                return f"drive:{name}"
        return "shelf"

    def close(self) -> None:
        self.jobs.close()
        self.restores.close()
        for slot in self.slots.values():
            try:
                slot.drive.close()
            except DriveError as exc:
                log.warning("drive %s: close failed: %s", slot.name, exc)
        self.inventory.close()

    # ---- lookups
    def slot(self, name: str) -> DriveHandle:
        try:
            return self.slots[name]
        except KeyError:
            known = ", ".join(self.slots)
            raise NotFound(f"no drive named {name!r} (drives: {known})") from None

    def drives(self) -> list[dict[str, Any]]:
        return [slot.describe() for slot in self.slots.values()]

    def tapes(self) -> list[dict[str, Any]]:
        """The inventory, each tape with its `state`: `expired` once its retention ended, else its status."""
        return with_state(self.inventory.tapes(), self.inventory.pools(), self.inventory.clock().date())

    def pools(self) -> list[dict[str, Any]]:
        return self.inventory.pools()

    def sets(self, tape: str | None = None) -> list[dict[str, Any]]:
        """Every backup set (of one tape, by its barcode or label), as `tapeconsole sets --json` lists them
        (members as a count)."""
        return [
            {
                "id": s["id"], "tape": s["tape"], "barcode": s["barcode"], "file": s["file"], "job": s["job"],
                "run": s.get("run"), "pool": s.get("pool"), "started": s["started"], "ended": s["ended"],
                "bytes": s["bytes"], "members": s["member_count"], "state": s["state"],
                "continues": s.get("continues"), "error": s.get("error"),
            }
            for s in self.inventory.sets(tape=tape)
        ]

    def set_detail(self, set_id: int) -> dict[str, Any]:
        record = self.inventory.get_set(set_id)
        if record is None:
            raise NotFound(f"no set {set_id}")
        return record

    # ---- start-up
    def identify_loaded(self) -> None:
        """Read the label of whatever each drive holds (after a daemon restart)."""
        for slot in self.slots.values():
            try:
                with slot.hold("identifying") as drive:
                    status = drive.status()
                    if status.online:
                        identify_and_record(slot, drive, self.inventory, status.barcode, "tapeconsole", audit=False)
            except (DriveError, Refused) as exc:
                log.warning("drive %s: cannot identify the loaded tape: %s", slot.name, exc)

    # ---- operations
    def load(self, drive_name: str, barcode: str, user: str) -> dict[str, Any]:
        slot = self.slot(drive_name)
        barcode = barcode.strip().upper()
        if not barcode:
            raise BadRequest("load needs the barcode on the cartridge's sticker")
        with slot.hold(f"loading {barcode}", wait=SHORT_WAIT) as drive:
            already = drive.status().online
            if already and slot.config.kind == "virtual":
                raise Refused(f"drive {drive_name} already holds {slot.loaded.barcode if slot.loaded else 'a tape'}: "
                              "eject it first")
            for other in self.slots.values():
                if other is not slot and other.loaded and other.loaded.barcode == barcode:
                    raise Refused(f"tape {barcode} is in drive {other.name}")
            known = self.inventory.tape(barcode)
            if known is not None and known["location"].startswith("offsite") and slot.config.kind == "virtual":
                raise Refused(f"tape {barcode} is offsite ({known['location'].split(':', 1)[1]}): "
                              "bring it back (tapeconsole onsite) first")
            try:
                if not already:  # a real drive already holding a tape: the operator names its sticker
                    drive.load(barcode)
            except DriveError as exc:
                raise Refused(f"cannot load {barcode} into {drive_name}: {exc}") from None
            loaded_barcode = drive.status().barcode or barcode
            if self.inventory.tape(loaded_barcode) is None:
                status = drive.status()
                self.inventory.register_cartridge(
                    loaded_barcode,
                    status.media_generation or slot.config.generation,
                    self._capacity_for(status.media_generation or slot.config.generation),
                    f"drive:{drive_name}",
                    write_protected=status.write_protected,
                )
            loaded = identify_and_record(slot, drive, self.inventory, loaded_barcode, user)
        log.info("load drive=%s barcode=%s label=%s", drive_name, loaded.barcode, loaded.label)
        return slot.describe()

    def _capacity_for(self, generation: str) -> int:
        """Native capacity of a cartridge (a virtual shelf's own, scaled-down figure when it has one)."""
        if self.config.shelf and generation in self.config.shelf.capacity_bytes:
            return self.config.shelf.capacity_bytes[generation]
        return NATIVE_CAPACITY[generation]

    def eject(self, drive_name: str, user: str) -> dict[str, Any]:
        slot = self.slot(drive_name)
        with slot.hold("ejecting", wait=SHORT_WAIT) as drive:
            if not drive.status().online:
                raise Refused(f"drive {drive_name} holds no tape")
            barcode = eject_and_record(slot, drive, self.inventory, user)
        log.info("eject drive=%s barcode=%s", drive_name, barcode)
        return {"drive": drive_name, "ejected": barcode}

    def rewind(self, drive_name: str, user: str) -> dict[str, Any]:
        slot = self.slot(drive_name)
        with slot.hold("rewinding", wait=SHORT_WAIT) as drive:
            if not drive.status().online:
                raise Refused(f"drive {drive_name} holds no tape")
            drive.rewind()
        return slot.describe()

    def label(self, drive_name: str, text: str, pool_name: str, confirm: str | None, user: str) -> dict[str, Any]:
        slot = self.slot(drive_name)
        problem = check_label_text(text)
        if problem:
            raise BadRequest(problem)
        with slot.hold(f"labelling {text}", wait=SHORT_WAIT) as drive:
            status = drive.status()
            if not status.online or slot.loaded is None:
                raise Refused(f"drive {drive_name} holds no tape")
            old_label = slot.loaded.label
            pool, barcode = tape_ops.check_can_label(
                drive, slot.config.generation, slot.loaded, text, pool_name, confirm, self.inventory
            )
            old = self.inventory.tape_by_uuid(slot.loaded.label_uuid) if slot.loaded.label_uuid else None
            expired = old.get("expires") if old and old.get("last_written") else None  # checked: not protected
            now = self.inventory.clock()
            label = TapeLabel.new(text, barcode, pool_name, status.media_generation or pool["generation"], now)
            intent = record_intent(self.inventory, "label", drive=drive_name, barcode=barcode, user=user,
                                   label=label.to_json(), old_label=old_label, expired=expired)
            try:
                tape_ops.write_label(drive, label, slot.config.block_size)
            except Exception:  # the drive refused: nothing to reconcile (a kill leaves the intent pending)
                clear_intent(self.inventory, intent)
                raise
            record = self._record_label(drive_name, label, user=user, old_label=old_label, expired=expired)
        clear_intent(self.inventory, intent)
        log.info("label drive=%s barcode=%s label=%s pool=%s old=%s", drive_name, barcode, text, pool_name, old_label)
        return record

    def _record_label(self, drive_name: str, label: TapeLabel, *, user: str, old_label: str | None,
                      expired: Any, reconciled: bool = False) -> dict[str, Any]:
        """The inventory and the audit log after `label` was written on the tape in `drive_name`."""
        slot = self.slot(drive_name)
        barcode = label.barcode
        slot.loaded = LoadedTape(barcode=barcode, label=label.label, label_uuid=label.uuid, pool=label.pool)
        if self.inventory.tape(barcode) is None:
            self.inventory.register_cartridge(
                barcode, label.generation, self._capacity_for(label.generation), f"drive:{drive_name}"
            )
        record = self.inventory.update_tape(
            barcode,
            label=label.label,
            label_uuid=label.uuid,
            pool=label.pool,
            status="writable",
            bytes_used=slot.config.block_size,
            labelled=label.created,
            last_written=None,
            location=f"drive:{drive_name}",
        )
        extra = {"reconciled": True} if reconciled else {}
        if expired:  # data under a retention that has ended is gone: audited as such, its sets marked
            self.inventory.audit("overwrite-expired", user, drive=drive_name, barcode=barcode, label=label.label,
                                 pool=label.pool, old_label=old_label, expired=expired,
                                 sets_overwritten=self.inventory.mark_sets_overwritten(barcode), **extra)
        else:
            self.inventory.audit(
                "relabel" if old_label else "label", user, drive=drive_name, barcode=barcode, label=label.label,
                pool=label.pool, old_label=old_label, **extra,
            )
        return record

    def _reconcile_intents(self) -> list[str]:
        """Label and eject operations a kill cut in the middle, settled with what the drives hold."""
        def apply_label(drive_name: str, label: TapeLabel, intent: dict[str, Any]) -> None:
            self._record_label(drive_name, label, user=str(intent.get("user") or "tapeconsole"),
                               old_label=intent.get("old_label"), expired=intent.get("expired"), reconciled=True)

        return reconcile(self.inventory, {name: slot.drive for name, slot in self.slots.items()},
                         lambda name: self.slots[name].config.block_size, apply_label)

    def move_tape(self, barcode: str, where: str, user: str) -> dict[str, Any]:
        """Record that a tape went offsite (to its pool's vault, or a named one) or came back to the shelf."""
        tape = self.inventory.tape(barcode)
        if tape is None:
            raise NotFound(f"no tape {barcode} in the inventory")
        if tape["location"].startswith("drive:"):
            raise Refused(f"tape {barcode} is in {tape['location'].split(':', 1)[1]}: eject it first")
        if where == "offsite":
            pool = self.inventory.pool(tape["pool"]) if tape.get("pool") else None
            location = f"offsite:{pool['vault'] if pool else 'vault'}"
        elif where.startswith("offsite:") and len(where) > len("offsite:"):
            location = where
        elif where in ("shelf", "onsite"):
            location = "shelf"
        else:
            raise BadRequest(f"location must be 'offsite', 'offsite:<vault>' or 'shelf', got {where!r}")
        self.inventory.update_tape(barcode, location=location)
        self.inventory.audit("move", user, barcode=barcode, label=tape.get("label"), location=location,
                             was=tape["location"])
        log.info("move tape=%s from=%s to=%s", barcode, tape["location"], location)
        record = self.inventory.tape(barcode)
        assert record is not None
        return record

    def open_tape_file(self, drive_name: str, number: int, user: str) -> HeldTapeFile:
        """Position at tape file `number` and return its blocks as a HeldTapeFile.

        The drive stays held until the stream is exhausted or closed. Errors found while
        positioning (no tape, no such file) raise here, before anything is streamed."""
        slot = self.slot(drive_name)
        holder = slot.hold(f"reading file {number}")
        drive = holder.__enter__()
        try:
            if not drive.status().online:
                raise Refused(f"drive {drive_name} holds no tape")
            tape_ops.position_at_file(drive, number)
            try:
                first = drive.read_block(tape_ops.read_buffer_size(slot.config.block_size))
            except BlankTape:
                first = b""
            if not first:
                raise Refused(f"tape file {number} does not exist on this tape (end of data)")
        except BaseException as exc:
            holder.__exit__(type(exc), exc, exc.__traceback__)
            raise
        self.inventory.audit("read", user, drive=drive_name, file=number,
                             barcode=slot.loaded.barcode if slot.loaded else None)
        return HeldTapeFile(holder, first, tape_ops.read_tape_file(drive, slot.config.block_size))


class HeldTapeFile:
    """The blocks of one tape file, streamed while the drive is held; close() releases the drive once."""

    def __init__(self, holder: AbstractContextManager[Any], first: bytes, rest: Iterator[bytes]) -> None:
        self._holder = holder
        self._first = first
        self._rest = rest
        self._closed = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            yield self._first
            yield from self._rest
        finally:
            self.close()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._holder.__exit__(None, None, None)
