"""The scheduled verify ([verify] in config.toml): the tapes verified longest ago (never first), one
after the other, through the restore manager like any verify an operator starts."""

from __future__ import annotations

from typing import Any

from console.engine.restore.manager import RestoreManager
from console.engine.restore.verify import tapes_due

Json = dict[str, Any]


def verify_on_schedule(manager: RestoreManager, *, pool: str | None = None, tapes: int = 1,
                       user: str = "scheduler", timeout: float | None = None) -> list[Json]:
    """Verify the `tapes` tapes due first (of `pool`), one after the other; returns each run's snapshot.
    With real drives (no autoloader) only tapes already in a drive are taken."""
    results = []
    for tape in tapes_due(manager.inventory, pool=pool, loaded_only=manager.autoload is None)[:tapes]:
        started = manager.start_verify(tape["label"], None, user)
        manager.wait(started["id"], timeout)
        results.append(manager.get(started["id"]))
    return results
