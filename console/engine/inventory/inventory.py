"""What the site owns and where it is: tapes, pools, drives and the audit trail.

One Inventory object lives in the daemon; a lock makes it safe to use from the drive worker
threads and the API at once. Every change is written through AtomicJSONStorage.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from tinydb import Query, TinyDB

from console.config.schema import PoolConfig
from console.engine.inventory.audit_log import AuditLog, VerifyResult, flat
from console.engine.inventory.storage import AtomicJSONStorage
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
    def __init__(self, path: Path, *, clock: Callable[[], datetime] = utc_now) -> None:
        self.path = Path(path)
        self.clock = clock
        self._lock = threading.RLock()
        self._db = TinyDB(self.path, storage=AtomicJSONStorage)
        self._tapes = self._db.table("tapes", cache_size=0)
        self._pools = self._db.table("pools", cache_size=0)
        self._drives = self._db.table("drives", cache_size=0)
        self._sets = self._db.table("sets", cache_size=0)
        self._runs = self._db.table("runs", cache_size=0)
        self._tape_runs = self._db.table("restore_runs", cache_size=0)  # restores, verifies, scans
        self._state = self._db.table("state", cache_size=0)
        with self._lock:
            self.audit_log = AuditLog(audit_log_path(self.path), clock=clock, state=self, lock=self._lock)
            self._migrate_audit_table()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ---- pools
    def sync_pools(self, pools: Iterable[PoolConfig]) -> None:
        """Mirror the configured pools (config.toml is their source of truth)."""
        with self._lock:
            wanted = {p.name: p for p in pools}
            for doc in self._pools.all():
                if doc["name"] not in wanted:
                    self._pools.remove(doc_ids=[doc.doc_id])
            for pool in wanted.values():
                record = {
                    "name": pool.name,
                    "generation": pool.generation,
                    "retention_days": pool.retention_days,
                    "allocation": pool.allocation,
                    "vault": pool.vault,
                }
                self._pools.upsert(record, Query().name == pool.name)

    def pools(self) -> list[dict[str, Any]]:
        with self._lock:
            return sorted((dict(p) for p in self._pools.all()), key=lambda p: p["name"])

    def pool(self, name: str) -> dict[str, Any] | None:
        with self._lock:
            doc = self._pools.get(Query().name == name)
            return dict(doc) if doc else None

    # ---- tapes
    def register_cartridge(
        self, barcode: str, generation: str, capacity: int, location: str, *, write_protected: bool = False
    ) -> dict[str, Any]:
        """Make a cartridge known (blank) if it is not yet; returns its record."""
        with self._lock:
            doc = self._tapes.get(Query().barcode == barcode)
            if doc is not None:
                if doc.get("write_protected") != write_protected:
                    self._tapes.update({"write_protected": write_protected}, doc_ids=[doc.doc_id])
                return self._with_expiry(self._tapes.get(doc_id=doc.doc_id))  # type: ignore[arg-type]
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
            self._tapes.insert(record)
            return self._with_expiry(record)

    def tapes(self) -> list[dict[str, Any]]:
        with self._lock:
            pools = {p["name"]: dict(p) for p in self._pools.all()}  # read once, not once per tape
            return sorted((self._with_expiry(t, pools) for t in self._tapes.all()), key=lambda t: t["barcode"])

    def tape(self, barcode: str) -> dict[str, Any] | None:
        with self._lock:
            doc = self._tapes.get(Query().barcode == barcode)
            return self._with_expiry(doc) if doc else None

    def tape_by_label(self, label: str) -> dict[str, Any] | None:
        with self._lock:
            doc = self._tapes.get(Query().label == label)
            return self._with_expiry(doc) if doc else None

    def tape_by_uuid(self, label_uuid: str) -> dict[str, Any] | None:
        with self._lock:
            doc = self._tapes.get(Query().label_uuid == label_uuid)
            return self._with_expiry(doc) if doc else None

    def update_tape(self, barcode: str, **fields: Any) -> dict[str, Any]:
        with self._lock:
            if "status" in fields and fields["status"] not in TAPE_STATUSES:
                raise InventoryError(f"tape {barcode}: unknown status {fields['status']!r}")
            ids = self._tapes.update(fields, Query().barcode == barcode)
            if not ids:
                raise InventoryError(f"tape {barcode} is not in the inventory")
            return self._with_expiry(self._tapes.get(doc_id=ids[0]))  # type: ignore[arg-type]

    def move_tape(self, barcode: str, location: str) -> None:
        """Record where a cartridge is; any other tape recorded at a drive location is moved off it."""
        with self._lock:
            if location.startswith("drive:"):
                for doc in self._tapes.search(Query().location == location):
                    if doc["barcode"] != barcode:
                        self._tapes.update({"location": "shelf"}, doc_ids=[doc.doc_id])
            self.update_tape(barcode, location=location)

    def expires(self, tape: dict[str, Any], pools: dict[str, dict[str, Any]] | None = None) -> date | None:
        """When the tape's retention ends: its last write plus the pool's retention days.

        None when nothing is kept on it (blank, or labelled with no set) or the pool keeps forever
        (see is_protected). The rule lives in rotation/states.py, which can ask about any day."""
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
        record = dict(doc)
        expires = self.expires(record, pools)
        record["expires"] = expires.isoformat() if expires else None
        return record

    # ---- drives
    def drive_record(self, name: str) -> dict[str, Any]:
        with self._lock:
            doc = self._drives.get(Query().name == name)
            return dict(doc) if doc else {"name": name, "loaded": None}

    def set_drive(self, name: str, **fields: Any) -> None:
        with self._lock:
            self._drives.upsert({"name": name, **fields}, Query().name == name)

    # ---- backup sets (one tape file each)
    def add_set(self, record: dict[str, Any]) -> int:
        """Store a set record; its id is the returned number."""
        with self._lock:
            set_id = self._sets.insert(record)
            self._sets.update({"id": set_id}, doc_ids=[set_id])
            return set_id

    def update_set(self, set_id: int, **fields: Any) -> dict[str, Any]:
        with self._lock:
            if not self._sets.contains(doc_id=set_id):
                raise InventoryError(f"set {set_id} is not in the inventory")
            self._sets.update(fields, doc_ids=[set_id])
            return dict(self._sets.get(doc_id=set_id))  # type: ignore[arg-type]

    def get_set(self, set_id: int) -> dict[str, Any] | None:
        with self._lock:
            doc = self._sets.get(doc_id=set_id)
            return dict(doc) if doc else None

    def sets(self, *, barcode: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            docs = self._sets.search(Query().barcode == barcode) if barcode else self._sets.all()
            return sorted((dict(d) for d in docs), key=lambda d: d["id"])

    def mark_sets_overwritten(self, barcode: str) -> int:
        """The tape was relabelled: nothing of its old sets exists any more."""
        with self._lock:
            return len(self._sets.update({"state": "overwritten"}, Query().barcode == barcode))

    # ---- job runs
    def add_run(self, record: dict[str, Any]) -> int:
        with self._lock:
            run_id = self._runs.insert(record)
            self._runs.update({"id": run_id}, doc_ids=[run_id])
            return run_id

    def update_run(self, run_id: int, **fields: Any) -> None:
        with self._lock:
            self._runs.update(fields, doc_ids=[run_id])

    def runs(self, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            docs = sorted((dict(d) for d in self._runs.all()), key=lambda d: d["id"])
        return docs[-limit:] if limit else docs

    # ---- restore, verify and scan runs (their last snapshot, so history survives a restart)
    def save_tape_run(self, snapshot: dict[str, Any]) -> None:
        with self._lock:
            self._tape_runs.upsert(snapshot, Query().id == snapshot["id"])

    def tape_runs(self, limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            docs = sorted((dict(d) for d in self._tape_runs.all()), key=lambda d: d["id"])
        return docs[-limit:] if limit else docs

    def tape_run(self, run_id: int) -> dict[str, Any] | None:
        with self._lock:
            doc = self._tape_runs.get(Query().id == run_id)
            return dict(doc) if doc else None

    def forget_tape_runs(self, keep: int) -> None:
        """Keep only the last `keep` runs' records."""
        with self._lock:
            ids = sorted(d.doc_id for d in self._tape_runs.all())
            if len(ids) > keep:
                self._tape_runs.remove(doc_ids=ids[:-keep])

    # ---- the daemon's own small state (the scheduler's last check, the last morning summary...)
    def get_state(self, key: str, default: Any = None) -> Any:
        with self._lock:
            doc = self._state.get(Query().key == key)
            return doc["value"] if doc else default

    def set_state(self, key: str, value: Any) -> None:
        with self._lock:
            self._state.upsert({"key": key, "value": value}, Query().key == key)

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
        table = self._db.table("audit", cache_size=0)
        docs = [(doc.doc_id, dict(doc)) for doc in table.all()]
        if docs:
            self.audit_log.migrate(docs)
            table.truncate()
