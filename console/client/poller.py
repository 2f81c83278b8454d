"""What the console knows of the daemon, refreshed at a modest rate: one Snapshot per poll.

Drives and job runs are asked for every tick (the live figures); the inventory, the job list and the
system sample less often, or at once when something moved (a run or a drive changed state, or the
operator acted). Events are fetched incrementally (GET /events?after=SEQ) and kept in a bounded list.
Every GET is conditional (DaemonLink sends the last answer's ETag): while nothing changed the daemon answers
304 and the link hands back the answer it holds, the same object, so an idle console costs the daemon a few
comparisons and an unchanged part of the Snapshot stays the same object.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from console.client.daemon_client import DaemonError, DaemonUnavailable
from console.client.daemon_link import DaemonLink
from console.wire.runs import JobRun
from console.wire.states import ACTIVE

BUSY_SECONDS = 1.0  # a drive moves tape: live figures every second
IDLE_SECONDS = 2.0  # nothing moves: every two seconds
SLOW_EVERY = 5  # tapes, jobs and the system sample every fifth tick unless something moved
POOLS_EVERY = 60
KEEP_EVENTS = 500

Json = dict[str, Any]


@dataclass(frozen=True)
class Snapshot:
    """The daemon as last seen. `error` says why it is stale when the daemon stopped answering."""

    drives: list[Json] = field(default_factory=list)
    runs: list[JobRun] = field(default_factory=list)
    jobs: list[Json] = field(default_factory=list)
    tapes: list[Json] = field(default_factory=list)
    pools: list[Json] = field(default_factory=list)
    system: Json | None = None
    events: tuple[Json, ...] = ()
    health: Json | None = None
    error: str | None = None
    error_since: float | None = None  # when the daemon stopped answering (time.time()), while `error` holds
    tick: int = 0

    @property
    def busy(self) -> bool:
        return any(d.get("state") not in ("idle", "no-tape", "error") for d in self.drives) or any(
            r.get("state") in ACTIVE for r in self.runs
        )

    def drive(self, name: str) -> Json | None:
        return next((d for d in self.drives if d["name"] == name), None)

    def tape(self, barcode: str | None) -> Json | None:
        if not barcode:
            return None
        return next((t for t in self.tapes if t["barcode"] == barcode), None)

    def active_run(self, drive: str) -> JobRun | None:
        """The run the drive is busy with: running, else waiting for a tape, else the first queued."""
        runs = [r for r in self.runs if r.get("drive") == drive and r.get("state") in ACTIVE]
        return min(runs, key=lambda r: (ACTIVE.index(r["state"]), r["id"]), default=None)

    def active_runs(self) -> list[JobRun]:
        return [r for r in self.runs if r.get("state") in ACTIVE]

    def with_run(self, run: Json) -> Snapshot:
        """This snapshot with one run as the daemon just answered it (shown at once, before the next poll)."""
        runs = [run if r.get("id") == run.get("id") else r for r in self.runs]
        return replace(self, runs=runs)

    def pool(self, name: str | None) -> Json | None:
        return next((p for p in self.pools if p["name"] == name), None)


def _signature(snapshot_part: list[Json], *keys: str) -> tuple[Any, ...]:
    return tuple(tuple(item.get(k) for k in keys) for item in snapshot_part)


class Poller:
    """Polls the daemon through a DaemonLink and hands each Snapshot to `deliver`."""

    def __init__(self, link: DaemonLink, deliver: Callable[[Snapshot], None], *,
                 busy_seconds: float = BUSY_SECONDS, idle_seconds: float = IDLE_SECONDS,
                 clock: Callable[[], float] = time.time) -> None:
        self.link = link
        self.clock = clock
        self.deliver = deliver
        self.busy_seconds = busy_seconds
        self.idle_seconds = idle_seconds
        self.snapshot = Snapshot()
        self._events: deque[Json] = deque(maxlen=KEEP_EVENTS)
        self._last_seq = 0
        self._wake = asyncio.Event()
        self._everything = True
        self._daemon_pid: int | None = None

    def soon(self) -> None:
        """Poll again now and fetch everything (after an action of the operator)."""
        self._everything = True
        self._wake.set()

    async def run(self) -> None:
        while True:
            await self.poll_once()
            pause = self.busy_seconds if self.snapshot.busy else self.idle_seconds
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=pause)
            except TimeoutError:
                pass
            self._wake.clear()

    async def poll_once(self) -> Snapshot:
        old = self.snapshot
        tick = old.tick + 1
        try:
            snapshot = await self._fetch(old, tick)
        except (DaemonUnavailable, DaemonError) as exc:
            snapshot = Snapshot(
                drives=old.drives, runs=old.runs, jobs=old.jobs, tapes=old.tapes, pools=old.pools,
                system=old.system, events=old.events, health=None, error=str(exc), tick=tick,
                error_since=old.error_since if old.error is not None else self.clock(),
            )
            self._everything = True  # when it answers again, refresh everything
        self.snapshot = snapshot
        self.deliver(snapshot)
        return snapshot

    async def _fetch(self, old: Snapshot, tick: int) -> Snapshot:
        link = self.link
        everything = self._everything or old.error is not None or not old.drives
        self._everything = False
        drives, runs = await asyncio.gather(link.get("/drives"), link.get("/runs"))
        moved = (_signature(drives, "name", "state", "loaded", "label")
                 != _signature(old.drives, "name", "state", "loaded", "label")
                 or _signature(runs, "id", "state", "tape") != _signature(old.runs, "id", "state", "tape"))
        slow = everything or moved or tick % SLOW_EVERY == 0
        health = old.health
        if everything or health is None:
            health = await link.get("/health")
            if health.get("pid") != self._daemon_pid:  # a new daemon numbers its events from 1 again
                self._daemon_pid = health.get("pid")
                self._events.clear()
                self._last_seq = 0
        tapes, jobs, system = old.tapes, old.jobs, old.system
        if slow:
            tapes, jobs, system = await asyncio.gather(link.get("/tapes"), link.get("/jobs"), link.get("/system"))
        pools = old.pools
        if everything or tick % POOLS_EVERY == 0:
            pools = await link.get("/pools")
        events = old.events
        if everything or moved or tick % 2 == 0:
            fresh = await link.get(f"/events?after={self._last_seq}")
            if fresh:
                self._events.extend(fresh)
                self._last_seq = fresh[-1]["seq"]
            events = tuple(self._events)
        return Snapshot(drives=drives, runs=runs, jobs=jobs, tapes=tapes, pools=pools, system=system,
                        events=events, health=health, error=None, tick=tick)
