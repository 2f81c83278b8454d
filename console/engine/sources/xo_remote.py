"""The `xo_remote` source: VM backups from a Xen Orchestra backup remote (an NFS/SMB folder) to tape.

For each selected VM: the metadata JSON of the chosen backup runs, then every VHD their disks need,
from the full up through each delta (chain order), so a restore has the whole chain on one set.
Block-mode VHDs (`.alias.vhd` naming a `data/<uuid>.vhd/` folder) go with every file of that folder.
Reading is refused while XO merges (a `.<parent>.merge.json` marker), and a file that changes while
it is read fails the set.
"""

from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from console.config.schema import JobConfig
from console.engine.pipeline.parts import SourceMember, SourceStreamError
from console.engine.tapeformat.vhd import is_vhd_alias, resolve_vhd_alias, vhd_chain

BACKUP_DIR = "xo-vm-backups"
CHUNK = 1024 * 1024


class RemoteBusy(Exception):
    """XO is merging on the remote: copying now could read a chain in the middle of a rewrite."""


def _metadata_files(vm_dir: Path) -> list[Path]:
    """<ts>.json of each backup run, oldest first (file names sort by time)."""
    return sorted(p for p in vm_dir.glob("*.json") if p.name[:8].isdigit())


def _merge_markers(vm_dir: Path) -> list[Path]:
    return sorted(p for p in vm_dir.rglob(".*.merge.json"))


def _stable_chunks(path: Path, expected: os.stat_result) -> Iterator[bytes]:
    """The file's bytes; SourceStreamError when it is not the file that was listed, or changes meanwhile."""
    with open(path, "rb") as handle:
        before = os.fstat(handle.fileno())
        if (before.st_ino, before.st_size, before.st_mtime_ns) != (expected.st_ino, expected.st_size,
                                                                    expected.st_mtime_ns):
            raise SourceStreamError(f"{path} changed between listing and reading")
        while True:
            chunk = handle.read(CHUNK)
            if not chunk:
                break
            yield chunk
        after = os.fstat(handle.fileno())
    try:
        now = path.stat()
    except FileNotFoundError:
        raise SourceStreamError(f"{path} was removed while being read (a merge on the remote?)") from None
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or now.st_ino != before.st_ino:
        raise SourceStreamError(f"{path} changed while being read (a merge on the remote?)")


def _files_of_vhd(path: Path) -> list[Path]:
    """The files that make up one VHD on the remote: the file, or the alias plus its block-mode folder."""
    if not is_vhd_alias(path):
        return [path]
    folder = resolve_vhd_alias(path)
    return [path, *sorted(p for p in folder.rglob("*") if p.is_file())]


def plan_vm(vm_dir: Path, which: str) -> tuple[dict[str, Any], list[Path]]:
    """(metadata of the newest run, every file to copy in order) for one VM folder."""
    metas = _metadata_files(vm_dir)
    if not metas:
        raise LookupError(f"{vm_dir} holds no backup metadata")
    chosen = metas if which == "all" else metas[-1:]
    files: list[Path] = []
    seen: set[Path] = set()

    def add(p: Path) -> None:
        if p not in seen:
            seen.add(p)
            files.append(p)

    newest: dict[str, Any] = {}
    for meta_path in chosen:
        try:
            newest = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise LookupError(f"{meta_path}: unreadable backup metadata ({exc})") from None
        add(meta_path)
    for meta_path in chosen:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        for rel in (meta.get("vhds") or {}).values():
            vhd = (vm_dir / rel).resolve() if not Path(rel).is_absolute() else Path(rel)
            if not (vhd.exists() or vhd.is_symlink()):
                raise LookupError(f"{meta_path}: names {rel}, which is not on the remote")
            for info in reversed(vhd_chain(vhd)):  # the full first, then each delta
                assert info.path is not None
                for f in _files_of_vhd(info.path):
                    add(f)
    return newest, files


def remote_members(job: JobConfig) -> Iterator[SourceMember]:
    assert job.remote_path is not None
    root = job.remote_path
    backups = root / BACKUP_DIR
    if not backups.is_dir():
        raise LookupError(f"{backups} does not exist: is the backup remote mounted at {root}?")
    planned: list[tuple[Path, list[Path]]] = []
    for vm_dir in sorted(p for p in backups.iterdir() if p.is_dir()):
        markers = _merge_markers(vm_dir)
        metas = _metadata_files(vm_dir)
        if not metas:
            continue
        name = json.loads(metas[-1].read_text(encoding="utf-8")).get("vm", {}).get("name_label", vm_dir.name)
        if not any(fnmatch.fnmatchcase(name, p) for p in job.vms):
            continue
        if markers:
            raise RemoteBusy(f"XO is merging on the remote ({markers[0].relative_to(root)}): "
                             "copy to tape between backup runs")
        _, files = plan_vm(vm_dir, "latest")
        planned.append((vm_dir, files))
    if not planned:
        raise LookupError(f"job {job.name}: no VM backup on {backups} matches {', '.join(job.vms)}")
    for _vm_dir, files in planned:
        for path in files:
            listed = path.stat()
            yield SourceMember(
                name=str(path.resolve().relative_to(root.resolve())),
                length=listed.st_size,
                open=lambda p=path, s=listed: _stable_chunks(p, s),
                source=f"xo_remote:{path.resolve().relative_to(root.resolve())}",
                mtime=listed.st_mtime,
            )
