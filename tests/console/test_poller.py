"""The poller asks the daemon for the live figures every tick and for the rest only when needed."""

from __future__ import annotations

import copy
from collections import Counter

import httpx

from console.client.poller import Poller, Snapshot
from tests.console.fake_daemon import RecordedDaemon, recording


class CountingDaemon(RecordedDaemon):
    def __init__(self, answers: dict) -> None:
        super().__init__(answers)
        self.asked: Counter[str] = Counter()
        self.afters: list[str] = []
        self.down = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("connection refused")
        path = request.url.path.removeprefix("/v1")
        self.asked[path] += 1
        if path == "/events":
            self.afters.append(request.url.params["after"])
        return super().handle(request)


async def test_live_figures_every_tick_the_inventory_when_something_moved() -> None:
    daemon = CountingDaemon(copy.deepcopy(recording("streaming")))
    seen: list[Snapshot] = []
    poller = Poller(daemon.link(), seen.append)
    first = await poller.poll_once()
    assert set(daemon.asked) == {"/health", "/drives", "/runs", "/tapes", "/jobs", "/system", "/pools", "/events"}
    assert first.busy and len(first.events) == 12 and first.tape("DEM002L5")["pool"] == "vdi-daily"
    daemon.asked.clear()
    second = await poller.poll_once()
    assert set(daemon.asked) == {"/drives", "/runs", "/events"}  # tick 2: events every other tick
    assert second.tapes is first.tapes
    daemon.asked.clear()
    await poller.poll_once()
    assert set(daemon.asked) == {"/drives", "/runs"}
    daemon.answers["/runs"][2]["state"] = "done"  # a run ended: the tapes and jobs are asked for at once
    daemon.asked.clear()
    await poller.poll_once()
    assert {"/tapes", "/jobs", "/system", "/events"} <= set(daemon.asked)
    assert daemon.afters == ["0", "12", "12"]
    assert [s.tick for s in seen] == [1, 2, 3, 4]


async def test_a_lost_daemon_keeps_the_last_picture_and_says_why() -> None:
    daemon = CountingDaemon(copy.deepcopy(recording("streaming")))
    poller = Poller(daemon.link(), lambda snapshot: None)
    before = await poller.poll_once()
    daemon.down = True
    lost = await poller.poll_once()
    assert lost.error and "no daemon answers" in lost.error
    assert lost.drives == before.drives and lost.tapes == before.tapes and lost.health is None
    daemon.down = False
    daemon.asked.clear()
    back = await poller.poll_once()
    assert back.error is None and "/tapes" in daemon.asked and "/health" in daemon.asked


async def test_a_new_daemon_numbers_its_events_from_one_again() -> None:
    daemon = CountingDaemon(copy.deepcopy(recording("streaming")))
    poller = Poller(daemon.link(), lambda snapshot: None)
    await poller.poll_once()
    daemon.down = True
    await poller.poll_once()
    daemon.down = False
    daemon.answers["/health"] = {**daemon.answers["/health"], "pid": 4242}
    daemon.answers["/events"] = daemon.answers["/events"][:2]
    snapshot = await poller.poll_once()
    assert daemon.afters[-1] == "0" and [e["seq"] for e in snapshot.events] == [1, 2]


def test_the_run_a_drive_is_busy_with() -> None:
    snapshot = Snapshot(runs=[
        {"id": 1, "drive": "lto5", "state": "done"},
        {"id": 2, "drive": "lto5", "state": "queued"},
        {"id": 3, "drive": "lto5", "state": "waiting-for-tape"},
        {"id": 4, "drive": "lto4", "state": "running"},
    ])
    assert snapshot.active_run("lto5")["id"] == 3
    assert snapshot.active_run("lto4")["id"] == 4
    assert [r["id"] for r in snapshot.active_runs()] == [2, 3, 4]
    assert snapshot.busy and not Snapshot(runs=[{"id": 1, "drive": "lto5", "state": "done"}]).busy
