"""A deterministic pool for the fake Xen Orchestra: a small shop's VMs, their VDIs, SRs and snapshots.

Object shapes follow XO's REST API (@xen-orchestra/rest-api 0.33): the fields its OpenAPI schemas
require for VMs, VDIs, SRs, VM snapshots and VDI snapshots. Each VDI's content is a synthetic `Disk`
(vhdgen): the last snapshot's content plus the blocks written since.
"""

from __future__ import annotations

import copy
import math
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

from console.demo.xo_simulator.vhdgen import Disk, Layer

MiB = 1024 * 1024
GiB = 1024 * MiB

# name, description, power state, disks (label, MiB of virtual size at scale 1)
SHOP_VMS: tuple[tuple[str, str, str, tuple[tuple[str, int], ...]], ...] = (
    ("dc01", "Windows Server 2022 domain controller", "Running", (("system", 40),)),
    ("mail01", "Debian 12 mail server", "Running", (("system", 24), ("mailstore", 64))),
    ("files01", "Debian 12 Samba file server", "Running", (("system", 24), ("shares", 96), ("scratch", 16))),
    ("erp01", "Ubuntu 22.04 ERP with PostgreSQL", "Halted", (("system", 32), ("pgdata", 48))),
)

COLLECTIONS = ("vms", "vdis", "srs", "vm-snapshots", "vdi-snapshots")


@dataclass(frozen=True)
class InventoryOptions:
    seed: int = 0
    scale: float = 1.0  # multiplies every VDI's virtual size (rounded up to a whole MiB)
    block_size: int = 2 * MiB
    allocated: float = 0.6  # fraction of blocks present in a VDI's base
    changed: float = 0.15  # fraction of blocks written since the last snapshot
    compressible: float = 0.5


