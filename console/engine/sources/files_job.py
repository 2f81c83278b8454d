"""A `files` job's members: its folders as one compressed `backup.tar.gz`, indexed for restores."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from console.engine.config import Config, JobConfig
from console.engine.fileindex import FileIndex
from console.engine.pipeline.parts import SourceMember
from console.engine.sources.files import FilesSource

if TYPE_CHECKING:
    from console.engine.jobs.backup import BackupRun

ESTIMATED_RATIO = 0.6  # compressed/original, until history tells better


def index_path(config: Config) -> Path:
    return config.daemon.state_dir / "fileindex.sqlite"


def index_key(run_id: int) -> str:
    """The file index keeps one archive per run (its sets on one or more tapes hold its parts)."""
    return f"run{run_id}"


def _tree_bytes(root: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            try:
                total += os.lstat(os.path.join(folder, name)).st_size
            except OSError:
                continue
    return total


def files_members(job: JobConfig, run: BackupRun, config: Config) -> list[SourceMember]:
    demo = config.demo
    demo_pending = demo is not None and not (demo.files_folder / ".complete").exists()
    for path in job.paths:
        if demo_pending and demo is not None and path.is_relative_to(demo.files_folder):
            raise LookupError(f"the demo file tree in {demo.files_folder} is still being generated: try again shortly")
        if not path.is_dir():
            raise LookupError(f"job {job.name}: folder {path} does not exist")
    names = [p.name for p in job.paths]
    if len(set(names)) != len(names):
        raise LookupError(f"job {job.name}: two folders have the same name ({', '.join(names)}): rename one")
    estimate = int(sum(_tree_bytes(p) for p in job.paths) * ESTIMATED_RATIO)

    def open_stream() -> Iterator[bytes | memoryview]:
        index = FileIndex(index_path(config))
        source = FilesSource(
            {p.name: p for p in job.paths},
            level=job.compression_level,
            threads=job.compression_threads or None,
            index=index,
            set_id=index_key(run.id),
        )
        try:
            yield from source.chunks()
            stats = source.stats
            run.source_bytes = stats.file_bytes
            run.notes.append(
                f"files: {stats.files} files, {stats.file_bytes} bytes -> {stats.compressed_bytes} compressed "
                f"({source.compressor}), {stats.warnings} warnings"
            )
            run.notes.extend(str(w) for w in source.warnings[:20])
        finally:
            index.close()

    return [SourceMember(
        name="backup.tar.gz", length=None, open=open_stream, source=f"files:{','.join(str(p) for p in job.paths)}",
        estimate=estimate, extra={"index": index_key(run.id)},
    )]
