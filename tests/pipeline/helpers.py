"""Helpers of the pipeline tests: sinks, GNU tar runs, tree comparison."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from console.engine.tapeformat.tar_headers import RECORD_SIZE


class FileSink:
    """A sink that writes records to a file and checks every one is exactly record_size bytes."""

    def __init__(self, f: BinaryIO, record_size: int = RECORD_SIZE) -> None:
        self.f = f
        self.record_size = record_size
        self.records = 0

    def __call__(self, record: memoryview) -> None:
        assert len(record) == self.record_size, f"record of {len(record)} bytes"
        self.f.write(record)
        self.records += 1


def gnu_tar(*args: str | os.PathLike[str], cwd: Path | None = None, stdin: bytes | None = None) -> str:
    """Run GNU tar; fail the test with its stderr when it exits non-zero or warns."""
    result = subprocess.run(["tar", *map(str, args)], cwd=cwd, input=stdin, capture_output=True, check=False)
    assert result.returncode == 0 and not result.stderr, result.stderr.decode(errors="replace")
    return result.stdout.decode("utf-8", "surrogateescape")


def records_of(path: Path, record_size: int = RECORD_SIZE, first: int = 0) -> Iterator[bytes]:
    with open(path, "rb") as f:
        f.seek(first * record_size)
        while record := f.read(record_size):
            yield record


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_snapshot(root: Path) -> dict[str, tuple[str, int, str]]:
    """relative path -> (kind, mtime seconds, content sha256 / link target / '') for a whole tree."""
    snap: dict[str, tuple[str, int, str]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = str(path.relative_to(root))
            st = path.lstat()
            if path.is_symlink():
                snap[rel] = ("link", 0, os.readlink(path))
            elif path.is_dir():
                snap[rel] = ("dir", 0, oct(st.st_mode & 0o7777))
            else:
                snap[rel] = ("file", int(st.st_mtime), sha256(path.read_bytes()) + oct(st.st_mode & 0o7777))
    return snap
