"""Verifying sets: read each back whole, check every member's sha256 against the tape's own manifest and
the inventory, and give one verdict per set: intact, damaged (what differs) or unreadable (where reading
stopped). The verdict is kept on the set in the inventory.

`tapes_due()` orders the tapes for a scheduled verify (verify_schedule.py): the ones verified longest ago
(never first).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from console.engine.drives.base import Drive, DriveError
from console.engine.inventory import Inventory
from console.engine.refusals import Refused
from console.engine.restore.catalog import GONE_STATES
from console.engine.restore.progress import TapeRun
from console.engine.restore.reader import TapeReader
from console.engine.restore.tapes import TapeHandler, WantedTape
from console.engine.tapeformat.manifest import MANIFEST_NAME
from console.engine.tapeformat.tar_headers import ChecksumError, TarSetError
from console.engine.tapeformat.tar_reader import TarSetReader

Json = dict[str, Any]
MAX_LISTED = 50


@dataclass
class SetVerdict:
    set_id: int
    file: int
    tape: str
    backup_state: str
    state: str = "intact"  # intact | damaged | unreadable
    members: int = 0  # members read from tape
    matching: int = 0
    bad: list[Json] = field(default_factory=list)  # {"name", "why"}
    missing: list[str] = field(default_factory=list)  # in the inventory, not on tape
    extra: list[str] = field(default_factory=list)  # on tape, not in the inventory
    manifest_agrees: bool | None = None  # the tape's MANIFEST.json lists what the inventory lists
    bytes: int = 0
    seconds: float = 0.0
    error: str | None = None

    def to_json(self) -> Json:
        return {
            "set": self.set_id, "file": self.file, "tape": self.tape, "backup_state": self.backup_state,
            "state": self.state, "ok": self.state == "intact", "members": self.members, "matching": self.matching,
            "bad": self.bad[:MAX_LISTED], "missing": self.missing[:MAX_LISTED], "extra": self.extra[:MAX_LISTED],
            "manifest_agrees": self.manifest_agrees, "bytes": self.bytes, "seconds": round(self.seconds, 3),
            "error": self.error,
        }


def _judge(verdict: SetVerdict, record: Json, seen: dict[str, str], manifest: Json | None) -> None:
    expected = {e["name"]: e["sha256"] for e in record.get("members") or []}
    on_tape = {m["name"]: m["sha256"] for m in (manifest or {}).get("members", [])}
    for name, digest in seen.items():
        if name not in expected:
            verdict.extra.append(name)
        elif digest != expected[name]:
            verdict.bad.append({"name": name, "why": f"sha256 {digest} on tape, {expected[name]} in the inventory"})
        elif manifest is not None and on_tape.get(name) != digest:
            verdict.bad.append({"name": name, "why": f"sha256 {digest} on tape, {on_tape.get(name)} in its manifest"})
        else:
            verdict.matching += 1
    verdict.missing = [name for name in expected if name not in seen]
    if manifest is not None:
        verdict.manifest_agrees = on_tape == expected
    if verdict.state == "intact" and (verdict.bad or verdict.missing or verdict.extra or manifest is None
                                      or not verdict.manifest_agrees):
        verdict.state = "damaged"
        if manifest is None and not verdict.error:
            verdict.error = "no MANIFEST.json at the end of the set"


def verify_set(reader: TapeReader, record: Json, run: TapeRun, clock: Callable[[], float] = time.monotonic
               ) -> SetVerdict:
    verdict = SetVerdict(record["id"], record["file"], record.get("tape") or record["barcode"], record["state"])
    started = clock()
    seen: dict[str, str] = {}
    manifest: Json | None = None
    try:
        reader.open_at(record, 0)
        tar = TarSetReader(reader.records())
        try:
            for member in tar:
                if member.name == MANIFEST_NAME:
                    manifest = tar.manifest
                    continue
                run.member = member.name
                for chunk in member.chunks:
                    verdict.bytes += len(chunk)
                    run.add_bytes(len(chunk))
                verdict.members += 1
                assert member.sha256 is not None
                seen[member.name] = member.sha256
        except ChecksumError:
            pass  # the reader's own comparison with the manifest; _judge reports each member
    except (TarSetError, DriveError, Refused) as exc:
        verdict.state, verdict.error = "unreadable", f"reading stopped after {verdict.members} member(s): {exc}"
    _judge(verdict, record, seen, manifest)
    verdict.seconds = clock() - started
    return verdict


class VerifyRunner:
    """Verify sets of one tape (the caller holds the drive)."""

    def __init__(self, sets: list[Json], wanted: WantedTape, run: TapeRun, tapes: TapeHandler, drive: Drive,
                 block_size: int, inventory: Inventory) -> None:
        self.sets = sorted(sets, key=lambda s: s["file"])
        self.wanted = wanted
        self.run = run
        self.tapes = tapes
        self.drive = drive
        self.block_size = block_size
        self.inventory = inventory

    def execute(self) -> None:
        self.run.tape = self.wanted.label or self.wanted.barcode
        self.tapes.ensure(self.wanted)
        reader = TapeReader(self.drive, self.block_size, self.run.cancel, self.run.stats)
        for record in self.sets:
            self.run.set_id = record["id"]
            verdict = verify_set(reader, record, self.run)
            self.run.results.append(verdict.to_json())
            when = datetime.now(UTC).isoformat(timespec="seconds")
            self.inventory.update_set(record["id"], verified=when, verify_state=verdict.state,
                                      verify_error=verdict.error or (verdict.bad[0]["why"] if verdict.bad else None))
            self.inventory.audit("verify", self.run.user, set=record["id"], barcode=record["barcode"],
                                 tape=verdict.tape, file=record["file"], result=verdict.state)
        self.run.ok = all(r["ok"] for r in self.run.results)


def live_sets(inventory: Inventory, barcode: str) -> list[Json]:
    return [s for s in inventory.sets(barcode=barcode) if s["state"] not in GONE_STATES]


def tapes_due(inventory: Inventory, *, pool: str | None = None, loaded_only: bool = False) -> list[Json]:
    """Tapes with sets on them, onsite, the one verified longest ago (or never) first."""
    due: list[tuple[str, str, Json]] = []
    for tape in inventory.tapes():
        location = tape.get("location") or ""
        if location.startswith("offsite") or (loaded_only and not location.startswith("drive:")):
            continue
        if pool is not None and tape.get("pool") != pool or not tape.get("label"):
            continue
        sets = live_sets(inventory, tape["barcode"])
        if not sets:
            continue
        oldest = min(s.get("verified") or "" for s in sets)
        due.append((oldest, tape.get("last_written") or "", tape))
    return [tape for _, _, tape in sorted(due, key=lambda d: (d[0], d[1]))]
