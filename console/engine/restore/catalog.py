"""What the inventory says can be restored.

A backup run writes one set per tape file. When a tape fills, its set closes at a member boundary and the
next tape's set `continues` it, often in the middle of a member cut in parts (NAME.part0001, ...). Here:
the chain of sets of one run, members joined from their parts across that chain, what kind of data a set
holds (a file tree or VM disks), which VM and VDI a member belongs to, and which night a set is of.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from console.engine.refusals import BadRequest, NotFound, Refused

Json = dict[str, Any]

GONE_STATES = ("overwritten", "writing")  # nothing to read: relabelled, or still being written
FILE_TREE_MEMBERS = ("backup.tar.zst", "backup.tar.gz", "backup.tar")  # zstd (the default), gzip, none
NIGHT_STARTS_AT_NOON = timedelta(hours=12)  # a run at 01:30 belongs to the night that began the evening before
_PART = re.compile(r"\.part\d{4}$")
_REMOTE_VDI = re.compile(r"^xo-vm-backups/(?P<vm>[^/]+)/vdis/[^/]+/(?P<vdi>[^/]+)/")
_REMOTE_VM = re.compile(r"^xo-vm-backups/(?P<vm>[^/]+)/")


@dataclass(frozen=True)
class Piece:
    """One tar member on tape: a whole member, or one part of it."""

    set_id: int
    name: str
    size: int
    sha256: str
    header_offset: int
    data_offset: int
    part_offset: int
    last_part: bool
    incomplete: str | None  # set when the backup padded it with zeros after its source failed
    entry: Json = field(compare=False, repr=False)

    @classmethod
    def from_entry(cls, set_id: int, entry: Json) -> Piece:
        return cls(
            set_id=set_id,
            name=entry["name"],
            size=int(entry["size"]),
            sha256=entry["sha256"],
            header_offset=int(entry["header_offset"]),
            data_offset=int(entry.get("offset", entry.get("data_offset", 0))),
            part_offset=int(entry.get("part_offset") or 0),
            last_part=bool(entry.get("last_part", True)),
            incomplete=entry.get("incomplete"),
            entry=entry,
        )

    @property
    def end_offset(self) -> int:
        """The tape-file offset just past its data and padding."""
        return self.data_offset + self.size + (-self.size % 512)


@dataclass
class Member:
    """One member as it is restored: its pieces in order, possibly from several sets on several tapes."""

    name: str
    pieces: list[Piece]

    @property
    def size(self) -> int:
        return sum(p.size for p in self.pieces)

    @property
    def set_ids(self) -> list[int]:
        return list(dict.fromkeys(p.set_id for p in self.pieces))

    @property
    def entry(self) -> Json:
        return self.pieces[0].entry

    @property
    def problem(self) -> str | None:
        """Why it cannot be restored whole, or None."""
        expected = 0
        for piece in self.pieces:
            if piece.incomplete:
                return f"{piece.name} was padded with zeros when it was backed up ({piece.incomplete})"
            if piece.part_offset != expected:
                if expected == 0:
                    return f"its start is on a set that is not in the inventory (first part here is {piece.name})"
                return f"the part at byte {expected} is on no set in the inventory"
            expected += piece.size
        if not self.pieces[-1].last_part:
            return f"its end is on no set in the inventory (last part here is {self.pieces[-1].name})"
        return None


def base_name(entry: Json) -> str:
    """The member a tar member belongs to: 'x.vhd.part0002' -> 'x.vhd'."""
    return entry.get("member") or _PART.sub("", entry["name"])


def run_chain(sets: list[Json], set_id: int) -> list[Json]:
    """The sets of one run in tape order, linked through `continues`, that contain `set_id`."""
    by_id = {s["id"]: s for s in sets}
    if set_id not in by_id:
        raise NotFound(f"no set {set_id} in the inventory")
    chain = [by_id[set_id]]
    seen = {set_id}
    while (previous := chain[0].get("continues")) in by_id and previous not in seen:
        seen.add(previous)
        chain.insert(0, by_id[previous])
    while True:
        following = sorted((s for s in sets if s.get("continues") == chain[-1]["id"] and s["id"] not in seen),
                           key=lambda s: s["id"])
        if not following:
            return chain
        seen.add(following[0]["id"])
        chain.append(following[0])


def members_of(chain: list[Json]) -> list[Member]:
    """Every member of the run's chain of sets, each joined from its pieces, in tape order."""
    grouped: dict[str, list[Piece]] = {}
    for record in chain:
        if record["state"] in GONE_STATES:
            continue
        for entry in record.get("members") or []:
            grouped.setdefault(base_name(entry), []).append(Piece.from_entry(record["id"], entry))
    position = {record["id"]: i for i, record in enumerate(chain)}
    members = []
    for name, pieces in grouped.items():
        pieces.sort(key=lambda p: (position[p.set_id], p.header_offset))
        members.append(Member(name, pieces))
    members.sort(key=lambda m: (position[m.pieces[0].set_id], m.pieces[0].header_offset))
    return members


def set_kind(record: Json) -> str:
    """'files' for a file-tree set (backup.tar.zst/.gz/.tar), 'vdi' for VM disks, 'other' otherwise."""
    source = record.get("source") or ""
    entries = record.get("members") or []
    if source == "files" or source.startswith("files:") or any(
        base_name(e) in FILE_TREE_MEMBERS for e in entries
    ):
        return "files"
    if source.startswith("xo") or any(disk_of(e)[0] for e in entries):
        return "vdi"
    return "other"


def disk_of(entry: Json) -> tuple[str | None, str | None]:
    """(VM, VDI) of a member of a VDI set: the VM's name (XO exports) or uuid (backup remote), the VDI's
    uuid; VDI None for the VM's metadata; (None, None) for anything else."""
    if entry.get("vdi"):
        return entry.get("vm"), entry["vdi"]
    name = entry.get("member") or entry.get("name") or ""
    if match := _REMOTE_VDI.match(name):
        return match["vm"], match["vdi"]
    if match := _REMOTE_VM.match(name):
        return match["vm"], None
    return entry.get("vm"), None


def night_of(started: str | None) -> date | None:
    """The night a set belongs to: its local start date, counting runs before noon to the evening before."""
    if not started:
        return None
    try:
        moment = datetime.fromisoformat(started)
    except ValueError:
        return None
    return (moment.astimezone() - NIGHT_STARTS_AT_NOON).date()


def parse_night(text: str | None) -> date | None:
    """A night as the operator types it: YYYY-MM-DD (the evening's date)."""
    if text is None or text == "":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"night {text!r} must be a date like 2026-03-01 (the evening the backup ran)") from None


def restorable(record: Json) -> None:
    """Refuse a set nothing can be read from any more."""
    if record["state"] == "overwritten":
        raise Refused(f"set {record['id']} is gone: tape {record.get('tape') or record['barcode']} was relabelled")
    if record["state"] == "writing":
        raise Refused(f"set {record['id']} is still being written")
