"""Shared fixtures of the pipeline tests: a small demo tree, made once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from console.demo.file_tree import DemoTree, generate_demo_tree

DEMO_SIZE = 6 << 20


@pytest.fixture(scope="session")
def demo_tree(tmp_path_factory: pytest.TempPathFactory) -> DemoTree:
    """About 6 MiB of mail and share files (read-only by convention: copy before changing)."""
    return generate_demo_tree(tmp_path_factory.mktemp("demo") / "tree", size=DEMO_SIZE, seed=7)


@pytest.fixture
def record_file(tmp_path: Path) -> Path:
    return tmp_path / "set.tar"
