"""Finding what to restore: VM disks by VM, VDI and night; files by path glob and night.

VM disks come from the inventory's sets. Files come from the file index (SQLite), where a glob over
millions of paths is an index range or a trigram lookup, never a scan of the rows.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Iterable
from datetime import date
from typing import Any

from console.engine.inventory.file_index import FileIndex, IndexedFile
from console.engine.restore.catalog import GONE_STATES, base_name, disk_of, night_of, set_kind

Json = dict[str, Any]
DEFAULT_LIMIT = 200
_WILDCARDS = "*?["


def has_wildcards(text: str) -> bool:
    return any(ch in text for ch in _WILDCARDS)


def file_pattern(text: str) -> str:
    """The glob searched in the index: paths are stored as in the archive ('mail/alice/...'), so a leading
    '/' is dropped; a pattern without wildcards finds every path that contains it."""
    text = text.lstrip("/")
    return text if has_wildcards(text) else f"*{text}*"


def _matches(pattern: str, *values: str | None, prefix: bool = False) -> bool:
    """Case-insensitive glob; without wildcards a prefix (prefix=True) or a substring match."""
    pattern = pattern.lower()
    if not has_wildcards(pattern):
        pattern = f"{pattern}*" if prefix else f"*{pattern}*"
    return any(value is not None and fnmatch.fnmatchcase(value.lower(), pattern) for value in values)


def find_disks(
    sets: Iterable[Json], *, text: str | None = None, vm: str | None = None, vdi: str | None = None,
    night: date | None = None,
) -> list[Json]:
    """VM disks (and VM metadata) of VDI sets, one row per member of a run, newest night first."""
    rows: dict[tuple[str, Any, str], Json] = {}
    for record in sets:
        if record["state"] in GONE_STATES or set_kind(record) != "vdi":
            continue
        when = night_of(record.get("started"))
        if night is not None and when != night:
            continue
        for entry in record.get("members") or []:
            vm_name, vdi_id = disk_of(entry)
            name = base_name(entry)
            file_name = name.rsplit("/", 1)[-1]
            if vm is not None and not _matches(vm, vm_name, prefix=True):
                continue
            if vdi is not None and (vdi_id is None or not _matches(vdi, vdi_id, file_name)):
                continue
            if text is not None and not _matches(text, name, vm_name):
                continue
            key = (record["job"], record.get("run"), name)
            row = rows.setdefault(key, {
                "kind": "disk" if vdi_id else "metadata", "vm": vm_name, "vdi": vdi_id, "member": name,
                "job": record["job"], "run": record.get("run"), "night": when.isoformat() if when else None,
                "started": record.get("started"), "set": record["id"], "sets": [], "tapes": [], "size": 0,
                "incomplete": None,
            })
            if record["id"] not in row["sets"]:
                row["sets"].append(record["id"])
            tape = record.get("tape") or record["barcode"]
            if tape not in row["tapes"]:
                row["tapes"].append(tape)
            row["size"] += int(entry["size"])
            if entry.get("incomplete"):
                row["incomplete"] = entry["incomplete"]
    return sorted(rows.values(), key=lambda r: (r["started"] or "", r["member"]), reverse=True)


def file_tree_runs(sets: Iterable[Json]) -> dict[str, list[Json]]:
    """File-index key ('run<id>') -> the sets of that run holding its archive, in id order."""
    runs: dict[str, list[Json]] = {}
    for record in sorted(sets, key=lambda s: s["id"]):
        if record["state"] in GONE_STATES or set_kind(record) != "files":
            continue
        keys = {e["index"] for e in record.get("members") or [] if e.get("index")}
        for key in keys:
            runs.setdefault(key, []).append(record)
    return runs


def _file_row(hit: IndexedFile, chain: list[Json]) -> Json:
    first = chain[0]
    when = night_of(first.get("started"))
    tapes = list(dict.fromkeys(s.get("tape") or s["barcode"] for s in chain))
    return {
        "path": hit.path, "size": hit.size, "mtime": hit.mtime, "set": first["id"], "sets": [s["id"] for s in chain],
        "tapes": tapes, "job": first["job"], "run": first.get("run"), "night": when.isoformat() if when else None,
        "started": first.get("started"),
    }


def find_files(
    sets: Iterable[Json], index: FileIndex, pattern: str, *, night: date | None = None, limit: int = DEFAULT_LIMIT
) -> tuple[list[Json], bool]:
    """Files whose path matches the glob, in file-tree sets still on tape. Returns (rows, truncated)."""
    runs = file_tree_runs(sets)
    glob = file_pattern(pattern)
    if night is not None:
        wanted = [k for k, chain in runs.items() if night_of(chain[0].get("started")) == night]
        rows: list[Json] = []
        for key in sorted(wanted, key=lambda k: runs[k][0]["id"], reverse=True):
            hits = index.search(glob, set_id=key, limit=limit + 1 - len(rows))
            rows += [_file_row(hit, runs[key]) for hit in hits]
            if len(rows) > limit:
                break
        return rows[:limit], len(rows) > limit
    want = limit + 1
    while True:  # rows of sets gone from tape are dropped; ask for more until enough remain
        hits = index.search(glob, limit=want)
        rows = [_file_row(hit, runs[hit.set_id]) for hit in hits if hit.set_id in runs]
        if len(rows) > limit or len(hits) < want:
            return rows[:limit], len(rows) > limit
        want *= 4


def find(
    sets: list[Json], index: FileIndex | None, *, pattern: str | None = None, vm: str | None = None,
    vdi: str | None = None, night: date | None = None, limit: int = DEFAULT_LIMIT,
) -> Json:
    """Everything restorable that matches: VM disks and files, with how long the search took."""
    started = time.perf_counter()
    disks = find_disks(sets, text=pattern if vm is None and vdi is None else None, vm=vm, vdi=vdi, night=night)
    files: list[Json] = []
    truncated = len(disks) > limit
    if pattern is not None and vm is None and vdi is None and index is not None:
        files, more = find_files(sets, index, pattern, night=night, limit=limit)
        truncated = truncated or more
    return {"disks": disks[:limit], "files": files, "truncated": truncated,
            "seconds": round(time.perf_counter() - started, 4)}
