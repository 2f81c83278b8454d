"""One drive as the daemon holds it: the backend, its config, who is using it and what is loaded."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from console.config.schema import DriveConfig
from console.engine.drives.base import Drive, DriveError
from console.engine.refusals import Refused
from console.wire.states import DriveState, parse


@dataclass
class LoadedTape:
    """What the daemon knows about the cartridge in a drive, from its label and the inventory."""

    barcode: str | None
    label: str | None = None
    label_uuid: str | None = None
    pool: str | None = None
    blank: bool = False
    foreign: str | None = None  # a reason when file 0 is not a tapeconsole label
    warning: str | None = None


@dataclass
class DriveHandle:
    config: DriveConfig
    drive: Drive
    loaded: LoadedTape | None = None
    activity: str | None = None  # what holds the drive now: 'labelling', 'reading file 3', ...
    activity_since: float = 0.0
    last_error: str | None = None
    # while a set is written: (tape file, block) from where the set began (MTIOCPOS) and the records written since
    writing_position: Callable[[], tuple[int, int]] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def name(self) -> str:
        return self.config.name

    @contextmanager
    def hold(self, activity: str, wait: float = 0.0) -> Iterator[Drive]:
        """Take the drive for one operation; when another holds it, wait up to `wait` seconds, then
        refuse naming what holds it."""
        taken = self._lock.acquire(timeout=wait) if wait > 0 else self._lock.acquire(blocking=False)
        if not taken:
            raise Refused(f"drive {self.name} is busy: {self.activity or 'another operation'}")
        self.activity, self.activity_since = activity, time.monotonic()
        try:
            yield self.drive
        except DriveError as exc:
            self.last_error = f"{activity}: {exc}"
            raise
        finally:
            self.activity = None
            self._lock.release()

    @property
    def busy(self) -> bool:
        return self._lock.locked()

    def state(self) -> DriveState:
        """The drive's state: the verb of what holds it ("restoring set 4" -> restoring), else idle or no-tape."""
        if self.activity:
            return parse(DriveState, self.activity.split()[0], DriveState.BUSY)
        try:
            online = self.drive.status().online
        except DriveError:
            return DriveState.ERROR
        return DriveState.IDLE if online else DriveState.NO_TAPE

    def describe(self) -> dict[str, Any]:
        try:
            status = self.drive.status()
            position = {"file": status.file_number, "block": status.block_number}
            status_json = status.to_json()
        except DriveError as exc:
            status_json, position = {"error": str(exc)}, {"file": -1, "block": -1}
        writing = self.writing_position
        if writing is not None and position["block"] < 0:  # st forgets the block after spacing to end of data
            file_number, block = writing()
            position = {"file": file_number if position["file"] < 0 else position["file"], "block": block}
        loaded = self.loaded
        return {
            "name": self.name,
            "kind": self.config.kind,
            "generation": self.config.generation,
            "device": str(self.config.device) if self.config.device else None,
            "state": self.state(),
            "activity": self.activity,
            "loaded": loaded.barcode if loaded else None,
            "label": loaded.label if loaded else None,
            "pool": loaded.pool if loaded else None,
            "blank": loaded.blank if loaded else None,
            "warning": (loaded.warning or loaded.foreign) if loaded else None,
            "position": position,
            "status": status_json,
            "counters": self.drive.counters().to_json(),
            "block_size": self.config.block_size,
            "last_error": self.last_error,
        }
