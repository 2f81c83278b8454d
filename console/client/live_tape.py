"""A tape's fill as it is now: the inventory's bytes (updated when a set ends) plus what the running set has put
on it so far (the run's `set_bytes`, counted by the drive writer). The drive pane and the tape table show this
one number."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


def used_now(tape: Json, runs: list[Json]) -> int:
    """The bytes on the tape now."""
    used = int(tape.get("bytes_used") or 0)
    for run in runs:
        if run.get("state") != "running" or run.get("set_bytes") is None:
            continue
        if run.get("tape") in (tape.get("label"), tape["barcode"]):
            capacity = int(tape.get("capacity") or 0)
            live = used + int(run["set_bytes"])
            return min(capacity, live) if capacity else live
    return used


def with_used_now(tapes: list[Json], runs: list[Json]) -> list[Json]:
    """The tapes, those being written with their fill as it is now (the others unchanged, the same dicts)."""
    shown = []
    for tape in tapes:
        now = used_now(tape, runs)
        shown.append(tape if now == int(tape.get("bytes_used") or 0) else {**tape, "bytes_used": now})
    return shown
