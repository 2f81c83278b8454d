"""The audit trail: an append-only JSON-Lines file whose entries are chained by sha256.

Each line is one entry, written as canonical JSON (sorted keys, no spaces):

    {"action": "label", "details": {...}, "hash": "...", "prev": "...", "seq": 17,
     "time": "2026-11-20T03:00:01+00:00", "user": "alice"}

`prev` is the hash of the entry before (64 zeros for the first) and `hash` the sha256 of the canonical JSON
of the entry without `hash`. Changing a field breaks that entry's hash; removing or replacing a line
breaks the numbering or the link of the entry after it. Removing the LAST lines leaves no entry after them,
so after every append the tip (seq, hash) is also recorded in the inventory (its state "audit_tip", one small
append to the inventory's journal, never a rewrite of the inventory):
a log that ends before the recorded tip lost entries from its end.

Appends are O(1): the tip is kept in memory, and opening reads the file backwards only as far as its last
complete entry. Every append is one write on an O_APPEND descriptor followed by fsync.

What is honest about a crash or a power loss in the middle of an append: the line being written may be
cut short (a torn line: no end of line, not valid JSON). Its entry is lost, and nothing can tell a torn
append from someone cutting the file by hand, except that a torn append was never acknowledged, so the
inventory's recorded tip is still the entry before it (cutting a completed entry is caught by the tip).
The daemon does not stop for it and never rewrites the file: when it opens the log and finds such lines
after the last entry, it ends the torn line with a newline and appends an `audit-torn-append` entry giving
its byte offset, length and sha256. `verify` then reports that line as a note (an entry was lost to a crash)
rather than a problem; a bad line that no such entry vouches for, or one changed after it was recorded,
is a problem. Likewise, when the daemon opens a log that ends before the recorded tip it appends an
`audit-entries-removed` entry, and verify reports it as a problem for ever after: the trail stays marked.

Limits: the chain has no secret key. Someone who can write both this file and the inventory can rewrite
the whole chain and the tip consistently; copy the log (or its tip hash) elsewhere to detect that.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Protocol

from console.engine.durable import fsync_folder
from console.engine.inventory.storage import CorruptInventory
from console.engine.inventory.store import read_tables

GENESIS = "0" * 64
TIP_KEY = "audit_tip"
SYSTEM_USER = "tapeconsole"
TORN_ACTION = "audit-torn-append"
REMOVED_ACTION = "audit-entries-removed"
MAX_TORN_ACKNOWLEDGED = 8  # trailing bad lines the daemon vouches for as torn appends; more is not a crash
BLOCK = 64 * 1024
ENTRY_FIELDS: dict[str, type] = {
    "seq": int, "time": str, "user": str, "action": str, "details": dict, "prev": str, "hash": str,
}


class StateStore(Protocol):
    """Where the recorded tip lives (the Inventory)."""

    def get_state(self, key: str, default: Any = None) -> Any: ...

    def set_state(self, key: str, value: Any) -> None: ...


class EntryError(ValueError):
    """A line that is not an audit entry; str() says why."""


@dataclass(frozen=True)
class Tip:
    seq: int
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "hash": self.hash}

    @classmethod
    def from_json(cls, value: Any) -> Tip | None:
        if isinstance(value, dict) and isinstance(value.get("seq"), int) and isinstance(value.get("hash"), str):
            return cls(value["seq"], value["hash"])
        return None


@dataclass
class VerifyResult:
    """What `verify` found: `problem` names the first problem in one line, None when the log is intact."""

    path: str
    entries: int = 0
    lines: int = 0
    tip: Tip = Tip(0, GENESIS)
    recorded_tip: Tip | None = None
    problem: str | None = None
    problems: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problem is None

    def summary(self) -> str:
        if self.problem is not None:
            more = f" (and {self.problems - 1} more problem(s))" if self.problems > 1 else ""
            return f"audit log damaged: {self.problem}{more}"
        entries = "1 entry" if self.entries == 1 else f"{self.entries} entries"
        return f"audit log intact: {entries}, tip {self.tip.hash[:12]}"

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "path": self.path, "entries": self.entries, "lines": self.lines,
            "tip": self.tip.to_json(), "recorded_tip": self.recorded_tip.to_json() if self.recorded_tip else None,
            "problem": self.problem, "problems": self.problems, "notes": self.notes, "summary": self.summary(),
        }


def canonical(entry: dict[str, Any]) -> bytes:
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def parse_entry(content: bytes) -> dict[str, Any]:
    """One line (without its newline) as an entry; EntryError when it is not one."""
    try:
        entry = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EntryError(f"not valid JSON ({exc})") from None
    if not isinstance(entry, dict):
        raise EntryError("not a JSON object")
    for name, kind in ENTRY_FIELDS.items():
        value = entry.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise EntryError(f"not an audit entry: field {name!r} is missing or not {kind.__name__}")
    return entry


def flat(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as the API and callers have always seen it: seq, time, user, action and the details."""
    fixed = {"seq": entry["seq"], "time": entry["time"], "user": entry["user"], "action": entry["action"]}
    return {**fixed, **{k: v for k, v in entry["details"].items() if k not in fixed}}


