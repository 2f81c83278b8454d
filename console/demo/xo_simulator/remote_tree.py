"""Write a realistic Xen Orchestra backup remote (incremental "delta" backups), deterministic from a seed.

```
xo-vm-backups/<vm uuid>/
  <ts>.json                                   metadata v2.0.0 of one backup run
  vdis/<job uuid>/<vdi uuid>/<ts>.vhd         run 0: a dynamic VHD (full); later runs: differencing
                                              VHDs whose parentUnicodeName is the parent's file name
  vdis/<job uuid>/<vdi uuid>/<ts>.alias.vhd   block mode: names data/<uuid>.vhd/, a folder with
                                              header, footer, bat, blocks/N/M, chunk-filters.json
  vdis/<job uuid>/<vdi uuid>/.<parent>.merge.json   a merge in progress (on demand)
```

VMs, VDIs and their base content come from the same seed as the fake XO's inventory, so a remote and a
fake XO made with one seed describe the same pool. Every VHD's footer uuid is the VDI snapshot's uuid
named in that run's metadata, as XO writes it.
"""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from console.demo.xo_simulator.brotli_store import brotli_store
from console.demo.xo_simulator.inventory import Inventory, InventoryOptions
from console.demo.xo_simulator.vhdgen import Disk, Layer, VhdImage, raw_chunks
from console.engine.tapeformat.vhd import VhdReader, bitmap_size, vhd_timestamp

BACKUP_DIR = "xo-vm-backups"
Compression = Literal["brotli", "none"]


def format_ts(when: datetime) -> str:
    """XO's backup file name date: %Y%m%dT%H%M%SZ."""
    return when.strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class RemoteVhd:
    """One VHD of one backup run."""

    path: str  # relative to the remote root: .../<ts>.vhd or .../<ts>.alias.vhd
    vdi_uuid: str  # the VDI backed up
    snapshot_uuid: str  # the VDI snapshot exported (also the VHD footer's uuid)
    differencing: bool
    virtual_size: int
    raw_sha256: str  # of the raw disk as of this run (the VHD with its ancestors merged)
    block_mode: bool


@dataclass(frozen=True)
class RemoteBackup:
    """One backup run of one VM."""

    vm_uuid: str
    vm_name: str
    timestamp: str  # as in the file names
    metadata_path: str  # relative to the remote root
    vhds: tuple[RemoteVhd, ...]


@dataclass(frozen=True)
class RemoteTree:
    root: Path
    job_id: str
    schedule_id: str
    backups: tuple[RemoteBackup, ...]
    merge_markers: tuple[str, ...]  # relative paths of .<parent>.merge.json files written


def _sha256(disk: Disk) -> str:
    digest = hashlib.sha256()
    for chunk in raw_chunks(disk):
        digest.update(chunk)
    return digest.hexdigest()


