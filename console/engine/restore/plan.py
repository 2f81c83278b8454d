"""The restore plan: what is restored, the tapes needed in order, where each one is now, which set and
tape file is read on each, which drive reads them, and how long it should take.

A restore names one set and restores the backup it is part of: when a tape filled, the run went on in a
set on the next tape (`continues`), so every set of that chain is read, in tape order, and a member cut at
the end of one tape is joined with its parts from the next. Globs (--member) select member names of a VDI
set; for a file-tree set they select paths inside its archive, which is read from its start unless the
frame table lets the restore start at the frame holding the first file wanted (frame_seek).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

from console.config.schema import Config
from console.engine.inventory import Inventory
from console.engine.refusals import BadRequest, NotFound, Refused
from console.engine.restore.catalog import (
    FILE_TREE_MEMBERS,
    Member,
    Piece,
    members_of,
    night_of,
    restorable,
    run_chain,
    set_kind,
)
from console.engine.restore.to_xo import is_disk, xo_problem
from console.engine.tape_handling.drive_handle import DriveHandle
from console.wire.lto import drive_can_read

Json = dict[str, Any]

MAX_LISTED = 500  # members listed in a plan's JSON (the count is always whole)
SEEK_GAP_BYTES = 2 << 30  # wanted members further apart than this are reached with a new seek
VIRTUAL_RATE = 1e9  # bytes/s assumed for a virtual drive without a speed model
GENERATION_RATE = {"LTO-3": 80e6, "LTO-4": 120e6, "LTO-5": 140e6, "LTO-6": 160e6, "LTO-7": 300e6, "LTO-8": 360e6}
LOAD_SECONDS = {"st": 60.0, "virtual": 0.0}  # load, thread and read the label
POSITION_SECONDS = {"st": 50.0, "virtual": 0.0}  # an average locate on LTO


@dataclass(frozen=True)
class RestoreRequest:
    set_id: int
    members: tuple[str, ...] = ()  # globs: member names of a VDI set, paths inside a file-tree set
    to_folder: str | None = None
    to_xo: str | None = None  # the SR to create the VDIs on
    force: bool = False  # restore into a folder that is not empty, replacing what is there (and saying so)
    drive: str | None = None

    @classmethod
    def from_json(cls, body: Json) -> RestoreRequest:
        set_id = body.get("set")
        if not isinstance(set_id, int) or isinstance(set_id, bool):
            raise BadRequest("field 'set' must be a set number")
        members = body.get("members") or []
        if isinstance(members, str):
            members = [members]
        if not isinstance(members, list) or not all(isinstance(m, str) and m for m in members):
            raise BadRequest("field 'members' must be a list of globs")
        to_folder, to_xo = body.get("to"), body.get("to_xo")
        for name, value in (("to", to_folder), ("to_xo", to_xo), ("drive", body.get("drive"))):
            if value is not None and (not isinstance(value, str) or not value):
                raise BadRequest(f"field {name!r} must be text")
        if (to_folder is None) == (to_xo is None):
            raise BadRequest("give exactly one target: 'to' (a folder) or 'to_xo' (an SR uuid)")
        force = body.get("force", False)
        if not isinstance(force, bool):
            raise BadRequest("field 'force' must be true or false")
        return cls(set_id, tuple(members), to_folder, to_xo, force, body.get("drive"))

    def to_json(self) -> Json:
        return {"set": self.set_id, "members": list(self.members), "to": self.to_folder, "to_xo": self.to_xo,
                "force": self.force, "drive": self.drive}


@dataclass
class SetRead:
    """One set to read on a tape: the pieces wanted from it, grouped into runs read in one go."""

    record: Json
    pieces: list[Piece]
    segments: list[list[Piece]] = field(default_factory=list)
    start_skip: int = 0  # bytes of the first piece's data not read: a restore that starts at a frame

    @property
    def start_offset(self) -> int:
        """Where reading starts in the tape file: the first piece's header, or inside its data."""
        first = self.pieces[0]
        return first.data_offset + self.start_skip if self.start_skip else first.header_offset

    @property
    def bytes_to_read(self) -> int:
        total = sum(seg[-1].end_offset - seg[0].header_offset for seg in self.segments)
        return total - (self.start_offset - self.pieces[0].header_offset)

    def to_json(self) -> Json:
        record = self.record
        return {
            "set": record["id"], "file": record["file"], "first_block": record.get("first_block"),
            "record_size": record.get("record_size"), "state": record["state"], "pieces": len(self.pieces),
            "bytes": sum(p.size for p in self.pieces), "bytes_to_read": self.bytes_to_read,
            "start_record": self.start_offset // int(record.get("record_size") or 1),
            "start_skip": self.start_skip,
        }