def describe(entry: dict[str, Any]) -> str:
    return f"entry {entry['seq']} ({entry['time']}, {entry['action']} by {entry['user']})"


def reverse_lines(handle: IO[bytes], end: int) -> Iterator[tuple[int, bytes]]:
    """(offset, line with its newline if it has one) from the line ending at `end` back to the first."""
    pos, buf = end, b""
    while True:
        cut = buf.rfind(b"\n", 0, max(len(buf) - 1, 0))
        if cut != -1:
            yield pos + cut + 1, buf[cut + 1:]
            buf = buf[: cut + 1]
            continue
        if pos == 0:
            if buf:
                yield 0, buf
            return
        step = min(BLOCK, pos)
        pos -= step
        handle.seek(pos)
        buf = handle.read(step) + buf


def forward_lines(handle: IO[bytes], end: int | None = None) -> Iterator[tuple[int, bytes]]:
    """(offset, line with its newline if it has one) from the start, up to byte `end`."""
    offset = 0
    for raw in handle:
        if end is not None:
            if offset >= end:
                return
            raw = raw[: end - offset]
        yield offset, raw
        offset += len(raw)


def _content(raw: bytes) -> bytes:
    return raw[:-1] if raw.endswith(b"\n") else raw


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class AuditLog:
    """The daemon's audit log: append, read back, verify. Safe to use from many threads."""

    def __init__(self, path: Path, *, clock: Callable[[], datetime], state: StateStore | None = None,
                 lock: threading.RLock | None = None) -> None:
        self.path = Path(path)
        self.clock = clock
        self._state = state
        self._lock = lock or threading.RLock()
        self._tip = Tip(0, GENESIS)
        self._tail_suspect = False
        with self._lock:
            self._create()
            self._open_tail()

    @property
    def tip(self) -> Tip:
        with self._lock:
            return self._tip

    def recorded_tip(self) -> Tip | None:
        return Tip.from_json(self._state.get_state(TIP_KEY)) if self._state is not None else None

    # ---- writing
    def append(self, action: str, user: str, details: dict[str, Any]) -> dict[str, Any]:
        """Add one entry and return it (seq, time, user, action, details, prev, hash)."""
        with self._lock:
            if self._tail_suspect:  # the last write failed: it may have left a torn line
                self._open_tail()
            return self._append([(action, user, details, None)])[-1]

    def migrate(self, docs: list[tuple[int, dict[str, Any]]]) -> int:
        """Append the entries of the old TinyDB audit table (doc id, {time, user, action, **details}), in
        order, once: those already in the log (details.migrated_id) are skipped. Returns how many were added."""
        with self._lock:
            done = self._last_migrated_id()
            rows = []
            for doc_id, doc in sorted(docs, key=lambda d: d[0]):
                if doc_id <= done:
                    continue
                details = {k: v for k, v in doc.items() if k not in ("time", "user", "action")}
                details["migrated_id"] = doc_id
                rows.append((str(doc.get("action", "?")), str(doc.get("user", "unknown")), details,
                             str(doc.get("time") or _iso(self.clock()))))
            if rows:
                self._append(rows)
            return len(rows)

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.path.exists():
            return
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
        fsync_folder(self.path.parent)

    def _open_tail(self) -> None:
        """Find the tip from the end of the file; end and record torn lines; record a shortened log."""
        size = self.path.stat().st_size
        last: dict[str, Any] | None = None
        torn: list[tuple[int, bytes]] = []
        ends_mid_line = False
        with open(self.path, "rb") as handle:
            if size:
                handle.seek(size - 1)
                ends_mid_line = handle.read(1) != b"\n"
            for offset, raw in reverse_lines(handle, size):
                try:
                    last = parse_entry(_content(raw))
                    break
                except EntryError:
                    torn.append((offset, _content(raw)))
        self._tip = Tip(last["seq"], last["hash"]) if last else Tip(0, GENESIS)
        self._tail_suspect = False
        recorded = self.recorded_tip()
        shortened = recorded is not None and (
            recorded.seq > self._tip.seq or (recorded.seq == self._tip.seq and recorded.hash != self._tip.hash))
        if ends_mid_line:
            self._write(b"\n")  # the fragment stays as evidence; the next entry starts a line of its own
        incidents: list[tuple[str, str, dict[str, Any], str | None]] = []
        if shortened:
            assert recorded is not None
            incidents.append((REMOVED_ACTION, SYSTEM_USER, {
                "log_ended_at": self._tip.seq, "recorded_seq": recorded.seq, "recorded_hash": recorded.hash,
            }, None))
        for offset, content in reversed(torn if len(torn) <= MAX_TORN_ACKNOWLEDGED else []):
            incidents.append((TORN_ACTION, SYSTEM_USER, {
                "offset": offset, "bytes": len(content), "sha256": hashlib.sha256(content).hexdigest(),
                "note": "an append cut short by a crash or power loss: its entry is lost",
            }, None))
        if incidents:
            self._append(incidents)

    def _append(self, rows: list[tuple[str, str, dict[str, Any], str | None]]) -> list[dict[str, Any]]:
        """Write entries (action, user, details, time or None for now) in one write and one fsync."""
        tip, entries, data = self._tip, [], b""
        for action, user, details, when in rows:
            entry: dict[str, Any] = {
                "seq": tip.seq + 1, "time": when or _iso(self.clock()), "user": user, "action": action,
                "details": details, "prev": tip.hash,
            }
            entry = json.loads(json.dumps(entry, default=str))  # exactly what a reader will parse back
            entry["hash"] = entry_hash(entry)
            entries.append(entry)
            data += canonical(entry) + b"\n"
            tip = Tip(entry["seq"], entry["hash"])
        self._write(data)
        self._tip = tip
        if self._state is not None:
            self._state.set_state(TIP_KEY, tip.to_json())
        return entries

    def _write(self, data: bytes) -> None:
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            self._tail_suspect = True
            raise

    def _last_migrated_id(self) -> int:
        """The old table's last doc id already in the log (reads back only while a migration is pending)."""
        with open(self.path, "rb") as handle:
            for _offset, raw in reverse_lines(handle, self.path.stat().st_size):
                try:
                    entry = parse_entry(_content(raw))
                except EntryError:
                    continue
                migrated = entry["details"].get("migrated_id")
                if isinstance(migrated, int):
                    return migrated
        return 0

    # ---- reading
    def entries(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The last `limit` entries (all without one), oldest first, flat: seq, time, user, action, details."""
        with self._lock:
            size = self.path.stat().st_size
        found: list[dict[str, Any]] = []
        with open(self.path, "rb") as handle:
            if limit:
                for _offset, raw in reverse_lines(handle, size):
                    try:
                        found.append(flat(parse_entry(_content(raw))))
                    except EntryError:
                        continue
                    if len(found) >= limit:
                        break
                found.reverse()
            else:
                for _offset, raw in forward_lines(handle, size):
                    try:
                        found.append(flat(parse_entry(_content(raw))))
                    except EntryError:
                        continue
        return found

    def verify(self) -> VerifyResult:
        """Check the whole chain and the recorded tip. Appends go on meanwhile; the check covers the log as
        it was when it started."""
        with self._lock:
            size = self.path.stat().st_size
            recorded = self.recorded_tip()
        return verify_log(self.path, recorded, end=size)


@dataclass
class _Acknowledged:
    sha256: str
    entry: str


def verify_log(path: Path, recorded: Tip | None, *, end: int | None = None) -> VerifyResult:
    """Read the log from the start and report what is wrong with it; `recorded` is the inventory's tip."""
    path = Path(path)
    result = VerifyResult(path=str(path), recorded_tip=recorded)
    problems: list[tuple[int, str]] = []
    unreadable: dict[int, tuple[int, bytes, str]] = {}  # offset -> (line, content, why)
    acknowledged: dict[int, _Acknowledged] = {}
    expected_seq, prev, last = 1, GENESIS, None
    at_recorded: str | None = None
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        result.problem, result.problems = f"cannot read {path}: {exc.strerror or exc}", 1
        return result
    with handle:
        for offset, raw in forward_lines(handle, end):
            result.lines += 1
            line = result.lines
            try:
                entry = parse_entry(_content(raw))
            except EntryError as exc:
                if raw.endswith(b"\n"):
                    why = f"line {line} is not an audit entry: {exc}"
                else:
                    why = (f"line {line} is torn: the log ends in the middle of it (an append cut short by a crash "
                           f"or power loss?); the daemon records it as such when it next opens the log")
                unreadable[offset] = (line, _content(raw), why)
                continue
            result.entries += 1
            seq = entry["seq"]
            if entry_hash(entry) != entry["hash"]:
                problems.append((line, f"{describe(entry)} was changed"))
            if seq < expected_seq:
                problems.append((line, f"{describe(entry)} at line {line} is out of order: "
                                       f"entry {expected_seq} was expected"))
                continue
            if seq > expected_seq:
                missing = (f"entry {expected_seq} is missing" if seq == expected_seq + 1
                           else f"entries {expected_seq} to {seq - 1} are missing")
                where = f"after entry {expected_seq - 1}" if expected_seq > 1 else "at the start of the log"
                problems.append((line, f"{missing} ({where})"))
            elif entry["prev"] != prev and last is not None:
                problems.append((line, f"{describe(last)} was changed: entry {seq} does not link to it"))
            elif entry["prev"] != prev:
                problems.append((line, f"{describe(entry)} does not start the chain: entries before it were removed"))
            details = entry["details"]
            if entry["action"] == TORN_ACTION and isinstance(details.get("offset"), int):
                acknowledged[details["offset"]] = _Acknowledged(str(details.get("sha256")), describe(entry))
            elif entry["action"] == REMOVED_ACTION:
                problems.append((line, f"entries were removed from the end before {entry['time']}: the log ended at "
                                       f"entry {details.get('log_ended_at')} but the inventory had recorded entry "
                                       f"{details.get('recorded_seq')} (noted by the daemon in entry {seq})"))
            if recorded is not None and seq == recorded.seq:
                at_recorded = entry["hash"]
            expected_seq, prev, last = seq + 1, entry["hash"], entry
    for offset, (line, content, why) in unreadable.items():
        ack = acknowledged.get(offset)
        if ack is not None and ack.sha256 == hashlib.sha256(content).hexdigest():
            result.notes.append(f"line {line} is a torn append (a crash or power loss cut it short; its entry is "
                                f"lost), recorded in {ack.entry}")
        elif ack is not None:
            problems.append((line, f"line {line} was changed after {ack.entry} recorded it as a torn append"))
        else:
            problems.append((line, why))
    if last is not None:
        result.tip = Tip(last["seq"], last["hash"])
    if recorded is None:
        result.notes.append("no tip recorded in the inventory: removal of the last entries cannot be checked")
    elif result.tip.seq < recorded.seq:
        problems.append((result.lines + 1, f"the log ends at entry {result.tip.seq} but the inventory recorded "
                                           f"entry {recorded.seq}: entries were removed from the end"))
    elif at_recorded is not None and at_recorded != recorded.hash:
        problems.append((result.lines + 1, f"entry {recorded.seq} is not the one the inventory recorded as the tip "
                                           f"({recorded.hash[:12]}): the log was rewritten"))
    if problems:
        problems.sort(key=lambda p: p[0])
        result.problem, result.problems = problems[0][1], len(problems)
    return result


def inventory_beside(log_path: Path) -> Path:
    """The inventory file whose audit log this is: X.audit.log belongs to X.json."""
    name = log_path.name
    stem = name[: -len(".audit.log")] if name.endswith(".audit.log") else log_path.stem
    return log_path.with_name(stem + ".json")


def recorded_tip_in_file(inventory_path: Path) -> Tip | None:
    """The tip recorded in an inventory (its file and journal, read without writing, for checking a copy
    without a daemon)."""
    try:
        state = read_tables(Path(inventory_path)).get("state", {})
    except (OSError, ValueError, CorruptInventory):
        return None
    for doc in state.values():
        if isinstance(doc, dict) and doc.get("key") == TIP_KEY:
            return Tip.from_json(doc.get("value"))
    return None