def _write_directory_vhd(folder: Path, image: VhdImage, compression: Compression) -> None:
    """vhd-lib's VhdDirectory layout; every chunk goes through the chunk filter."""
    encode = brotli_store if compression == "brotli" else (lambda data: data)
    folder.mkdir(parents=True)
    header = replace(image.header, parent_locators=())  # locator data is not kept in block mode
    (folder / "footer").write_bytes(encode(image.footer))
    (folder / "header").write_bytes(encode(header.pack()))
    bat = bytearray(header.max_table_entries)  # vhd-lib allocates one byte per entry, uses one bit
    for index in image.block_ids:
        bat[index >> 3] |= 0x80 >> (index & 7)
        bitmap, data = image.source.block(index)
        block_file = folder / "blocks" / str(index // 1000) / str(index % 1000)
        block_file.parent.mkdir(parents=True, exist_ok=True)
        block_file.write_bytes(encode(bitmap + data))
    (folder / "bat").write_bytes(encode(bytes(bat)))
    if compression != "none":
        (folder / "chunk-filters.json").write_text(json.dumps([compression]))


def write_remote_tree(
    root: str | Path,
    seed: int = 0,
    *,
    runs: int = 3,
    scale: float = 0.1,
    block_mode_vms: tuple[str, ...] = ("files01",),
    merge_marker_vms: tuple[str, ...] = (),
    compression: Compression = "brotli",
    vm_names: tuple[str, ...] | None = None,
    first_run: datetime = datetime(2026, 3, 2, 22, 0, tzinfo=UTC),
) -> RemoteTree:
    """Write `runs` incremental backup runs (a full, then deltas) of the seed's VMs under `root`."""
    root = Path(root)
    rng = random.Random(f"remote:{seed}")
    inventory = Inventory(InventoryOptions(seed=seed, scale=scale))
    job_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    schedule_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    backups: list[RemoteBackup] = []
    markers: list[str] = []
    for vm in inventory.objects["vms"].values():
        if vm_names is not None and vm["name_label"] not in vm_names:
            continue
        block_mode = vm["name_label"] in block_mode_vms
        vm_dir = root / BACKUP_DIR / vm["id"]
        vdis = inventory.vm_vdis(vm["id"])
        layers = {v["id"]: [inventory.disks[v["id"]].layers[0]] for v in vdis}
        previous: dict[str, tuple[str, uuid.UUID, int]] = {}  # vdi id -> (file name, footer uuid, vhd ts)
        for run in range(runs):
            when = first_run + timedelta(days=run)
            ts = format_ts(when)
            entries: list[RemoteVhd] = []
            meta_vdis: dict[str, Any] = {}
            meta_vbds: dict[str, Any] = {}
            vhds: dict[str, str] = {}
            differencing: dict[str, bool] = {}
            total = 0
            for position, vdi in enumerate(vdis):
                if run > 0:
                    base = layers[vdi["id"]][0]
                    layers[vdi["id"]].append(Layer(
                        rng.getrandbits(32), base.virtual_size, inventory.options.changed, base.compressible,
                        0.25, base.block_size,
                    ))
                disk = Disk(tuple(layers[vdi["id"]]))
                snap_uuid = uuid.UUID(int=rng.getrandbits(128), version=4)
                ref = f"OpaqueRef:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
                name = f"{ts}.alias.vhd" if block_mode else f"{ts}.vhd"
                vdi_dir = vm_dir / "vdis" / job_id / vdi["id"]
                vdi_dir.mkdir(parents=True, exist_ok=True)
                parent = previous.get(vdi["id"])
                image = VhdImage(
                    disk.layers[-1] if parent else disk,
                    snap_uuid,
                    disk_type="differencing" if parent else "dynamic",
                    parent_uuid=parent[1] if parent else None,
                    parent_name=parent[0] if parent else "",
                    parent_timestamp=parent[2] if parent else 0,
                    timestamp=vhd_timestamp(when),
                    locator=not block_mode,
                )
                if block_mode:
                    data_name = f"data/{uuid.UUID(int=rng.getrandbits(128), version=4)}.vhd"
                    _write_directory_vhd(vdi_dir / data_name, image, compression)
                    (vdi_dir / name).write_text(data_name)
                    full = bitmap_size(image.source.block_size) + image.source.block_size
                    size = len(image.block_ids) * full + 1536  # bytes written before compression
                else:
                    image.write(vdi_dir / name)
                    size = image.length
                total += size
                rel = f"vdis/{job_id}/{vdi['id']}/{name}"
                entries.append(RemoteVhd(
                    path=f"{BACKUP_DIR}/{vm['id']}/{rel}", vdi_uuid=vdi["id"], snapshot_uuid=str(snap_uuid),
                    differencing=parent is not None, virtual_size=disk.virtual_size, raw_sha256=_sha256(disk),
                    block_mode=block_mode,
                ))
                vbd_ref = f"OpaqueRef:{uuid.UUID(int=rng.getrandbits(128), version=4)}"
                meta_vdis[ref] = {
                    "uuid": str(snap_uuid), "name_label": vdi["name_label"], "name_description": "",
                    "virtual_size": disk.virtual_size, "type": "user", "$snapshot_of$uuid": vdi["id"],
                    "other_config": {}, "sm_config": {}, "$SR$uuid": vdi["$SR"],
                }
                meta_vbds[vbd_ref] = {"VDI": ref, "userdevice": str(position), "bootable": position == 0,
                                      "mode": "RW", "type": "Disk", "unpluggable": False}
                vhds[ref] = rel
                differencing[f"{ref}.vhd"] = parent is not None
                previous[vdi["id"]] = (name, snap_uuid, vhd_timestamp(when))
            snapshot_uuid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            metadata = {
                "version": "2.0.0",
                "mode": "delta",
                "jobId": job_id,
                "scheduleId": schedule_id,
                "timestamp": int(when.timestamp() * 1000),
                "vm": {"uuid": vm["id"], "name_label": vm["name_label"], "name_description": vm["name_description"],
                       "power_state": vm["power_state"], "tags": [], "other_config": {},
                       "memory_static_max": vm["memory"]["size"], "VCPUs_max": vm["CPUs"]["max"]},
                "vmSnapshot": {"uuid": snapshot_uuid, "name_label": vm["name_label"], "is_a_snapshot": True,
                               "snapshot_time": when.strftime("%Y%m%dT%H:%M:%SZ"),
                               "other_config": {"xo:backup:job": job_id, "xo:backup:schedule": schedule_id,
                                                "xo:backup:vm": vm["id"], "xo:backup:datetime": ts}},
                "vdis": meta_vdis,
                "vbds": meta_vbds,
                "vifs": {},
                "vhds": vhds,
                "isVhdDifferencing": differencing,
                "size": total,
            }
            (vm_dir / f"{ts}.json").write_text(json.dumps(metadata, indent=2))
            backups.append(RemoteBackup(vm["id"], vm["name_label"], ts, f"{BACKUP_DIR}/{vm['id']}/{ts}.json",
                                        tuple(entries)))
        if vm["name_label"] in merge_marker_vms:
            markers.extend(_merge_marker(root, [b for b in backups if b.vm_uuid == vm["id"]]))
    return RemoteTree(root, job_id, schedule_id, tuple(backups), tuple(markers))


def _merge_marker(root: Path, runs: list[RemoteBackup]) -> list[str]:
    """`.<parent>.merge.json` for the oldest two VHDs of each VDI, as vhd-lib writes it when a merge starts."""
    if len(runs) < 2:
        return []
    written = []
    for parent, child in zip(runs[0].vhds, runs[1].vhds, strict=True):
        parent_path, child_path = root / parent.path, root / child.path
        marker = parent_path.parent / f".{parent_path.name}.merge.json"
        state = {
            "child": {"header": _header_checksum(child_path)},
            "parent": {"header": _header_checksum(parent_path)},
            "currentBlock": 0,
            "mergedDataSize": 0,
            "step": "mergeBlocks",
            "chain": [parent_path.name, child_path.name],
        }
        marker.write_text(json.dumps(state))
        written.append(str(marker.relative_to(root)))
    return written


def _header_checksum(path: Path) -> int:
    header = VhdReader(path).header
    assert header is not None
    return header.checksum
