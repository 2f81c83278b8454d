"""What the site owns and where it is: tapes, pools, drives, sets, runs and the audit trail.

One Inventory object lives in the daemon; a lock makes it safe to use from the drive worker threads and the
API at once. Every query reads the parsed copy in memory (store.py) and returns copies of its records; every
change is one fsynced journal append (the whole file is rewritten only by a compaction in the background).
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from operator import itemgetter
from pathlib import Path
from typing import Any

from console.config.schema import PoolConfig
from console.engine.inventory.audit_log import AuditLog, VerifyResult, flat
from console.engine.inventory.store import COMPACT_BYTES, InventoryStore, Op, Record, copied
from console.engine.retention import expiry, is_kept

TAPE_STATUSES = ("blank", "writable", "full", "damaged", "retired")


class InventoryError(Exception):
    """A refused inventory change; str() is the one-line reason."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def audit_log_path(inventory_path: Path) -> Path:
    """The audit log beside its inventory: var/inventory.json keeps its trail in var/inventory.audit.log."""
    return inventory_path.with_name(inventory_path.stem + ".audit.log")


class Inventory:
    def __init__(self, path: Path, *, clock: Callable[[], datetime] = utc_now,
                 compact_bytes: int = COMPACT_BYTES) -> None:
        self.path = Path(path)
        self.clock = clock
        self._lock = threading.RLock()
        with self._lock:
            self._store = InventoryStore(self.path, lock=self._lock, compact_bytes=compact_bytes)
            self.audit_log = AuditLog(audit_log_path(self.path), clock=clock, state=self, lock=self._lock)
            self._migrate_audit_table()
        # called with the barcode after a tape's sets were marked overwritten (the daemon drops them from the
        # file index); the inventory knows nothing of what the hook does
        self.on_sets_overwritten: Callable[[str], None] | None = None

    @property
    def changes(self) -> int:
        """A number that grows with every change: equal numbers mean equal contents (for ETags)."""
        return self._store.seq

    def close(self) -> None:
        self._store.close()  # not under the lock: a background compaction may be waiting for it

    # ---- the tables (records in memory are replaced, never changed in place)
    def _table(self, name: str) -> dict[int, Record]:
        return self._store.table(name)

    def _find(self, table: str, field: str, value: Any) -> tuple[int, Record] | None:
        for doc_id, doc in self._table(table).items():
            if doc.get(field) == value:
                return doc_id, doc
        return None

    def _put(self, table: str, doc_id: int, doc: Record) -> Record:
        self._store.write([(table, doc_id, doc)])
        return self._table(table)[doc_id]

    def _write(self, ops: list[Op]) -> None:
        self._store.write(ops)

    # ---- pools
    def sync_pools(self, pools: Iterable[PoolConfig]) -> None:
        """Mirror the configured pools (config.toml is their source of truth)."""
        with self._lock:
            wanted = {p.name: p for p in pools}
            ops: list[Op] = [("pools", i, None) for i, d in self._table("pools").items() if d["name"] not in wanted]
            next_id = self._store.next_id("pools")
            for pool in wanted.values():
                record = {
                    "name": pool.name,
                    "generation": pool.generation,
                    "retention_days": pool.retention_days,
                    "allocation": pool.allocation,
                    "vault": pool.vault,
                }
                found = self._find("pools", "name", pool.name)
                if found is None:
                    ops.append(("pools", next_id, record))
                    next_id += 1
                elif found[1] != record:
                    ops.append(("pools", found[0], record))
            self._write(ops)

    def pools(self) -> list[dict[str, Any]]:
        with self._lock:
            return sorted((copied(p) for p in self._table("pools").values()), key=lambda p: p["name"])

    def pool(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._find("pools", "name", name)
            return copied(found[1]) if found else None

    # ---- tapes
    def register_cartridge(
        self, barcode: str, generation: str, capacity: int, location: str, *, write_protected: bool = False
    ) -> dict[str, Any]:
        """Make a cartridge known (blank) if it is not yet; returns its record."""
        with self._lock:
            found = self._find("tapes", "barcode", barcode)
            if found is not None:
                doc_id, doc = found
                if doc.get("write_protected") != write_protected:
                    doc = self._put("tapes", doc_id, {**doc, "write_protected": write_protected})
                return self._with_expiry(doc)
            record = {
                "barcode": barcode,
                "label": None,
                "label_uuid": None,
                "generation": generation,
                "pool": None,
                "status": "blank",
                "location": location,
                "bytes_used": 0,
                "capacity": capacity,
                "labelled": None,
                "last_written": None,
                "write_protected": write_protected,
            }
            return self._with_expiry(self._put("tapes", self._store.next_id("tapes"), record))

    def tapes(self) -> list[dict[str, Any]]:
        with self._lock:
            pools = {p["name"]: p for p in self._table("pools").values()}  # read once, not once per tape
            tapes = self._table("tapes").values()
            return sorted((self._with_expiry(t, pools) for t in tapes), key=lambda t: t["barcode"])

    def tape(self, barcode: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._find("tapes", "barcode", barcode)
            return self._with_expiry(found[1]) if found else None

    def tape_by_label(self, label: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._find("tapes", "label", label)
            return self._with_expiry(found[1]) if found else None

    def tape_by_uuid(self, label_uuid: str) -> dict[str, Any] | None:
        with self._lock:
            found = self._find("tapes", "label_uuid", label_uuid)
            return self._with_expiry(found[1]) if found else None

    def update_tape(self, barcode: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            if "status" in fields and fields["status"] not in TAPE_STATUSES:
                raise InventoryError(f"tape {barcode}: unknown status {fields['status']!r}")
            found = self._find("tapes", "barcode", barcode)
            if found is None:
                raise InventoryError(f"tape {barcode} is not in the inventory")
            return self._with_expiry(self._put("tapes", found[0], {**found[1], **copied(fields)}))

    def move_tape(self, barcode: str, location: str) -> None:
        """Record where a cartridge is; any other tape recorded at a drive location is moved off it."""
        with self._lock:
            found = self._find("tapes", "barcode", barcode)
            if found is None:
                raise InventoryError(f"tape {barcode} is not in the inventory")
            ops: list[Op] = [("tapes", found[0], {**found[1], "location": location})]
            if location.startswith("drive:"):
                ops += [("tapes", i, {**d, "location": "shelf"}) for i, d in self._table("tapes").items()
                        if d.get("location") == location and d["barcode"] != barcode]
            self._write(ops)  # both moves or neither

    def expires(self, tape: dict[str, Any], pools: dict[str, dict[str, Any]] | None = None) -> date | None:
        """When the tape's retention ends: its last write plus the pool's retention days.

        None when nothing is kept on it (blank, or labelled with no set) or the pool keeps forever
        (see is_protected). The rule lives in engine/retention.py, which can ask about any day."""
        if pools is None:
            pool = self.pool(tape["pool"]) if tape.get("pool") else None
            pools = {pool["name"]: pool} if pool else {}
        return expiry(tape, pools)

    def is_protected(self, tape: dict[str, Any]) -> tuple[bool, str]:
        """(True, why) when overwriting this tape would destroy data still under retention."""
        pool = self.pool(tape["pool"]) if tape.get("pool") else None
        pools = {pool["name"]: pool} if pool else {}
        if not is_kept(tape, pools, self.clock().date()):
            return False, ""
        if pool is None:
            return True, f"pool {tape.get('pool')!r} of tape {tape.get('label')} is not configured any more"
        if pool["retention_days"] is None:
            return True, f"tape {tape['label']} is in pool {pool['name']}, which keeps forever"
        return True, f"tape {tape['label']} (pool {pool['name']}) is kept until {expiry(tape, pools)}"

    def _with_expiry(self, doc: dict[str, Any], pools: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
        record = copied(doc)
        expires = self.expires(record, pools)
        record["expires"] = expires.isoformat() if expires else None
        return record

    # ---- drives
    def drive_record(self, name: str) -> dict[str, Any]:
        with self._lock:
            found = self._find("drives", "name", name)
            return copied(found[1]) if found else {"name": name, "loaded": None}

    def set_drive(self, name: str, **fields: Any) -> None:
        with self._lock:
            found = self._find("drives", "name", name)
            if found is None:
                self._put("drives", self._store.next_id("drives"), {"name": name, **copied(fields)})
            elif any(found[1].get(k) != v for k, v in fields.items()):
                self._put("drives", found[0], {**found[1], "name": name, **copied(fields)})

    # ---- backup sets (one tape file each)
    def add_set(self, record: dict[str, Any]) -> int:
        """Store a set record; its id is the returned number."""
        with self._lock:
            set_id = self._store.next_id("sets")
            self._put("sets", set_id, {**copied(record), "id": set_id})
            return set_id

    def update_set(self, set_id: int, **fields: Any) -> dict[str, Any]:
        with self._lock:
            doc = self._table("sets").get(set_id)
            if doc is None:
                raise InventoryError(f"set {set_id} is not in the inventory")
            return copied(self._put("sets", set_id, {**doc, **copied(fields)}))

    def get_set(self, set_id: int) -> dict[str, Any] | None:
        with self._lock:
            doc = self._table("sets").get(set_id)
            return copied(doc) if doc else None

    def sets(self, *, barcode: str | None = None, tape: str | None = None) -> list[dict[str, Any]]:
        """The sets, oldest first; of one tape by `barcode`, or by `tape` (its barcode or its label)."""
        with self._lock:
            docs = self._table("sets").values()
            if tape:
                docs = [d for d in docs if tape in (d.get("barcode"), d.get("tape"))]
            elif barcode:
                docs = [d for d in docs if d.get("barcode") == barcode]
            return sorted((copied(d) for d in docs), key=lambda d: d["id"])

    def mark_sets_overwritten(self, barcode: str) -> int:
        """The tape was relabelled: nothing of its old sets exists any more."""
        with self._lock:
            ops: list[Op] = [("sets", i, {**d, "state": "overwritten"}) for i, d in self._table("sets").items()
                             if d.get("barcode") == barcode]
            self._write(ops)
        if ops and self.on_sets_overwritten is not None:
            self.on_sets_overwritten(barcode)
        return len(ops)

    # ---- job runs
    def add_run(self, record: dict[str, Any]) -> int:
        with self._lock:
            run_id = self._store.next_id("runs")
            self._put("runs", run_id, {**copied(record), "id": run_id})
            return run_id

    def update_run(self, run_id: int, **fields: Any) -> None:
        with self._lock:
            doc = self._table("runs").get(run_id)
            if doc is not None:
                self._put("runs", run_id, {**doc, **copied(fields)})

    def runs(self, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return self._latest("runs", limit)

    # ---- restore, verify and scan runs (their last snapshot, so history survives a restart)
    def save_tape_run(self, snapshot: dict[str, Any]) -> None:
        with self._lock:
            found = self._find("restore_runs", "id", snapshot["id"])
            doc_id = found[0] if found else self._store.next_id("restore_runs")
            self._put("restore_runs", doc_id, copied(snapshot))

    def tape_runs(self, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return self._latest("restore_runs", limit)

    def tape_run(self, run_id: int) -> dict[str, Any] | None:
        with self._lock:
            found = self._find("restore_runs", "id", run_id)
            return copied(found[1]) if found else None

    def forget_tape_runs(self, keep: int) -> None:
        """Keep only the last `keep` runs' records."""
        with self._lock:
            ids = sorted(self._table("restore_runs"))
            if len(ids) > keep:
                self._write([("restore_runs", i, None) for i in ids[:-keep]])

    # ---- the daemon's own small state (the scheduler's last check, the last morning summary...)
    def get_state(self, key: str, default: Any = None) -> Any:
        with self._lock:
            found = self._find("state", "key", key)
            return copied(found[1]["value"]) if found else default

    def set_state(self, key: str, value: Any) -> None:
        with self._lock:
            found = self._find("state", "key", key)
            self._put("state", found[0] if found else self._store.next_id("state"), {"key": key, "value": value})

    # ---- audit (the hash-chained log beside the inventory; see audit_log.py)
    def audit(self, action: str, user: str, **details: Any) -> dict[str, Any]:
        """Record who did what; returns the entry as audit_entries lists it (seq, time, user, action, details)."""
        return flat(self.audit_log.append(action, user, details))

    def audit_entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        return self.audit_log.entries(limit)

    def verify_audit(self) -> VerifyResult:
        return self.audit_log.verify()

    def _migrate_audit_table(self) -> None:
        """Entries of the old TinyDB "audit" table move into the log once, in order; the table is emptied."""
        docs = sorted((doc_id, copied(doc)) for doc_id, doc in self._table("audit").items())
        if docs:
            self.audit_log.migrate(docs)
            self._write([("audit", doc_id, None) for doc_id, _doc in docs])
            self._store.compact()  # the old table leaves the file itself at once

    def _latest(self, table: str, limit: int | None) -> list[dict[str, Any]]:
        """The last `limit` records by id (all without one), oldest first, as copies."""
        docs = self._table(table).values()
        by_id = itemgetter("id")
        latest = sorted(heapq.nlargest(limit, docs, key=by_id) if limit else docs, key=by_id)
        return [copied(d) for d in latest]