class Inventory:
    """The pool's objects by collection and id, and the synthetic content of every VDI and VDI snapshot."""

    def __init__(self, options: InventoryOptions | None = None) -> None:
        self.options = options or InventoryOptions()
        self._rng = random.Random(f"xosim:{self.options.seed}")
        self.objects: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in COLLECTIONS}
        self.disks: dict[str, Disk] = {}
        self.now_ms = 1_760_000_000_000 + self._rng.randrange(10**9)
        self.pool_id = self.new_uuid()
        self.host_id = self.new_uuid()
        self.user_id = self.new_uuid()
        self.local_sr = self._add_sr("Local storage", "ext", shared=False, size=500 * GiB)
        self.shared_sr = self._add_sr("NAS NFS", "nfs", shared=True, size=4096 * GiB)
        for index, (name, description, power, disks) in enumerate(SHOP_VMS):
            vm = self._add_vm(name, description, power)
            sr = self.local_sr if index % 2 == 0 else self.shared_sr
            for position, (label, mib) in enumerate(disks):
                self._add_vdi(vm, sr, f"{name} {label}", self._scaled(mib), position)
            self.snapshot_vm(vm["id"], f"{name} nightly", with_changes=False)

    # --- helpers ---------------------------------------------------------------------------------

    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def _scaled(self, mib: int) -> int:
        return max(1, math.ceil(mib * self.options.scale)) * MiB

    def _base(self, kind: str, obj_id: str) -> dict[str, Any]:
        return {
            "id": obj_id,
            "uuid": obj_id,
            "type": kind,
            "$pool": self.pool_id,
            "$poolId": self.pool_id,
            "_xapiRef": f"OpaqueRef:{self.new_uuid()}",
            "name_description": "",
            "tags": [],
            "current_operations": {},
        }

    def _add_sr(self, name: str, sr_type: str, *, shared: bool, size: int) -> dict[str, Any]:
        sr = self._base("SR", self.new_uuid()) | {
            "name_label": name,
            "SR_type": sr_type,
            "content_type": "user",
            "shared": shared,
            "size": size,
            "physical_usage": 0,
            "usage": 0,
            "allocationStrategy": "thin",
            "$PBDs": [self.new_uuid()],
            "$container": self.pool_id if shared else self.host_id,
            "VDIs": [],
            "inMaintenanceMode": False,
            "other_config": {},
            "sm_config": {},
        }
        self.objects["srs"][sr["id"]] = sr
        return sr

    def _add_vm(self, name: str, description: str, power: str) -> dict[str, Any]:
        memory = 4 * GiB
        vm = self._base("VM", self.new_uuid()) | {
            "name_label": name,
            "name_description": description,
            "power_state": power,
            "$container": self.host_id if power == "Running" else self.pool_id,
            "$VBDs": [],
            "$VGPUs": [],
            "CPUs": {"number": 2, "max": 4},
            "VGPUs": [],
            "VIFs": [self.new_uuid()],
            "VTPMs": [],
            "addresses": {},
            "auto_poweron": power == "Running",
            "bios_strings": {},
            "blockedOperations": {},
            "boot": {"firmware": "uefi", "order": "cd"},
            "creation": {"date": "2024-03-01T09:00:00.000Z", "user": self.user_id},
            "expNestedHvm": False,
            "isNestedVirtEnabled": False,
            "hasVendorDevice": False,
            "high_availability": "",
            "isFirmwareSupported": True,
            "memory": {"static": [GiB, memory], "size": memory, "dynamic": [memory, memory]},
            "needsVtpm": False,
            "os_version": {"name": description.split(" with ")[0]},
            "other": {},
            "secureBoot": False,
            "snapshots": [],
            "startDelay": 0,
            "viridian": name.startswith("dc"),
            "virtualizationMode": "hvm",
            "xenStoreData": {},
            "vulnerabilities": {"xsa468": False},
        }
        self.objects["vms"][vm["id"]] = vm
        return vm

    def _vdi_object(self, kind: str, vdi_id: str, sr: dict[str, Any], label: str, size: int) -> dict[str, Any]:
        return self._base(kind, vdi_id) | {
            "name_label": label,
            "size": size,
            "usage": 0,
            "chainPhysicalUsage": 0,
            "$SR": sr["id"],
            "$VBDs": [],
            "VDI_type": "user",
            "missing": False,
            "other_config": {},
            "snapshots": [],
            "cbt_enabled": False,
            "image_format": "vhd",
        }

    def _set_disk(self, vdi: dict[str, Any], disk: Disk | None) -> None:
        if disk is not None:
            self.disks[vdi["id"]] = disk
            vdi["usage"] = vdi["chainPhysicalUsage"] = len(disk.block_ids()) * disk.block_size
        sr = self.objects["srs"][vdi["$SR"]]
        sr["VDIs"].append(vdi["id"])
        sr["physical_usage"] += vdi["usage"]
        sr["usage"] += vdi["size"]

    def _add_vdi(self, vm: dict[str, Any], sr: dict[str, Any], label: str, size: int, position: int) -> None:
        opts = self.options
        vdi = self._vdi_object("VDI", self.new_uuid(), sr, label, size)
        vbd = self.new_uuid()
        vdi["$VBDs"].append(vbd)
        vm["$VBDs"].append(vbd)
        vdi["_position"] = position
        vdi["_vm"] = vm["id"]
        base = Layer(self._rng.getrandbits(32), size, opts.allocated, opts.compressible, 0.0, opts.block_size)
        changes = Layer(self._rng.getrandbits(32), size, opts.changed, opts.compressible, 0.25, opts.block_size)
        self.objects["vdis"][vdi["id"]] = vdi
        self._set_disk(vdi, Disk((base, changes)))

    # --- queries and changes ---------------------------------------------------------------------

    def vm_vdis(self, vm_id: str) -> list[dict[str, Any]]:
        """The VDIs of a VM (or of a VM snapshot), in device order."""
        if vm_id in self.objects["vms"]:
            found = [v for v in self.objects["vdis"].values() if v.get("_vm") == vm_id]
        else:
            found = [v for v in self.objects["vdi-snapshots"].values() if v.get("_vm") == vm_id]
        return sorted(found, key=lambda v: v.get("_position", 0))

    def snapshot_vm(self, vm_id: str, name_label: str | None = None, *, with_changes: bool = True) -> str:
        """Snapshot a VM and its VDIs; the new VDI snapshots hold the VDIs' current content."""
        vm = self.objects["vms"][vm_id]
        self.now_ms += 60_000
        snap_id = self.new_uuid()
        snap = copy.deepcopy(vm) | self._base("VM-snapshot", snap_id) | {
            "name_label": name_label or f"{vm['name_label']} snapshot",
            "$snapshot_of": vm_id,
            "snapshot_time": self.now_ms // 1000,
            "snapshots": [],
            "$VBDs": [],
            "power_state": "Halted",
            "$container": self.pool_id,
        }
        for vdi in self.vm_vdis(vm_id):
            disk = self.disks.get(vdi["id"])
            if disk is not None and not with_changes:
                disk = disk.top(len(disk.layers) - 1) if len(disk.layers) > 1 else disk
            sr = self.objects["srs"][vdi["$SR"]]
            vdi_snap = self._vdi_object("VDI-snapshot", self.new_uuid(), sr, vdi["name_label"], vdi["size"]) | {
                "$snapshot_of": vdi["id"],
                "snapshot_time": self.now_ms // 1000,
                "_vm": snap_id,
                "_position": vdi.get("_position", 0),
            }
            vbd = self.new_uuid()
            vdi_snap["$VBDs"].append(vbd)
            snap["$VBDs"].append(vbd)
            vdi["snapshots"].append(vdi_snap["id"])
            self.objects["vdi-snapshots"][vdi_snap["id"]] = vdi_snap
            self._set_disk(vdi_snap, disk)
        vm["snapshots"].append(snap_id)
        self.objects["vm-snapshots"][snap_id] = snap
        return snap_id

    def create_vdi(self, sr_id: str, name_label: str, size: int) -> str:
        """A new VDI made by an import: its content is not simulated (only the received digest is kept)."""
        vdi = self._vdi_object("VDI", self.new_uuid(), self.objects["srs"][sr_id], name_label, size)
        vdi["usage"] = vdi["chainPhysicalUsage"] = size
        self.objects["vdis"][vdi["id"]] = vdi
        self._set_disk(vdi, None)
        return vdi["id"]

    @staticmethod
    def public(obj: dict[str, Any]) -> dict[str, Any]:
        """The object as the API shows it (internal keys start with '_' but not '_xapiRef')."""
        return {k: v for k, v in obj.items() if not k.startswith("_") or k == "_xapiRef"}

    @staticmethod
    def clock_ms() -> int:
        return int(time.time() * 1000)
