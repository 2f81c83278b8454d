"""What can be restored, from which night, and which tapes that needs: derived from the daemon's sets.

A restore target is a VM's disk (from the sets of an XO job) or a job's file tree (a file-tree set holds
one compressed tar; the walkthrough then asks which files of it). A night is one run of the job. The
daemon restores (POST /v1/restores); this module only works out what to ask it for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from console.wire.lto import drive_can_read
from console.wire.restore_catalog import RESTORABLE
from console.wire.units import short_name

Json = dict[str, Any]
PART = re.compile(r"\.part\d{4}$")


@dataclass(frozen=True)
class Target:
    key: str
    kind: str  # 'vm-disk' | 'file-tree'
    title: str
    job: str


@dataclass(frozen=True)
class Night:
    run: int
    started: str
    state: str  # the worst state of its sets holding the target
    bytes: int
    sets: tuple[int, ...]


@dataclass(frozen=True)
class TapeNeed:
    barcode: str
    label: str | None
    location: str
    tape_files: tuple[int, ...]
    drive: str | None  # the drive to read it in
    ready: bool  # already in that drive
    todo: str  # what to do, in plain words


def _disk_key(member: Json) -> tuple[str, str] | None:
    if not member.get("vdi") or not member.get("vm"):
        return None
    name = PART.sub("", member.get("member") or member.get("name") or "")
    return member["vm"], name.rsplit("/", 1)[-1]


def _job_sources(jobs: list[Json], details: dict[int, Json]) -> dict[str, str]:
    sources = {j["name"]: j["source"] for j in jobs}
    for detail in details.values():
        sources.setdefault(detail["job"], detail.get("source") or "?")
    return sources


def targets(sets: list[Json], details: dict[int, Json], jobs: list[Json]) -> list[Target]:
    """Every VM disk and file tree some restorable set holds, in a stable order."""
    sources = _job_sources(jobs, details)
    disks: dict[str, Target] = {}
    trees: dict[str, Target] = {}
    for s in sets:
        if s["state"] not in RESTORABLE:
            continue
        source = sources.get(s["job"], "?")
        if source == "files":
            trees.setdefault(s["job"], Target(f"files:{s['job']}", "file-tree", f"File tree of job {s['job']}",
                                              s["job"]))
            continue
        for member in (details.get(s["id"]) or {}).get("members", []):
            key = _disk_key(member)
            if key is None:
                continue
            vm, disk = key
            key = f"vm:{vm}/{disk}"
            disks.setdefault(key, Target(key, "vm-disk", f"VM {vm}: disk {short_name(disk)}", s["job"]))
    return sorted(disks.values(), key=lambda t: t.title) + sorted(trees.values(), key=lambda t: t.title)


def _holds(target: Target, set_summary: Json, detail: Json | None) -> bool:
    if set_summary["job"] != target.job or set_summary["state"] not in RESTORABLE:
        return False
    if target.kind == "file-tree":
        return True
    wanted = target.key.removeprefix("vm:")
    for member in (detail or {}).get("members", []):
        key = _disk_key(member)
        if key is not None and f"{key[0]}/{key[1]}" == wanted:
            return True
    return False


def nights(target: Target, sets: list[Json], details: dict[int, Json]) -> list[Night]:
    """The runs that hold `target`, newest first."""
    by_run: dict[int, list[Json]] = {}
    for s in sets:
        if s.get("run") is not None and _holds(target, s, details.get(s["id"])):
            by_run.setdefault(s["run"], []).append(s)
    found = []
    rank = {state: i for i, state in enumerate(RESTORABLE)}
    for run, held in by_run.items():
        held.sort(key=lambda s: s["id"])
        found.append(Night(
            run=run, started=held[0].get("started") or "?",
            state=max((s["state"] for s in held), key=lambda st: rank.get(st, 99)),
            bytes=sum(s.get("bytes") or 0 for s in held), sets=tuple(s["id"] for s in held),
        ))
    return sorted(found, key=lambda n: n.run, reverse=True)


def _reader(tape: Json, drives: list[Json]) -> Json | None:
    location = tape.get("location") or ""
    if location.startswith("drive:"):
        return next((d for d in drives if d["name"] == location.split(":", 1)[1]), None)
    able = [d for d in drives if drive_can_read(d["generation"], tape["generation"])]
    able.sort(key=lambda d: (d["generation"] != tape["generation"], d.get("loaded") is not None, d["name"]))
    return able[0] if able else None


def tapes_needed(night: Night, sets: list[Json], tapes: list[Json], drives: list[Json]) -> list[TapeNeed]:
    """The tapes holding the night's sets for the target, in the order they are read."""
    by_id = {s["id"]: s for s in sets}
    files: dict[str, list[int]] = {}
    for set_id in night.sets:
        s = by_id.get(set_id)
        if s is not None:
            files.setdefault(s["barcode"], []).append(s["file"])
    needs = []
    for barcode, numbers in files.items():
        tape = next((t for t in tapes if t["barcode"] == barcode), None)
        if tape is None:
            needs.append(TapeNeed(barcode, None, "unknown", tuple(numbers), None, False,
                                  f"Tape {barcode} is not in the inventory any more."))
            continue
        reader = _reader(tape, drives)
        location = tape["location"]
        name = tape.get("label") or barcode
        ready = reader is not None and location == f"drive:{reader['name']}"
        if ready:
            todo = f"{name} is in drive {reader['name']} already."
        elif location.startswith("offsite"):
            todo = f"{name} is offsite ({location.split(':', 1)[1]}): bring it back first."
        elif reader is None:
            todo = f"No drive here can read {tape['generation']} tape {name}."
        elif location.startswith("drive:"):
            todo = f"{name} is in drive {location.split(':', 1)[1]}."
        else:
            todo = f"{name} is on the shelf: insert it into drive {reader['name']}."
        needs.append(TapeNeed(barcode, tape.get("label"), location, tuple(numbers),
                              reader["name"] if reader else None, ready, todo))
    return needs


def disk_members(target: Target, night: Night, details: dict[int, Json]) -> list[str]:
    """The member names (parts joined) of a VM disk target in the night's sets, as the daemon names them."""
    if target.kind != "vm-disk":
        return []
    wanted = target.key.removeprefix("vm:")
    names: list[str] = []
    for set_id in night.sets:
        for member in (details.get(set_id) or {}).get("members", []):
            key = _disk_key(member)
            name = member.get("member") or PART.sub("", member.get("name") or "")
            if key is not None and f"{key[0]}/{key[1]}" == wanted and name not in names:
                names.append(name)
    return names
