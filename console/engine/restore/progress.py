"""One restore, verify or scan as the console follows it: a live snapshot like a backup run's.

bytes, rate and ETA, the tape and member being read, the drive's positioning, what the run waits for,
and at the end every result and problem. `ok` is true only when everything asked for was restored (or
verified intact, or scanned).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from console.engine.restore.reader import ReadStats
from console.wire.states import FINISHED

Json = dict[str, Any]
RATE_WINDOW_SECONDS = 5.0
MAX_LISTED = 200  # results, refusals and problems in a snapshot (the counts are always whole)


class RateMeter:
    """Bytes per second over the last few seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, window: float = RATE_WINDOW_SECONDS) -> None:
        self.clock = clock
        self.window = window
        self._samples: deque[tuple[float, int]] = deque()
        self._lock = threading.Lock()

    def sample(self, total: int) -> None:
        now = self.clock()
        with self._lock:
            self._samples.append((now, total))
            while len(self._samples) > 2 and now - self._samples[1][0] > self.window:
                self._samples.popleft()

    def rate(self) -> float:
        with self._lock:
            if len(self._samples) < 2:
                return 0.0
            (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0


def _iso(moment: float | None) -> str | None:
    return None if moment is None else datetime.fromtimestamp(moment).astimezone().isoformat(timespec="seconds")


@dataclass
class TapeRun:
    id: int
    kind: str  # restore | verify | scan
    title: str
    user: str
    drive: str
    request: Json = field(default_factory=dict)
    plan: Json | None = None
    state: str = "queued"  # queued, running, waiting, done, failed, cancelled
    ok: bool = False
    error: str | None = None
    started: float | None = None
    ended: float | None = None
    expected_bytes: int | None = None
    bytes_done: int = 0
    tape: str | None = None
    set_id: int | None = None
    member: str | None = None
    need: str | None = None  # what the run waits for: 'insert tape L1 into drive lto4'
    need_tape: str | None = None  # the barcode of the tape it waits for
    wrong_tape: Json | None = None  # the last wrong tape inserted: {"found": label or barcode, "wanted": barcode}
    results: list[Json] = field(default_factory=list)
    refused: list[Json] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tape_moves: list[str] = field(default_factory=list)  # the run's own loads and ejects, in words
    stopped_early: bool = False  # every file asked for was out before the end of the archive (not checked)
    summary: Json = field(default_factory=dict)
    stats: ReadStats = field(default_factory=ReadStats)
    cancel: threading.Event = field(default_factory=threading.Event)
    meter: RateMeter = field(default_factory=RateMeter)

    def add_bytes(self, count: int) -> None:
        self.bytes_done += count
        self.meter.sample(self.bytes_done)

    def waiting(self, need: str | None, barcode: str | None = None) -> None:
        self.need, self.need_tape = need, barcode if need else None
        if self.state in ("running", "waiting"):
            self.state = "waiting" if need else "running"

    def note(self, text: str) -> None:
        self.notes.append(text)
        del self.notes[:-100]

    def wrong_tape_found(self, found: str, wanted: str) -> None:
        self.wrong_tape = {"found": found, "wanted": wanted}

    def tape_moved(self, text: str) -> None:
        self.tape_moves.append(text)
        del self.tape_moves[:-100]

    @property
    def finished(self) -> bool:
        return self.state in FINISHED

    def snapshot(self) -> Json:
        """A JSON view, safe to build from any thread."""
        rate = self.meter.rate() if self.state == "running" else 0.0
        eta = None
        if self.expected_bytes and rate > 0:
            eta = max(0.0, (self.expected_bytes - self.bytes_done) / rate)
        return {
            "id": self.id, "kind": self.kind, "title": self.title, "user": self.user, "drive": self.drive,
            "state": self.state, "ok": self.ok, "error": self.error,
            "started": _iso(self.started), "ended": _iso(self.ended),
            "bytes": self.bytes_done, "expected_bytes": self.expected_bytes, "rate": rate, "eta_seconds": eta,
            "tape": self.tape, "set": self.set_id, "member": self.member,
            "need": self.need, "need_tape": self.need_tape, "wrong_tape": self.wrong_tape,
            "drive_reads": self.stats.to_json(),
            "results": self.results[-MAX_LISTED:], "result_count": len(self.results),
            "results_ok": sum(1 for r in self.results if r.get("ok")),
            "refused": self.refused[-MAX_LISTED:], "problems": self.problems[:MAX_LISTED],
            "notes": list(self.notes), "tape_moves": list(self.tape_moves), "stopped_early": self.stopped_early,
            "summary": dict(self.summary), "request": self.request, "plan": self.plan,
        }
