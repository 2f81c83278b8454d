"""The frame table of each file-tree archive: where its independent compressed frames begin.

A files job writes its archive (`backup.tar.zst`, `.tar.gz` or `.tar`) as frames each covering a stretch
of the inner tar. For every archive (keyed like the file index's sets, e.g. `run12`) this table holds,
per frame, its byte offset in the compressed member (so in the set and on tape, through the member's
parts) and where its data starts in the uncompressed inner tar, which is what the file index's
`offset` counts in. A restore of one file starts reading at the frame holding the file's header.

It lives in the file index's SQLite file, in tables of its own: the per-file rows stay as they are.
An archive without frames here (written before frames, or by another version) is read from its start.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS archive_frames (
    archive TEXT NOT NULL,
    frame INTEGER NOT NULL,
    packed_offset INTEGER NOT NULL,
    tar_offset INTEGER NOT NULL,
    PRIMARY KEY (archive, frame)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS archives (
    archive TEXT PRIMARY KEY,
    codec TEXT NOT NULL,
    frame_bytes INTEGER NOT NULL,
    packed_bytes INTEGER NOT NULL,
    tar_bytes INTEGER NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class ArchiveFrame:
    number: int
    packed_offset: int  # in the compressed member
    tar_offset: int  # in the inner tar


@dataclass(frozen=True, slots=True)
class ArchiveLayout:
    archive: str
    codec: str  # zstd | gzip | none
    frame_bytes: int
    packed_bytes: int
    tar_bytes: int


class FrameTable:
    """Frames of every archive, in `path` (the file index's database). Safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=60)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._lock = threading.Lock()
        with self._lock:
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> FrameTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def record(self, layout: ArchiveLayout, frames: list[ArchiveFrame]) -> None:
        """Store an archive's frames, replacing what an archive of that key had."""
        rows = [(layout.archive, f.number, f.packed_offset, f.tar_offset) for f in frames]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._delete(layout.archive)
                self._db.executemany("INSERT INTO archive_frames VALUES (?, ?, ?, ?)", rows)
                self._db.execute("INSERT INTO archives VALUES (?, ?, ?, ?, ?)",
                                 (layout.archive, layout.codec, layout.frame_bytes, layout.packed_bytes,
                                  layout.tar_bytes))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def forget(self, archive: str) -> None:
        with self._lock:
            self._delete(archive)

    def _delete(self, archive: str) -> None:
        self._db.execute("DELETE FROM archive_frames WHERE archive = ?", (archive,))
        self._db.execute("DELETE FROM archives WHERE archive = ?", (archive,))

    def layout(self, archive: str) -> ArchiveLayout | None:
        with self._lock:
            row = self._db.execute("SELECT archive, codec, frame_bytes, packed_bytes, tar_bytes FROM archives "
                                   "WHERE archive = ?", (archive,)).fetchone()
        return None if row is None else ArchiveLayout(*row)

    def frame_holding(self, archive: str, tar_offset: int) -> ArchiveFrame | None:
        """The frame whose data holds inner-tar byte `tar_offset`, None when the archive has no frames."""
        with self._lock:
            row = self._db.execute(
                "SELECT frame, packed_offset, tar_offset FROM archive_frames WHERE archive = ? AND tar_offset <= ? "
                "ORDER BY tar_offset DESC LIMIT 1", (archive, tar_offset)).fetchone()
        return None if row is None else ArchiveFrame(*row)

    def frames(self, archive: str) -> list[ArchiveFrame]:
        with self._lock:
            rows = self._db.execute("SELECT frame, packed_offset, tar_offset FROM archive_frames WHERE archive = ? "
                                    "ORDER BY frame", (archive,)).fetchall()
        return [ArchiveFrame(*r) for r in rows]
