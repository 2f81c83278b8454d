"""A TinyDB storage that never leaves a half-written file: write a temp file, fsync, rename, fsync dir."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tinydb.storages import Storage

from console.engine.durable import fsync_folder


class CorruptInventory(Exception):
    """The inventory file exists but is not valid JSON (never produced by this storage)."""


class AtomicJSONStorage(Storage):
    """JSON storage whose every write is atomic and durable.

    A crash at any moment leaves either the previous complete file or the new complete file:
    the data goes to a temporary file in the same folder, is fsynced, then renamed over the old
    file, and the folder is fsynced so the rename itself survives a power loss.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def read(self) -> dict[str, dict[str, Any]] | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        if not text.strip():
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise CorruptInventory(f"{self.path}: not valid JSON at line {exc.lineno}: {exc.msg}") from None

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        payload = json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(payload)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)
        fsync_folder(self.path.parent)

    def close(self) -> None:
        pass
