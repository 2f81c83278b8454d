"""The inventory's store: TinyDB's JSON file plus a journal of changes, parsed once and kept in memory.

`inventory.json` is a TinyDB document ({table: {doc_id: record}}, written by AtomicJSONStorage: temp file,
fsync, rename) holding everything as of its last compaction, and a `format` table saying the format version
and the last journal change it includes. `inventory.journal` beside it holds the changes since: one JSON line
per change (the puts and removals applied together), written with one write() and fsynced before the change
returns, so a change costs one small append however many years of history the inventory holds.

Opening reads the file and replays the journal lines after its `journal_seq`. A crash can only cut the last
line short; that change was never acknowledged, so the line is dropped (and cut off the file). When the journal
passes `compact_bytes` a background thread writes a new inventory.json from a copy of the tables taken under
the lock and starts a new journal with the lines written meanwhile; a crash between the two leaves a journal
whose first lines the new file already holds, and they are skipped by their sequence numbers. close() compacts,
so a stopped daemon leaves one plain TinyDB file (and an empty journal).

Version 1 (before the journal) is the same document without the `format` table: it is read as it is and
rewritten once in version 2. The records in memory are never changed in place (a change replaces them), and
the Inventory hands its callers copies.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from console.engine.durable import fsync_folder
from console.engine.inventory.storage import AtomicJSONStorage, CorruptInventory

FORMAT_VERSION = 2
FORMAT_TABLE = "format"
COMPACT_BYTES = 2 * 1024 * 1024
log = logging.getLogger(__name__)

Record = dict[str, Any]
Op = tuple[str, int, Record | None]  # table, doc id, the new record or None to remove it


def journal_path(inventory_path: Path) -> Path:
    """var/inventory.json journals its changes in var/inventory.journal."""
    return inventory_path.with_name(inventory_path.stem + ".journal")


def copied(value: Any) -> Any:
    """A deep copy of JSON data (dicts, lists and scalars), much faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {k: copied(v) if isinstance(v, dict | list) else v for k, v in value.items()}
    if isinstance(value, list):
        return [copied(v) if isinstance(v, dict | list) else v for v in value]
    return value


def _format_of(data: Mapping[str, Any]) -> tuple[int, int]:
    """(format version, journal_seq) of an inventory file's document."""
    doc = (data.get(FORMAT_TABLE) or {}).get("1")
    if not isinstance(doc, dict):
        return 1, 0
    return int(doc.get("version", 1)), int(doc.get("journal_seq", 0))


def _tables_of(data: Mapping[str, Any], path: Path) -> dict[str, dict[int, Record]]:
    tables: dict[str, dict[int, Record]] = {}
    for name, docs in data.items():
        if name == FORMAT_TABLE:
            continue
        if not isinstance(docs, dict):
            raise CorruptInventory(f"{path}: table {name!r} is not a JSON object")
        try:
            tables[name] = {int(k): v for k, v in docs.items()}
        except ValueError:
            raise CorruptInventory(f"{path}: table {name!r} has a record id that is not a number") from None
    return tables