@dataclass
class TapeStep:
    barcode: str
    label: str | None
    label_uuid: str | None
    generation: str | None
    location: str
    where: str  # in the operator's words: 'in drive lto5', 'on the shelf', 'offsite (vault-a)'
    todo: str  # what has to happen before it is read
    sets: list[SetRead]

    def to_json(self) -> Json:
        return {"barcode": self.barcode, "label": self.label, "generation": self.generation,
                "location": self.location, "where": self.where, "todo": self.todo,
                "sets": [s.to_json() for s in self.sets]}


@dataclass
class Plan:
    request: RestoreRequest
    kind: str  # files | vdi | other
    record: Json
    members: list[Member]
    skipped: list[tuple[str, str]]  # (member, why): not for this target (VM metadata when restoring into XO)
    unrestorable: list[tuple[str, str]]  # (member, why): asked for, but it cannot be restored
    tapes: list[TapeStep]
    drive: str
    drive_kind: str
    estimated_seconds: float
    problems: list[str]  # what stops the restore from starting

    @property
    def bytes(self) -> int:
        """Member bytes the restore streams (less what a start at a frame leaves unread)."""
        return sum(m.size for m in self.members) - sum(r.start_skip for t in self.tapes for r in t.sets)

    def to_json(self) -> Json:
        night = night_of(self.record.get("started"))
        return {
            "set": self.record["id"], "kind": self.kind, "job": self.record["job"], "run": self.record.get("run"),
            "night": night.isoformat() if night else None, "started": self.record.get("started"),
            "request": self.request.to_json(), "drive": self.drive,
            "members": [{"name": m.name, "size": m.size, "sets": m.set_ids, "parts": len(m.pieces)}
                        for m in self.members[:MAX_LISTED]],
            "member_count": len(self.members),
            "skipped": [{"name": n, "why": w} for n, w in self.skipped],
            "unrestorable": [{"name": n, "why": w} for n, w in self.unrestorable],
            "bytes": self.bytes, "tapes": [t.to_json() for t in self.tapes],
            "estimated_seconds": round(self.estimated_seconds, 1), "problems": list(self.problems),
        }


def _select(members: list[Member], kind: str, request: RestoreRequest
            ) -> tuple[list[Member], list[tuple[str, str]], list[tuple[str, str]]]:
    """(members to restore, members skipped as not for this target, members that cannot be restored)."""
    if kind == "files":
        archive = [m for m in members if m.name in FILE_TREE_MEMBERS]
        if not archive:
            raise Refused(f"set {request.set_id} holds no file-tree archive ({', '.join(FILE_TREE_MEMBERS)})")
        problem = archive[0].problem
        if problem:
            raise Refused(f"set {request.set_id}: {archive[0].name} cannot be restored: {problem}")
        return archive, [], []
    chosen = [m for m in members if not request.members or any(
        fnmatch.fnmatchcase(m.name, g) or fnmatch.fnmatchcase(m.name.rsplit("/", 1)[-1], g) for g in request.members)]
    if not chosen:
        wanted = ", ".join(request.members)
        raise NotFound(f"set {request.set_id} has no member matching {wanted}")
    selected: list[Member] = []
    skipped: list[tuple[str, str]] = []
    lost: list[tuple[str, str]] = []
    for member in chosen:
        if request.to_xo and not is_disk(member):
            skipped.append((member.name, "not a disk: only .vhd and .raw members go back into XO"))
        elif why := member.problem or (xo_problem(member) if request.to_xo else None):
            lost.append((member.name, why))
        else:
            selected.append(member)
    if not selected:
        name, why = (lost or skipped)[0]
        raise Refused(f"nothing of set {request.set_id} can be restored here: {name}: {why}")
    return selected, skipped, lost


def segments_of(pieces: list[Piece]) -> list[list[Piece]]:
    """Runs of pieces close enough on tape to read through rather than seek between."""
    segments: list[list[Piece]] = []
    for piece in sorted(pieces, key=lambda p: p.header_offset):
        if segments and piece.header_offset - segments[-1][-1].end_offset <= SEEK_GAP_BYTES:
            segments[-1].append(piece)
        else:
            segments.append([piece])
    return segments


def _where(location: str) -> str:
    if location.startswith("drive:"):
        return f"in drive {location.split(':', 1)[1]}"
    if location.startswith("offsite"):
        vault = location.split(":", 1)[1] if ":" in location else "vault"
        return f"offsite ({vault})"
    return "on the shelf" if location == "shelf" else location or "unknown"


