"""The states the daemon reports and its clients show: job runs, restore runs, drives and tapes.

Each is a StrEnum, so a state compares equal to its JSON string ("running") and serialises as one;
clients parse the daemon's answers with `parse()` and never match English sentences.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

E = TypeVar("E", bound=StrEnum)


class RunState(StrEnum):
    """A backup job run's state (GET /v1/runs), and a restore, verify or scan run's (GET /v1/restores)."""

    QUEUED = "queued"
    WAITING_FOR_TAPE = "waiting-for-tape"  # a backup waiting for the onsite person or a blank tape
    WAITING = "waiting"  # a restore waiting for its tape to be inserted
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    INTERRUPTED = "interrupted"  # cut short by a daemon stop or a crash


# A backup run's states before it ends, in queue order: the one on the drive first.
ACTIVE: tuple[RunState, ...] = (RunState.RUNNING, RunState.WAITING_FOR_TAPE, RunState.QUEUED)
FINISHED: tuple[RunState, ...] = (RunState.DONE, RunState.FAILED, RunState.CANCELLED, RunState.INTERRUPTED)


class DriveState(StrEnum):
    """What a drive is doing (GET /v1/drives `state`); `activity` beside it says it in words."""

    IDLE = "idle"
    NO_TAPE = "no-tape"
    ERROR = "error"
    BUSY = "busy"  # held for something this list does not name
    IDENTIFYING = "identifying"
    LOADING = "loading"
    EJECTING = "ejecting"
    REWINDING = "rewinding"
    LABELLING = "labelling"
    WRITING = "writing"
    READING = "reading"
    RESTORING = "restoring"
    VERIFYING = "verifying"
    SCANNING = "scanning"


class TapeState(StrEnum):
    """A tape's state as the operator reads it: its stored status, or EXPIRED (computed, never stored)."""

    BLANK = "blank"
    WRITABLE = "writable"
    FULL = "full"
    EXPIRED = "expired"
    DAMAGED = "damaged"
    RETIRED = "retired"


def parse(kind: type[E], value: object, default: E) -> E:
    """The member of `kind` named by `value`, or `default` for anything else (an older or newer daemon)."""
    try:
        return kind(value)
    except ValueError:
        return default
