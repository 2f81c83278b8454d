"""The `files` source: directory trees as one compressed archive member, `backup.tar.zst` by default.

Two stages, each in its own module: file_tree_tar walks the trees and writes the inner tar (indexing
every file's offsets in it), compression cuts that tar into independent frames of zstd (default),
gzip or nothing. The whole stream runs ahead of its consumer in a thread (readahead). When the
stream ends, the frames' offsets go to the frame table next to the file index, so one file restores
by seeking to its frame.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict
from typing import Any

from console.engine.inventory.file_index import FileIndex, IndexWriter
from console.engine.inventory.frame_table import ArchiveFrame, ArchiveLayout, FrameTable
from console.engine.sources.compression import (
    Compression,
    CompressionError,
    FramedOutput,
    compressed_stream,
    pigz_path,
    tool_name,
)
from console.engine.sources.file_tree_tar import (
    CHUNK_SIZE,
    FilesSourceError,
    FilesStats,
    FileWarning,
    InnerTar,
    TreeRoot,
    checked_roots,
)
from console.engine.sources.readahead import READAHEAD_BYTES, readahead
from console.engine.tapeformat.tar_headers import Buffer

__all__ = ["FilesSource", "FilesSourceError", "FilesStats", "FileWarning", "InnerTar", "TreeRoot", "pigz_path"]
MAX_SUMMARY_WARNINGS = 200


class FilesSource:
    """Directory trees -> archive chunks (or member parts), with a file index, a frame table and warnings.

    One use: call chunks() once. With `index` (and `set_id`) every file is indexed under the set and the
    frames are recorded in the frame table of the same database; the index set is marked complete when
    the stream ends.
    """

    def __init__(
        self,
        roots: Mapping[str, str | os.PathLike[str]] | Iterable[TreeRoot],
        *,
        compression: Compression | None = None,
        index: FileIndex | None = None,
        set_id: str | None = None,
        chunk_size: int = CHUNK_SIZE,
        readahead_bytes: int = READAHEAD_BYTES,
        on_warning: Callable[[FileWarning], None] | None = None,
    ) -> None:
        self.roots = checked_roots(roots)
        if index is not None and not set_id:
            raise FilesSourceError("a set_id is needed to index the files")
        self.compression = compression or Compression(threads=max(1, os.cpu_count() or 1))
        if self.compression.codec == "gzip" and self.compression.gzip_tool == "pigz" and pigz_path() is None:
            raise FilesSourceError("pigz is not installed")
        self.member_name = self.compression.member_name
        self.compressor = tool_name(self.compression)
        self.stats = FilesStats()
        self.warnings: list[FileWarning] = []
        self.frames: list[ArchiveFrame] = []
        self.index_writer: IndexWriter | None = None  # its trigram_thread builds the search index afterwards
        self._index = index
        self._set_id = set_id
        self._chunk_size = min(chunk_size, self.compression.frame_bytes)
        if self.compression.frame_bytes % self._chunk_size:
            raise FilesSourceError(f"frame size {self.compression.frame_bytes} is not a multiple of the "
                                   f"chunk size {self._chunk_size}")
        self._readahead = readahead_bytes
        self._on_warning = on_warning
        self._used = False

    def _warn(self, warning: FileWarning) -> None:
        self.warnings.append(warning)
        if self._on_warning is not None:
            self._on_warning(warning)

    def chunks(self) -> Iterator[Buffer]:
        """The compressed stream. Chunks are fresh buffers, safe to hold."""
        if self._used:
            raise FilesSourceError("a FilesSource runs once")
        self._used = True
        writer: IndexWriter | None = None
        if self._index is not None and self._set_id is not None:
            writer = self.index_writer = self._index.writer(self._set_id)
        tar = InnerTar(
            self.roots,
            chunk_size=self._chunk_size,
            record=writer.add if writer is not None else None,
            warn=self._warn,
            stats=self.stats,
        )
        out = FramedOutput()
        try:
            compressed = compressed_stream(tar.chunks(), self.compression, out)
        except CompressionError as exc:
            raise FilesSourceError(str(exc)) from None
        stream = readahead(compressed, self._readahead)
        complete = False
        try:
            for chunk in stream:
                self.stats.compressed_bytes += memoryview(chunk).nbytes
                self.stats.tar_bytes = tar.offset
                yield chunk
            complete = True
            self.frames = [ArchiveFrame(f.number, f.packed_offset, f.tar_offset) for f in out.frames]
            self._record_frames()
        except CompressionError as exc:
            raise FilesSourceError(str(exc)) from None
        finally:
            stream.close()
            if writer is not None:
                try:
                    writer.close(complete=complete)
                except Exception:
                    if complete:
                        raise

    def _record_frames(self) -> None:
        if self._index is None or self._set_id is None:
            return
        layout = ArchiveLayout(self._set_id, self.compression.codec, self.compression.frame_bytes,
                               self.stats.compressed_bytes, self.stats.tar_bytes)
        with FrameTable(self._index.path) as table:
            table.record(layout, self.frames)

    def summary(self) -> dict[str, Any]:
        """For the set's manifest: what was backed up, how, and what went wrong."""
        return {
            "kind": "files",
            "member": self.member_name,
            "roots": {root.name: str(root.path) for root in self.roots},
            "compression": self.compression.codec,
            "compressor": self.compressor,
            "level": self.compression.level,
            "frame_bytes": self.compression.frame_bytes,
            "frames": len(self.frames),
            "stats": asdict(self.stats),
            "warnings": [str(w) for w in self.warnings[:MAX_SUMMARY_WARNINGS]],
            "warnings_left_out": max(0, len(self.warnings) - MAX_SUMMARY_WARNINGS),
        }