def _todo(location: str, barcode: str, drive: DriveHandle) -> tuple[str, str | None]:
    """(what has to happen, a problem that stops the restore or None)."""
    virtual = drive.config.kind == "virtual"
    if location == f"drive:{drive.name}":
        return "ready in the drive", None
    if location.startswith("offsite"):
        vault = location.split(":", 1)[1] if ":" in location else "the vault"
        todo = f"recall it from {vault}, put it on the shelf and record it: tapeconsole onsite {barcode}"
        return todo, f"tape {barcode} is offsite ({vault}): {todo}"
    if location.startswith("drive:"):
        other = location.split(":", 1)[1]
        if virtual:
            return f"moved from drive {other} to drive {drive.name}", None
        return f"take it out of drive {other} and insert it into drive {drive.name} when asked", None
    if virtual:
        return f"loaded into drive {drive.name} from the shelf", None
    return f"insert it into drive {drive.name} when asked", None


def choose_drive(slots: dict[str, DriveHandle], tapes: list[Json], wanted: str | None) -> DriveHandle:
    generations = {t.get("generation") for t in tapes if t.get("generation")}

    def can_read(slot: DriveHandle) -> bool:
        return all(drive_can_read(slot.config.generation, g) for g in generations)

    if wanted is not None:
        slot = slots.get(wanted)
        if slot is None:
            raise NotFound(f"no drive named {wanted!r} (drives: {', '.join(slots)})")
        if not can_read(slot):
            media = ", ".join(sorted(generations))
            raise Refused(f"drive {wanted} ({slot.config.generation}) cannot read {media} media")
        return slot
    readers = [s for s in slots.values() if can_read(s)]
    if not readers:
        raise Refused(f"no drive can read {', '.join(sorted(generations))} media")
    first = tapes[0].get("location") if tapes else None
    holding = [s for s in readers if first == f"drive:{s.name}"]
    idle = [s for s in readers if not s.busy]
    return (holding or idle or readers)[0]


def _estimate(steps: list[TapeStep], slot: DriveHandle) -> float:
    kind = slot.config.kind
    rate = slot.config.native_rate or (VIRTUAL_RATE if kind == "virtual" else GENERATION_RATE.get(
        slot.config.generation, 100e6))
    seconds = 0.0
    for step in steps:
        if step.location != f"drive:{slot.name}":
            seconds += LOAD_SECONDS.get(kind, 60.0)
        for read in step.sets:
            seconds += POSITION_SECONDS.get(kind, 50.0) * len(read.segments)
            seconds += read.bytes_to_read / rate
    return seconds


def build_plan(config: Config, inventory: Inventory, slots: dict[str, DriveHandle], request: RestoreRequest) -> Plan:
    """Everything about a restore before the tape moves; raises Refused/NotFound/BadRequest (one line)."""
    sets = inventory.sets()
    chain = run_chain(sets, request.set_id)
    record = next(s for s in chain if s["id"] == request.set_id)
    restorable(record)
    kind = set_kind(record)
    if request.to_xo and kind == "files":
        raise BadRequest(f"set {request.set_id} is a file-tree set: restore it to a folder (--to DIR)")
    members, skipped, lost = _select(members_of(chain), kind, request)
    by_set: dict[int, list[Piece]] = {}
    for member in members:
        for piece in member.pieces:
            by_set.setdefault(piece.set_id, []).append(piece)
    order = [s for s in chain if s["id"] in by_set]
    tape_records = [inventory.tape(s["barcode"]) or {"barcode": s["barcode"], "location": "unknown"} for s in order]
    slot = choose_drive(slots, tape_records, request.drive)
    steps: list[TapeStep] = []
    problems: list[str] = []
    for set_record, tape in zip(order, tape_records, strict=True):
        read = SetRead(set_record, by_set[set_record["id"]], segments_of(by_set[set_record["id"]]))
        if steps and steps[-1].barcode == set_record["barcode"]:
            steps[-1].sets.append(read)
            continue
        location = tape.get("location") or "unknown"
        todo, problem = _todo(location, set_record["barcode"], slot)
        if problem:
            problems.append(problem)
        steps.append(TapeStep(
            barcode=set_record["barcode"], label=tape.get("label") or set_record.get("tape"),
            label_uuid=tape.get("label_uuid"), generation=tape.get("generation"), location=location,
            where=_where(location), todo=todo, sets=[read],
        ))
    return Plan(request, kind, record, members, skipped, lost, steps, slot.name, slot.config.kind,
                _estimate(steps, slot), problems)
