"""Rebuilding the inventory from a scanned tape: the tape's record from its label, a set per manifest.

Works on a tape this inventory knows (a rescan fills gaps and keeps the set numbers), on a tape whose
inventory was lost, and on a tape from another installation. Set numbers are this inventory's own; each
scanned set keeps the number it had where it was written (`origin_set`), which is how a set that
`continues` one on another tape is linked again, whichever tape is scanned first. A tape known only from a
scan is recorded as full: nothing is appended to it until it is relabelled.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from console.engine.inventory import Inventory
from console.engine.restore.scan import FoundSet
from console.engine.tapeformat.label import TapeLabel
from console.engine.tapeformat.manifest_check import ManifestError, checked_manifest

Json = dict[str, Any]
IndexCreated = Callable[[str], float | None]  # file-index key -> when that index was started, None if absent
INDEX_MATCH_SECONDS = 6 * 3600  # an index started this close to the set's start is that run's index
_FROM_TAPE = ("sha256", "offset", "header_offset", "size")
CUT_STATES = ("writing", "incomplete", "failed")  # what the inventory says of a set a kill cut short


def _iso(moment: float | None) -> str | None:
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def members_from_manifest(manifest: Json) -> list[Json]:
    """The inventory's member entries: each tar member with what the set writer recorded about its part."""
    parts = {p["name"]: p for p in manifest.get("parts") or []}
    entries = []
    for member in manifest.get("members") or []:
        entry = {k: v for k, v in parts.get(member["name"], {}).items() if k not in _FROM_TAPE}
        entry.setdefault("member", member["name"])
        entry.setdefault("part", 0)
        entry.setdefault("part_offset", 0)
        entry.setdefault("last_part", True)
        entry.update(name=member["name"], size=member["size"], sha256=member["sha256"],
                     offset=member["data_offset"], header_offset=member["header_offset"])
        if member.get("error"):
            entry["incomplete"] = member["error"]
        entries.append(entry)
    return entries


def _trust_index(entries: list[Json], started: str | None, index_created: IndexCreated) -> None:
    """Keep a member's file-index key only when this site's index holds that run (started about then):
    'run7' of another installation is not our run 7."""
    try:
        began = datetime.fromisoformat(started).timestamp() if started else None
    except ValueError:
        began = None
    for entry in entries:
        key = entry.get("index")
        if not key:
            continue
        created = index_created(key)
        if created is None or began is None or abs(created - began) > INDEX_MATCH_SECONDS:
            entry["index"] = None


class InventoryRebuild:
    def __init__(self, inventory: Inventory, index_created: IndexCreated = lambda key: None) -> None:
        self.inventory = inventory
        self.index_created = index_created

    def record(self, label: TapeLabel, barcode: str, location: str, capacity: int, found: list[FoundSet]
               ) -> Json:
        """Store what the scan found; returns a summary for the operator."""
        inv = self.inventory
        notes: list[str] = []
        tape = inv.tape(barcode)
        known = tape is not None and tape.get("label_uuid") == label.uuid
        if tape is None:
            inv.register_cartridge(barcode, label.generation, capacity, location)
        elif tape.get("label_uuid") and not known:
            gone = inv.mark_sets_overwritten(barcode)
            notes.append(f"{barcode} was relabelled since the inventory last saw it: {gone} old set(s) marked gone")
        other = inv.tape_by_label(label.label)
        if other is not None and other["barcode"] != barcode:
            notes.append(f"label {label.label} is also recorded on tape {other['barcode']}")
        added = updated = 0
        ids: list[int] = []
        for item in found:
            if item.manifest is None:
                notes.append(f"tape file {item.file}: {item.problem or 'no manifest'}; not recorded")
                continue
            try:
                checked_manifest(item.manifest, file_bytes=item.bytes or None)
            except ManifestError as exc:
                notes.append(f"tape file {item.file}: its manifest is not believed ({exc}); not recorded")
                continue
            set_id, new = self._record_set(label, barcode, item)
            ids.append(set_id)
            added += new
            updated += not new
            if item.problem:
                notes.append(f"tape file {item.file}: {item.problem}")
        ended = [s["ended"] for s in inv.sets(barcode=barcode) if s.get("ended") and s["state"] != "overwritten"]
        fields: Json = {
            "label": label.label, "label_uuid": label.uuid, "pool": label.pool, "labelled": label.created,
            "bytes_used": sum(f.bytes for f in found) + (found[0].record_size if found else 0),
            "last_written": max(ended) if ended else None, "location": location,
        }
        if not known:
            fields["status"] = "full"
        inv.update_tape(barcode, **fields)
        return {"barcode": barcode, "label": label.label, "pool": label.pool, "label_uuid": label.uuid,
                "known_before": known, "tape_files": len(found), "sets": ids, "added": added, "updated": updated,
                "notes": notes}

    def _record_set(self, label: TapeLabel, barcode: str, item: FoundSet) -> tuple[int, bool]:
        inv = self.inventory
        manifest = item.manifest
        assert manifest is not None
        entries = members_from_manifest(manifest)
        origin = manifest.get("set")
        fields: Json = {
            "job": manifest.get("job"), "run": manifest.get("run"), "source": manifest.get("source"),
            "barcode": barcode, "tape": label.label, "pool": manifest.get("pool") or label.pool, "file": item.file,
            "first_block": item.first_block, "record_size": manifest.get("record_size") or item.record_size,
            "started": manifest.get("started"), "ended": _iso(item.written), "bytes": item.bytes,
            "members": entries, "member_count": len(entries), "state": manifest.get("state") or "complete",
            "error": manifest.get("error"), "origin_set": origin, "continues_origin": manifest.get("continues_set"),
            "scanned": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        here = [s for s in inv.sets(barcode=barcode) if s["file"] == item.file and s["state"] != "overwritten"]
        same = [s for s in here if s.get("started") == fields["started"] and s.get("job") == fields["job"]]
        if same:
            record = same[0]
            keep = {"first_block": record.get("first_block") if record.get("first_block") is not None
                    else item.first_block, "scanned": fields["scanned"]}
            if not record.get("members"):
                _trust_index(entries, fields["started"], self.index_created)
                keep.update(members=entries, member_count=len(entries))
            if fields["state"] == "complete" and record.get("state") in CUT_STATES and not item.problem:
                # the daemon died just after the set closed: the tape holds it whole, manifest and all
                keep.update(state="complete", bytes=item.bytes, ended=fields["ended"], error=None,
                            members=entries, member_count=len(entries))
            inv.update_set(record["id"], **keep)
            return record["id"], False
        for stale in here:
            inv.update_set(stale["id"], state="overwritten")
        _trust_index(entries, fields["started"], self.index_created)
        fields["continues"] = self._previous(fields)
        set_id = inv.add_set(fields)
        for follower in inv.sets():
            if follower.get("continues") is None and follower.get("continues_origin") == origin \
                    and follower.get("job") == fields["job"] and follower.get("run") == fields["run"] \
                    and follower["id"] != set_id:
                inv.update_set(follower["id"], continues=set_id)
        return set_id, True

    def _previous(self, fields: Json) -> int | None:
        """This inventory's number of the set this one continues, when a scan recorded that set (sets
        written here are never matched by number: another installation's set 5 is not ours)."""
        wanted = fields["continues_origin"]
        if wanted is None:
            return None
        for record in self.inventory.sets():
            if record.get("job") != fields["job"] or record.get("run") != fields["run"]:
                continue
            if record.get("origin_set") == wanted and record["state"] != "overwritten":
                return record["id"]
        return None
