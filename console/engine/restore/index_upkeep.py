"""The file index follows the tapes: the files of backup sets whose tapes were overwritten leave the index.

An archive's index (key 'run<id>') goes when every set holding that archive is overwritten; while one set
of it is still on a tape its files stay findable. Dropping a million-file night takes seconds of SQLite
work, so the daemon does it in a low-priority thread of its own, after a relabel and when it starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from console.engine.inventory.file_index import FileIndex
from console.engine.inventory.frame_table import FrameTable

OVERWRITTEN = "overwritten"
log = logging.getLogger(__name__)


def overwritten_index_keys(sets: Iterable[dict[str, Any]]) -> set[str]:
    """Index keys whose every set is overwritten (a set still being written keeps its key)."""
    gone: set[str] = set()
    kept: set[str] = set()
    for record in sets:
        keys = {e["index"] for e in record.get("members") or [] if isinstance(e, dict) and e.get("index")}
        (gone if record.get("state") == OVERWRITTEN else kept).update(keys)
    return gone - kept


def drop_overwritten(index: FileIndex, sets: Iterable[dict[str, Any]]) -> list[str]:
    """Drop from the index the archives no tape holds any more, their files and their frame tables (and
    finish any drop a crash cut short); returns the keys dropped."""
    held = {s.set_id for s in index.sets()}
    dropped = [key for key in sorted(overwritten_index_keys(sets) & held) if index.drop_set(key)]
    if dropped:
        with FrameTable(index.path) as frames:
            for key in dropped:
                frames.forget(key)
    index.finish_drops()
    return dropped


def drop_overwritten_later(index_path: Path, sets: list[dict[str, Any]]) -> threading.Thread:
    """drop_overwritten() in a daemon thread at the lowest CPU priority, on its own connection."""

    def run() -> None:
        with contextlib.suppress(OSError):  # Linux: a thread id sets that thread's nice value alone
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
        try:
            with FileIndex(index_path) as index:
                dropped = drop_overwritten(index, sets)
            if dropped:
                log.info("file index: dropped %s (their tapes were overwritten)", ", ".join(dropped))
        except Exception as exc:  # the rows stay; searches skip sets gone from tape anyway
            log.warning("dropping overwritten sets from the file index %s failed: %s", index_path, exc)

    thread = threading.Thread(target=run, name="fileindex-drop", daemon=True)
    thread.start()
    return thread
