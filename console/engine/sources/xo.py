"""The `xo` source: the VM disks of the pool, exported from Xen Orchestra's REST API straight to tape.

Per VM: a small vm.json (the VM and its VDIs as XO describes them), then each VDI as VHD (or raw),
its length computed from the VHD head before its data arrives. No local disk is used.
"""

from __future__ import annotations

import fnmatch
import json
import re
import time
from collections.abc import Iterator
from typing import Any

from console.config.schema import JobConfig
from console.engine.pipeline.parts import SourceMember
from console.engine.sources.xo_client import XoClient

VM_FIELDS = "id,uuid,name_label,name_description,power_state,$VBDs,$pool,tags"
VDI_FIELDS = "id,uuid,name_label,name_description,size,usage,$SR,VDI_type,parent,snapshots"
SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    """A name usable as a path component inside the tar (no slashes, no spaces)."""
    cleaned = SAFE.sub("_", text).strip("._") or "unnamed"
    return cleaned[:80]


def select_vms(vms: list[dict[str, Any]], patterns: tuple[str, ...]) -> list[dict[str, Any]]:
    chosen = [vm for vm in vms if any(fnmatch.fnmatchcase(vm.get("name_label", ""), p) for p in patterns)]
    return sorted(chosen, key=lambda vm: (vm.get("name_label", ""), vm["id"]))


def xo_members(client: XoClient, job: JobConfig) -> Iterator[SourceMember]:
    """The members of an `xo` job, VM by VM. The exports start only when each member's turn comes."""
    vms = select_vms(client.list_vms(fields=VM_FIELDS), job.vms)
    if not vms:
        raise LookupError(f"job {job.name}: no VM of Xen Orchestra matches {', '.join(job.vms)}")
    for vm in vms:
        vdis = sorted(client.list_vdis(vm_id=vm["id"], fields=VDI_FIELDS), key=lambda v: (v["name_label"], v["id"]))
        folder = f"vms/{safe_name(vm['name_label'])}-{vm['id'][:8]}"
        meta = json.dumps({"vm": vm, "vdis": vdis, "exported": time.time(), "format": job.vdi_format},
                          indent=2, sort_keys=True).encode()
        yield SourceMember(
            name=f"{folder}/vm.json", length=len(meta), open=lambda data=meta: [data],
            source=f"xo:vm/{vm['id']}", extra={"vm": vm["name_label"]},
        )
        for vdi in vdis:
            yield SourceMember(
                name=f"{folder}/{safe_name(vdi['name_label'])}-{vdi['id']}.{job.vdi_format}",
                length=int(vdi["size"]) if job.vdi_format == "raw" else None,
                open=lambda vdi_id=vdi["id"]: client.export_vdi(vdi_id, job.vdi_format),
                source=f"xo:vdi/{vdi['id']}",
                estimate=int(vdi.get("usage") or vdi["size"]),
                extra={"vm": vm["name_label"], "vdi": vdi["id"], "virtual_size": int(vdi["size"])},
            )


def expected_bytes(client: XoClient, job: JobConfig) -> int:
    """What tonight's export should weigh: the VDIs' usage (VHD) or size (raw)."""
    total = 0
    for vm in select_vms(client.list_vms(fields=VM_FIELDS), job.vms):
        for vdi in client.list_vdis(vm_id=vm["id"], fields=VDI_FIELDS):
            total += int(vdi["size"]) if job.vdi_format == "raw" else int(vdi.get("usage") or vdi["size"])
    return total