def _journal_lines(path: Path) -> tuple[list[tuple[int, list[Any]]], int, int]:
    """The complete changes of a journal ((seq, ops) in order), the byte length they cover and the file size."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return [], 0, 0
    changes: list[tuple[int, list[Any]]] = []
    *complete, _torn = raw.split(b"\n")  # what follows the last newline: nothing, or an append cut short
    good = 0
    for number, line in enumerate(complete, start=1):
        good += len(line) + 1
        if not line.strip():
            continue
        try:
            change = json.loads(line)
            changes.append((int(change["n"]), list(change["ops"])))
        except (ValueError, KeyError, TypeError):
            raise CorruptInventory(f"{path}: line {number} is not a journal entry") from None
    return changes, good, len(raw)


def _apply(tables: dict[str, dict[int, Record]], ops: Iterable[Any]) -> None:
    for table, doc_id, doc in ops:
        docs = tables.setdefault(table, {})
        if doc is None:
            docs.pop(int(doc_id), None)
        else:
            docs[int(doc_id)] = doc


def read_tables(path: Path) -> dict[str, dict[int, Record]]:
    """An inventory's tables as the daemon would load them, read without writing anything (for checking a
    copy without a daemon)."""
    path = Path(path)
    data = AtomicJSONStorage(path).read() or {}
    tables = _tables_of(data, path)
    _version, done = _format_of(data)
    changes, _good, _size = _journal_lines(journal_path(path))
    for seq, ops in changes:
        if seq > done:
            _apply(tables, ops)
    return tables


class InventoryStore:
    """The one owner of an inventory's files. Changes take `lock` (the Inventory's); reads never touch a file
    and must hold it too."""

    def __init__(self, path: Path, *, lock: threading.RLock, compact_bytes: int = COMPACT_BYTES) -> None:
        self.path = Path(path)
        self.journal = journal_path(self.path)
        self.compact_bytes = compact_bytes
        self._lock = lock
        self._storage = AtomicJSONStorage(self.path)
        self._compacting = threading.Lock()  # one compaction at a time
        self._compactor: threading.Thread | None = None
        self.compactions = 0
        data = self._storage.read() or {}
        self.tables = _tables_of(data, self.path)
        version, self._file_seq = _format_of(data)
        if version > FORMAT_VERSION:
            raise CorruptInventory(f"{self.path}: format version {version} is newer than this tapeconsole "
                                   f"knows ({FORMAT_VERSION})")
        changes, good, size = _journal_lines(self.journal)
        if not data and changes:  # the file was removed: its journal alone is not an inventory
            aside = self.journal.with_name(f"{self.journal.name}.without-inventory.{int(time.time())}")
            os.replace(self.journal, aside)
            log.warning("%s is missing: its journal was moved to %s and the inventory starts empty", self.path, aside)
            changes, good, size = [], 0, 0
        self.seq = self._file_seq
        for seq, ops in changes:
            if seq > self._file_seq:
                _apply(self.tables, ops)
                self.seq = seq
        self._next_ids = {name: max(docs, default=0) + 1 for name, docs in self.tables.items()}
        existed = self.journal.exists()
        self._fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        if size > good:  # a torn last line: never acknowledged, cut off so the next change starts a line
            os.ftruncate(self._fd, good)
            os.fsync(self._fd)
        if not existed:
            fsync_folder(self.journal.parent)
        self._journal_size = good
        self.migrated_from = version if version < FORMAT_VERSION and data else None
        if not data or version < FORMAT_VERSION:
            if data:
                log.info("%s: format version %d migrated to %d", self.path, version, FORMAT_VERSION)
            self.compact()  # a new inventory, or one of an older format: written once in this format

    # ---- reading (the records themselves: callers must not change them)
    def table(self, name: str) -> dict[int, Record]:
        return self.tables.setdefault(name, {})

    def next_id(self, name: str) -> int:
        return self._next_ids.get(name, max(self.table(name), default=0) + 1)

    # ---- writing
    def write(self, ops: list[Op]) -> None:
        """Apply puts and removals together: durable in the journal before they are applied in memory."""
        if not ops:
            return
        with self._lock:
            if self._fd < 0:  # a change after close() (a worker thread finishing): still journalled
                self._fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            seq = self.seq + 1
            line = json.dumps({"n": seq, "ops": ops}, separators=(",", ":"), default=str).encode("utf-8") + b"\n"
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(self._fd, view):]
                os.fdatasync(self._fd)
            except OSError:
                with contextlib.suppress(OSError):  # leave the journal as it was; nothing was applied
                    os.ftruncate(self._fd, self._journal_size)
                raise
            self._journal_size += len(line)
            self.seq = seq
            _apply(self.tables, json.loads(line)["ops"])  # exactly what a reload would parse back
            for table, doc_id, _doc in ops:
                self._next_ids[table] = max(self._next_ids.get(table, 1), int(doc_id) + 1)
            if self._journal_size >= self.compact_bytes and self._compactor is None:
                self._compactor = threading.Thread(target=self._compact_in_background, name="inventory-compact",
                                                   daemon=True)
                self._compactor.start()

    def _compact_in_background(self) -> None:
        try:
            self.compact()
        finally:
            with self._lock:
                self._compactor = None

    def compact(self) -> None:
        """Write the whole inventory anew and start a new journal with what changed meanwhile. Queries and
        changes go on while the file is written; only the copy of the tables and the journal swap hold the lock."""
        with self._compacting:
            with self._lock:
                seq, covered = self.seq, self._journal_size
                tables = {name: dict(docs) for name, docs in self.tables.items()}  # records are never changed
            data: dict[str, Any] = {name: {str(k): v for k, v in docs.items()} for name, docs in tables.items()}
            data[FORMAT_TABLE] = {"1": {"version": FORMAT_VERSION, "journal_seq": seq}}
            self._storage.write(data)
            with self._lock:
                self._file_seq = seq
                with open(self.journal, "rb") as handle:
                    handle.seek(covered)
                    tail = handle.read(self._journal_size - covered)
                fresh = self.journal.with_name(f".{self.journal.name}.{os.getpid()}.tmp")
                fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o640)
                try:
                    view = memoryview(tail)
                    while view:
                        view = view[os.write(fd, view):]
                    os.fsync(fd)
                    os.replace(fresh, self.journal)
                    fsync_folder(self.journal.parent)
                except BaseException:
                    os.close(fd)
                    raise
                os.close(self._fd)
                self._fd = fd
                self._journal_size = len(tail)
                self.compactions += 1

    def close(self) -> None:
        thread = self._compactor
        if thread is not None:
            thread.join()
        if self._fd < 0:
            return
        self.compact()
        with self._lock:
            os.close(self._fd)
            self._fd = -1
