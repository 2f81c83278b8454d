"""Inventories for the rotation tests live on a RAM disk when there is one: the inventory writes
crash-safely (fsync on every change), and these tests are about the rules, not the disk."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _ram_folder() -> Path:
    shm = Path("/dev/shm")
    return Path(tempfile.mkdtemp(prefix="tc-rot-", dir=shm if shm.is_dir() else None))


@pytest.fixture
def ram_path() -> Iterator[Path]:
    folder = _ram_folder()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def ram_folder() -> Iterator[Path]:
    folder = _ram_folder()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
