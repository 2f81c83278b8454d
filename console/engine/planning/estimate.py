"""The expected bytes of a job's next run, from its source, each with the basis it rests on.

- xo: the selected VMs' VDIs (the `xo` source's own VM selection). A VHD export carries the allocated
  blocks, each behind its sector bitmap, plus the footer, header and block table: the allocated bytes are
  XO's chainPhysicalUsage (every VHD of the VDI's chain: the export merges them) when it gives one, else
  `usage`, never more than the virtual size. raw exports are the virtual size.
- xo_remote: the files the `xo_remote` source would copy (its own listing: the newest backup of each
  selected VM and every VHD of its chains), with each chain split into its full and its deltas.
- files: the tree's size (a walk that stops after a time limit and then says so) times the compression
  ratio of the job's last runs (1.0 with a note when there is none).

A source that cannot be reached gives an Estimate with `bytes=None` and a one-line `error`, never raises.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.config.schema import JobConfig
from console.engine.planning.history import Night, compression_ratio
from console.engine.sources.xo import VDI_FIELDS, VM_FIELDS, select_vms
from console.engine.sources.xo_client import XoClient, XoError
from console.engine.tapeformat.vhd import (
    DEFAULT_BLOCK_SIZE,
    FOOTER_SIZE,
    HEADER_SIZE,
    SECTOR_SIZE,
    VhdError,
    bitmap_size,
)
from console.wire.plan_words import plural, size

WALK_SECONDS = 10.0  # a file tree is measured for at most this long
MEMBER_OVERHEAD = 1536  # a tar member's header, its pax header and half a block of padding, on average
VM_METADATA = 4096  # an xo job's vm.json beside each VM's disks
RECORD = 262144  # the set's last record, half padding, and its manifest: about one record per set


@dataclass(frozen=True, slots=True)
class ChainSizes:
    """The VHD chains an xo_remote run copies: fulls and deltas, and how deep the chains are."""

    fulls: int  # the full VHDs plus the backups' metadata: copied whatever the depth
    deltas: int  # every delta of every chain
    depth: int  # deltas in the deepest chain
    chains: int
    delta_step: int  # one delta of each chain, on average: what keeping one delta fewer saves

    def to_json(self) -> dict[str, int]:
        return {"fulls": self.fulls, "deltas": self.deltas, "depth": self.depth, "chains": self.chains,
                "delta_step": self.delta_step}


@dataclass(frozen=True, slots=True)
class Estimate:
    job: str
    bytes: int | None  # None: the source could not be measured (see error)
    basis: str  # what the figure rests on, in a sentence
    exact: bool = True  # False: a guess (a ratio from history, or a walk cut short)
    error: str | None = None
    chains: ChainSizes | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"bytes": self.bytes, "basis": self.basis, "exact": self.exact, "error": self.error,
                "chains": self.chains.to_json() if self.chains else None, **self.details}


def vhd_export_bytes(allocated: int, virtual_size: int, block_size: int = DEFAULT_BLOCK_SIZE) -> int:
    """Length of a dynamic VHD holding `allocated` bytes of blocks, laid out as XO exports it."""
    blocks = math.ceil(min(allocated, virtual_size) / block_size)
    entries = math.ceil(virtual_size / block_size)
    table = math.ceil(entries * 4 / SECTOR_SIZE) * SECTOR_SIZE
    return FOOTER_SIZE + HEADER_SIZE + table + blocks * (bitmap_size(block_size) + block_size) + FOOTER_SIZE


def vdi_export_bytes(vdi: dict[str, Any], fmt: str) -> int:
    virtual = int(vdi["size"])
    if fmt == "raw":
        return virtual
    allocated = next((vdi[k] for k in ("chainPhysicalUsage", "usage") if vdi.get(k) is not None), virtual)
    return vhd_export_bytes(int(allocated), virtual)


def tar_overhead(members: int, record_size: int) -> int:
    """What tar adds around the members of one set: headers and padding, the manifest and the last record."""
    return members * MEMBER_OVERHEAD + record_size


def estimate_xo(job: JobConfig, client: XoClient, record_size: int = RECORD) -> Estimate:
    vms = select_vms(client.list_vms(fields=VM_FIELDS), job.vms)
    if not vms:
        return Estimate(job.name, None, "no VM matches", error=f"no VM of Xen Orchestra matches {', '.join(job.vms)}")
    total = disks = 0
    for vm in vms:
        for vdi in client.list_vdis(vm_id=vm["id"], fields=VDI_FIELDS + ",chainPhysicalUsage"):
            total += vdi_export_bytes(vdi, job.vdi_format)
            disks += 1
    total += len(vms) * VM_METADATA + tar_overhead(disks + len(vms), record_size)
    if job.vdi_format == "raw":
        basis = f"{plural(disks, 'VDI')} of {plural(len(vms), 'VM')} exported raw: their virtual sizes, plus tar"
    else:
        basis = (f"{plural(disks, 'VDI')} of {plural(len(vms), 'VM')} exported as VHD: the allocated blocks "
                 "(XO's chain usage) plus VHD and tar headers")
    return Estimate(job.name, total, basis, details={"vms": len(vms), "vdis": disks})


def _is_vhd_file(name: str) -> bool:
    """A VHD of a chain (a plain .vhd or a block-mode .alias.vhd), not a file inside a block-mode folder."""
    return name.endswith(".vhd") and ".vhd/" not in name


def estimate_remote(job: JobConfig, record_size: int = RECORD) -> Estimate:
    from console.engine.sources.xo_remote import remote_members
    from console.engine.tapeformat.vhd import read_vhd_info

    assert job.remote_path is not None
    root = job.remote_path
    fulls = 0
    chains: list[list[int]] = []  # per chain: the bytes of each delta, oldest first
    current: list[int] | None = None  # the bytes of the VHD being summed: its file and its block folder
    for member in remote_members(job):
        length = (member.length or 0) + MEMBER_OVERHEAD
        if _is_vhd_file(member.name):
            if read_vhd_info(root / member.name).disk_type == "differencing":
                if not chains:  # a delta with no full before it: counted with the fulls
                    fulls += length
                    current = None
                    continue
                chains[-1].append(length)
                current = chains[-1]
            else:
                chains.append([])
                fulls += length
                current = None
        elif current is not None and ".vhd/" in member.name:
            current[-1] += length  # a block-mode delta's folder
        else:
            fulls += length  # metadata, and the block folders of the fulls
            current = None
    fulls += record_size  # the set's end: manifest and last record
    deltas = sum(sum(c) for c in chains)
    depth = max((len(c) for c in chains), default=0)
    step = round(sum(sum(c) / len(c) for c in chains if c))
    sizes = ChainSizes(fulls, deltas, depth, len(chains), step)
    basis = (f"the files the remote copy would take: {plural(len(chains), 'chain')}, fulls {size(fulls)}, "
             f"{plural(sum(len(c) for c in chains), 'delta')} {size(deltas)} (deepest chain: "
             f"{plural(depth, 'delta')}), plus tar headers")
    return Estimate(job.name, fulls + deltas, basis, chains=sizes)


@dataclass(frozen=True, slots=True)
class TreeSize:
    files: int
    bytes: int
    complete: bool  # False: the walk ran out of time; bytes is what it counted so far


def tree_size(roots: tuple[Path, ...], seconds: float = WALK_SECONDS,
              clock: Callable[[], float] = time.monotonic) -> TreeSize:
    """Files and bytes under the folders (symlinks not followed), for at most `seconds`."""
    deadline = clock() + seconds
    files = total = 0
    stack = [str(r) for r in roots]
    while stack:
        folder = stack.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        elif entry.is_file(follow_symlinks=False):
                            total += entry.stat(follow_symlinks=False).st_size
                            files += 1
                    except OSError:
                        continue
        except OSError:
            continue
        if clock() > deadline:
            return TreeSize(files, total, complete=not stack)
    return TreeSize(files, total, complete=True)


def estimate_files(job: JobConfig, nights: list[Night], seconds: float = WALK_SECONDS) -> Estimate:
    missing = [str(p) for p in job.paths if not p.is_dir()]
    if missing:
        return Estimate(job.name, None, "folder missing", error=f"folder {missing[0]} does not exist")
    tree = tree_size(job.paths, seconds)
    ratio_seen = compression_ratio(nights)
    ratio, ratio_text = (ratio_seen[0], f"the compression of its last {plural(ratio_seen[1], 'run')} "
                         f"({ratio_seen[0]:.2f})") if ratio_seen else (1.0, "no compression assumed (1.0): no run "
                                                                       "has recorded its ratio yet")
    walked = f"{plural(tree.files, 'file')}, {size(tree.bytes)}"
    if not tree.complete:
        walked = f"at least {walked} (the walk stopped after {seconds:g} s)"
    return Estimate(job.name, round(tree.bytes * ratio), f"the tree ({walked}) × {ratio_text}",
                    exact=False, details={"tree_bytes": tree.bytes, "files": tree.files, "ratio": ratio,
                                          "walk_complete": tree.complete})


def estimate_job(job: JobConfig, *, xo: Callable[[], XoClient] | None, nights: list[Night],
                 walk_seconds: float = WALK_SECONDS, record_size: int = RECORD) -> Estimate:
    """Tonight's bytes for one job; a source that cannot be reached gives the reason, never an exception."""
    try:
        if job.source == "xo":
            if xo is None:
                raise LookupError("no Xen Orchestra is configured ([xo] in config.toml)")
            return estimate_xo(job, xo(), record_size)
        if job.source == "xo_remote":
            return estimate_remote(job, record_size)
        if job.source == "files":
            return estimate_files(job, nights, walk_seconds)
        raise LookupError(f"unknown source {job.source!r}")
    except (XoError, LookupError, VhdError, OSError, ValueError, KeyError) as exc:
        reason = " ".join(str(exc).split()) or exc.__class__.__name__
        return Estimate(job.name, None, f"{job.source} source unreachable", error=f"{job.source} source: {reason}")
    except Exception as exc:  # RemoteBusy and anything else a source raises: said, not raised
        return Estimate(job.name, None, f"{job.source} source unreachable",
                        error=f"{job.source} source: {exc.__class__.__name__}: {exc}")
