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
from console.engine.sources.xo_client import XoClient, XoError
from console.engine.sources.xo_ids import BadXoId, checked_id

VM_FIELDS = "id,uuid,name_label,name_description,power_state,$VBDs,$pool,tags"
VDI_FIELDS = "id,uuid,name_label,name_description,size,usage,$SR,VDI_type,parent,snapshots"
SAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_VIRTUAL_SIZE = 64 * 1024**4  # XAPI's largest VDI is 16 TiB; a bigger size is not believed


def safe_name(text: str) -> str:
    """A name usable as a path component inside the tar (no slashes, no spaces)."""
    cleaned = SAFE.sub("_", text).strip("._") or "unnamed"
    return cleaned[:80]


def select_vms(vms: list[dict[str, Any]], patterns: tuple[str, ...]) -> list[dict[str, Any]]:
    chosen = [vm for vm in vms if any(fnmatch.fnmatchcase(vm.get("name_label", ""), p) for p in patterns)]
    return sorted(chosen, key=lambda vm: (vm.get("name_label", ""), vm["id"]))


def _unique(name: str, used: set[str]) -> str:
    """`name`, or name-2, name-3... before its extension: two members of a set never share a name."""
    if name not in used:
        used.add(name)
        return name
    stem, dot, ext = name.rpartition(".") if "." in name.rsplit("/", 1)[-1] else (name, "", "")
    for n in range(2, 10_000):
        candidate = f"{stem}-{n}{dot}{ext}"
        if candidate not in used:
            used.add(candidate)
            return candidate
    raise LookupError(f"too many members named {name}")


def _checked(value: object, what: str) -> str:
    try:
        return checked_id(value, what)
    except BadXoId as exc:
        raise XoError(f"Xen Orchestra answered {exc}") from None


def xo_members(client: XoClient, job: JobConfig) -> Iterator[SourceMember]:
    """The members of an `xo` job, VM by VM. The exports start only when each member's turn comes.

    Ids from XO must be UUIDs (else the job fails with one line naming the id); names from XO become
    path components with safe characters only; a name met twice gets -2, -3... so none is hidden."""
    vms = select_vms(client.list_vms(fields=VM_FIELDS), job.vms)
    if not vms:
        raise LookupError(f"job {job.name}: no VM of Xen Orchestra matches {', '.join(job.vms)}")
    used: set[str] = set()
    for vm in vms:
        vm_id = _checked(vm.get("id"), f"VM {str(vm.get('name_label'))[:40]!r}: id")
        vdis = sorted(client.list_vdis(vm_id=vm_id, fields=VDI_FIELDS),
                      key=lambda v: (str(v.get("name_label")), str(v.get("id"))))
        folder = f"vms/{safe_name(str(vm.get('name_label', '')))}-{vm_id[:8]}"
        meta = json.dumps({"vm": vm, "vdis": vdis, "exported": time.time(), "format": job.vdi_format},
                          indent=2, sort_keys=True).encode()
        yield SourceMember(
            name=_unique(f"{folder}/vm.json", used), length=len(meta), open=lambda data=meta: [data],
            source=f"xo:vm/{vm_id}", extra={"vm": str(vm.get("name_label", ""))},
        )
        for vdi in vdis:
            vdi_id = _checked(vdi.get("id"), f"VDI {str(vdi.get('name_label'))[:40]!r} of VM {vm_id}: id")
            size = _virtual_size(vdi, vdi_id)
            yield SourceMember(
                name=_unique(f"{folder}/{safe_name(str(vdi.get('name_label', '')))}-{vdi_id}.{job.vdi_format}",
                             used),
                length=size if job.vdi_format == "raw" else None,
                open=lambda vdi_id=vdi_id, size=size: client.export_vdi(vdi_id, job.vdi_format, expected_size=size),
                source=f"xo:vdi/{vdi_id}",
                estimate=_usage(vdi, size),
                extra={"vm": str(vm.get("name_label", "")), "vdi": vdi_id, "virtual_size": size},
            )


def _virtual_size(vdi: dict[str, Any], vdi_id: str) -> int:
    size = vdi.get("size")
    if type(size) is not int or not 0 < size <= MAX_VIRTUAL_SIZE:
        raise XoError(f"Xen Orchestra answered VDI {vdi_id}: size must be a whole number of bytes from 1 to "
                      f"{MAX_VIRTUAL_SIZE}, got {size!r:.40}")
    return size


def _usage(vdi: dict[str, Any], size: int) -> int:
    usage = vdi.get("usage")
    return usage if type(usage) is int and 0 < usage <= 2 * size else size


def expected_bytes(client: XoClient, job: JobConfig) -> int:
    """What tonight's export should weigh: the VDIs' usage (VHD) or size (raw)."""
    total = 0
    for vm in select_vms(client.list_vms(fields=VM_FIELDS), job.vms):
        for vdi in client.list_vdis(vm_id=vm["id"], fields=VDI_FIELDS):
            total += int(vdi["size"]) if job.vdi_format == "raw" else int(vdi.get("usage") or vdi["size"])
    return total
