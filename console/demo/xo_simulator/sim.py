"""The state of one fake Xen Orchestra: inventory, users and tokens, faults, received imports, tasks.

Tests and the embedded demo reach it through `XoSimHandle.sim` (server.py); the HTTP layer (app.py)
only reads and changes it through the methods here.
"""

from __future__ import annotations

import re
import secrets
import string
import threading
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from console.demo.xo_simulator.faults import Fault, FaultTable
from console.demo.xo_simulator.inventory import Inventory, InventoryOptions
from console.demo.xo_simulator.vhdgen import VhdImage
from console.engine.tapeformat.vhd import vhd_timestamp

DEFAULT_USER = "admin@admin.net"
DEFAULT_PASSWORD = "admin"
DEFAULT_TOKEN_LIFETIME_MS = 30 * 24 * 3600 * 1000
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|seconds?|m|min|minutes?|h|hours?|d|days?)?\s*$")
_UNIT_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_expires_in(value: Any) -> int:
    """XO's expiresIn: milliseconds as a number, or a string like '1 hour', '30 days', '90s'."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return int(value)
    if isinstance(value, str):
        match = _DURATION.match(value)
        if match:
            unit = (match.group(2) or "ms")
            key = "ms" if unit == "ms" else "m" if unit.startswith("min") or unit == "m" else unit[0]
            return int(float(match.group(1)) * _UNIT_MS[key])
    raise ValueError(f"bad expiresIn {value!r}")


@dataclass(frozen=True)
class ImportRecord:
    """One upload the fake XO received."""

    vdi_id: str
    fmt: str  # "raw" or "vhd"
    size: int
    sha256: str
    created: bool  # a new VDI (POST /srs/{id}/vdis) rather than a PUT onto an existing one
    sr_id: str | None = None
    name_label: str | None = None
    content_length: int | None = None  # the Content-Length header as sent (None: chunked)
    virtual_size: int | None = None  # for a VHD, the virtual size its footer gave

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SimSettings:
    user: str = DEFAULT_USER
    password: str = DEFAULT_PASSWORD
    snapshot_seconds: float = 0.05  # how long a VM snapshot task runs
    snapshot_error: str | None = None  # when set, snapshot tasks fail with this XAPI error code


class XoSim:
    """Everything the fake XO knows. Methods are thread-safe: tests call them from another thread."""

    def __init__(self, seed: int = 0, scale: float = 1.0, *, settings: SimSettings | None = None,
                 inventory_options: InventoryOptions | None = None) -> None:
        self.lock = threading.RLock()
        self.inventory = Inventory(inventory_options or InventoryOptions(seed=seed, scale=scale))
        self.settings = settings or SimSettings()
        self.faults = FaultTable()
        self.imports: list[ImportRecord] = []
        self.tokens: dict[str, dict[str, Any]] = {}
        self.tasks: dict[str, dict[str, Any]] = {}

    # --- tokens ----------------------------------------------------------------------------------

    def check_password(self, user: str, password: str) -> bool:
        return secrets.compare_digest(user.encode(), self.settings.user.encode()) and secrets.compare_digest(
            password.encode(), self.settings.password.encode()
        )

    def create_token(self, expires_in_ms: int = DEFAULT_TOKEN_LIFETIME_MS, description: str | None = None,
                     client_id: str | None = None, token: str | None = None) -> dict[str, Any]:
        """A new authentication token object, as XO answers it."""
        now = self.inventory.clock_ms()
        obj: dict[str, Any] = {
            "id": token or secrets.token_urlsafe(32),
            "user_id": self.inventory.user_id,
            "created_at": now,
            "expiration": now + expires_in_ms,
        }
        if description is not None:
            obj["description"] = description
        if client_id is not None:
            obj["client"] = {"id": client_id}
        with self.lock:
            self.tokens[obj["id"]] = obj
        return obj

    def token_valid(self, token: str) -> bool:
        with self.lock:
            obj = self.tokens.get(token)
        return obj is not None and obj["expiration"] > self.inventory.clock_ms()

    def expire_token(self, token: str) -> None:
        with self.lock:
            if token in self.tokens:
                self.tokens[token]["expiration"] = 0

    # --- faults and imports ----------------------------------------------------------------------

    def set_fault(self, vdi_id: str | None = None, **settings: Any) -> Fault:
        """Inject a fault into the exports of one VDI (or all): see faults.Fault for the settings."""
        fault = Fault.from_json(settings)
        self.faults.set(fault, vdi_id)
        return fault

    def clear_faults(self, vdi_id: str | None = None) -> None:
        self.faults.clear(vdi_id)

    def record_import(self, record: ImportRecord) -> None:
        with self.lock:
            self.imports.append(record)

    def received(self) -> list[ImportRecord]:
        with self.lock:
            return list(self.imports)

    # --- objects ---------------------------------------------------------------------------------

    def vhd_image(self, vdi_id: str) -> VhdImage:
        """The VHD that exporting a VDI or VDI snapshot gives: dynamic, footer uuid = the VDI's, dated
        from the snapshot (or from the pool's clock for a live VDI)."""
        with self.lock:
            obj = self.inventory.objects["vdis"].get(vdi_id) or self.inventory.objects["vdi-snapshots"][vdi_id]
            seconds = obj.get("snapshot_time", self.inventory.now_ms // 1000)
            disk = self.inventory.disks[vdi_id]
        return VhdImage(disk, uuid.UUID(vdi_id), timestamp=vhd_timestamp(datetime.fromtimestamp(seconds, UTC)))

    def find(self, collection: str, obj_id: str) -> dict[str, Any] | None:
        with self.lock:
            return self.inventory.objects[collection].get(obj_id)

    def new_task(self, name: str, object_id: str, object_type: str) -> dict[str, Any]:
        alphabet = string.digits + string.ascii_lowercase
        task_id = "0m" + "".join(secrets.choice(alphabet) for _ in range(7))
        task = {
            "id": task_id,
            "properties": {"name": name, "objectId": object_id, "objectType": object_type,
                           "type": "xo:rest-api:action", "userId": self.inventory.user_id, "params": {}},
            "start": self.inventory.clock_ms(),
            "status": "pending",
            "updatedAt": self.inventory.clock_ms(),
        }
        with self.lock:
            self.tasks[task_id] = task
        return task

    def finish_task(self, task: dict[str, Any], *, result: dict[str, Any], ok: bool) -> None:
        with self.lock:
            now = self.inventory.clock_ms()
            task.update(status="success" if ok else "failure", end=now, updatedAt=now, result=result)
