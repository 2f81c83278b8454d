"""A tape's state as the operator reads it: its stored status, or `expired` once a written tape's retention
has ended (computed from the day, never stored: the same tape is unexpired yesterday and expired today).

The retention rule is the inventory's (Inventory.expires / is_protected): the last write plus the pool's
retention days; a pool that keeps forever, or a pool no longer configured, never lets a tape expire.
These functions take the day as an argument, so the swap list can ask about future nights.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from console.wire.states import TapeState

Json = dict[str, Any]
WRITTEN = ("writable", "full")  # the stored statuses of a tape that holds backups
STATES = tuple(state.value for state in TapeState)


def expiry(tape: Json, pools: dict[str, Json]) -> date | None:
    """The day the tape's retention ends; None when nothing is kept on it or its pool keeps forever."""
    pool = pools.get(tape.get("pool") or "")
    if not tape.get("last_written") or pool is None or pool.get("retention_days") is None:
        return None
    return (datetime.fromisoformat(tape["last_written"]) + timedelta(days=pool["retention_days"])).date()


def is_kept(tape: Json, pools: dict[str, Json], day: date) -> bool:
    """True when writing over the tape on `day` would destroy backups still under retention."""
    if not tape.get("last_written"):
        return False
    pool = pools.get(tape.get("pool") or "")
    if pool is None or pool.get("retention_days") is None:
        return True
    until = expiry(tape, pools)
    return until is not None and day < until


def tape_state(tape: Json, pools: dict[str, Json], day: date) -> str:
    """`expired` for a written tape whose retention has ended on `day`, else the stored status."""
    if tape.get("status") in WRITTEN and tape.get("last_written") and not is_kept(tape, pools, day):
        return TapeState.EXPIRED
    return str(tape.get("status"))


def with_state(tapes: list[Json], pools: list[Json], day: date) -> list[Json]:
    """The tape records with their `state` added (the listing's view; the stored status is kept as it is)."""
    by_name = {p["name"]: p for p in pools}
    return [{**t, "state": tape_state(t, by_name, day)} for t in tapes]


def vault_of(location: str | None) -> str | None:
    """'offsite:bank-safe' -> 'bank-safe'; None for a tape that is here."""
    if not location or not location.startswith("offsite"):
        return None
    return location.split(":", 1)[1] if ":" in location else "vault"
