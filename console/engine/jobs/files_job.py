"""A `files` job's members: its folders as one compressed archive (`backup.tar.zst` by default), indexed for
restores, its frames recorded for seeking."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from console.config.schema import Config, JobConfig
from console.engine.inventory.file_index import FileIndex
from console.engine.pipeline.parts import SourceMember
from console.engine.sources.compression import Compression
from console.engine.sources.files import FilesSource

if TYPE_CHECKING:
    from console.engine.jobs.backup import BackupRun

ESTIMATED_RATIO = {"zstd": 0.6, "gzip": 0.6, "none": 1.0}  # compressed/original, until history tells better
DEMO_WAIT_SECONDS = 15 * 60  # the demo tree takes about a minute to generate; far longer means it failed


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


def _wait_for_demo_tree(folder: Path, run: BackupRun) -> None:
    """The daemon generates the demo tree at its first start (about a minute): a demo run started meanwhile
    waits for it, saying so, instead of failing. Cancel ends the wait; so does a tree that never comes."""
    ready = folder / ".complete"
    deadline = time.monotonic() + DEMO_WAIT_SECONDS
    while not ready.exists():
        if time.monotonic() > deadline:
            raise LookupError(f"the demo file tree in {folder} was not ready after {DEMO_WAIT_SECONDS // 60} minutes: "
                              "see the daemon's log")
        run.waiting = f"the demo file tree in {folder} is being generated (first start only)"
        if run.cancel.wait(1.0):
            run.waiting = None
            raise LookupError("cancelled while the demo file tree was being generated")
    run.waiting = None


def compression_of(job: JobConfig) -> Compression:
    threads = job.compression_threads or os.cpu_count() or 1
    return Compression(job.compression, job.compression_level, threads, job.frame_bytes)  # type: ignore[arg-type]


def files_members(job: JobConfig, run: BackupRun, config: Config) -> list[SourceMember]:
    demo = config.demo
    if demo is not None and any(p.is_relative_to(demo.files_folder) for p in job.paths):
        _wait_for_demo_tree(demo.files_folder, run)
    for path in job.paths:
        if not path.is_dir():
            raise LookupError(f"job {job.name}: folder {path} does not exist")
    names = [p.name for p in job.paths]
    if len(set(names)) != len(names):
        raise LookupError(f"job {job.name}: two folders have the same name ({', '.join(names)}): rename one")
    tree_bytes = sum(_tree_bytes(p) for p in job.paths)
    estimate = int(tree_bytes * ESTIMATED_RATIO[job.compression])
    run.input_bytes = tree_bytes
    compression = compression_of(job)

    def open_stream() -> Iterator[bytes | memoryview]:
        index = FileIndex(index_path(config))
        source = FilesSource(
            {p.name: p for p in job.paths},
            compression=compression,
            index=index,
            set_id=index_key(run.id),
        )
        run.input_done = lambda: source.stats.file_bytes
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
        name=compression.member_name, length=None, open=open_stream,
        source=f"files:{','.join(str(p) for p in job.paths)}", estimate=estimate,
        extra={"index": index_key(run.id), "compression": compression.codec},
    )]
