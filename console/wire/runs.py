"""A backup job run as the daemon sends it (GET /v1/runs, /v1/runs/ID) and its clients read it.

The engine's BackupRun.snapshot() builds exactly this; the console's poller and the CLI read it. Keys that
only a finished run carries (how the drive did) are optional.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from console.wire.states import RunState


class JobRun(TypedDict):
    id: int
    name: str
    job: str
    source: str
    drive: str
    pool: str
    state: RunState
    error: str | None
    user: str
    started: str | None  # ISO times
    ended: str | None
    bytes: int  # written so far, all sets
    expected_bytes: int | None  # an estimate for a files job (its compressed size is not known before)
    expected_is_estimate: bool  # expected_bytes is a guess: shown with `~`, the run never reads 100% before done
    input_bytes: int | None  # what the source reads in all (a files job: the tree), when known before
    input_done: int | None  # what it has read so far
    fraction: float | None  # done, 0..1, while running (an estimate's from the input left; at most 0.99)
    set_bytes: int | None  # on the tape in the set being written (the tape's live fill: bytes_used + this)
    rate: float  # bytes/s onto the tape, while running (to the drive when the drive cannot tell): rate_is says
    rate_is: str  # "onto tape" or "to drive"
    rates: dict[str, Any]  # into_buffer, to_drive, onto_tape (None: the drive cannot tell), window_seconds
    eta_seconds: float | None
    tape: str | None
    set: int | None
    sets: list[int]
    tapes: list[str]
    member: str | None
    member_bytes: int
    member_length: int | None
    buffer: dict[str, Any] | None  # the buffer's fill, rates in and out and underruns, while running
    underruns: int | None
    notes: list[str]
    waiting: str | None
    waiting_since: str | None
    stream_risk: str | None
    cpu_shared_with: list[int]
    cancelling: bool  # cancel asked for: it stops at the next record (the drive then writes out its buffer)
    # how the drive did, once the run has ended
    tape_rate: NotRequired[float | None]
    cpu_seconds: NotRequired[float]
    writing_seconds: NotRequired[float]
    floor_rate: NotRequired[float | None]
    streamed: NotRequired[bool | None]
