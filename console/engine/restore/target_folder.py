"""The folder a restore writes into, opened once and used only through its descriptor.

Every folder and file of the restore is created relative to that open folder (`dir_fd`, `O_NOFOLLOW`,
`O_EXCL` for the temporary name): no path is resolved again after the folder was opened and checked, so
swapping the folder (or a folder in it) for a symlink after the check changes nothing, and a symlink
planted at a temporary or intermediate name is refused, never followed.

Which folder was opened is checked on the descriptor itself (device and inode, up to the root), not on
its path: a target that is, or lies inside, or holds the daemon's state or shelf is refused.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

from console.engine.refusals import Refused
from console.engine.restore.sink import TargetRefused

FOLDER_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
RESTORED_FILE_MODE = 0o600  # restored disks and files hold the backed-up data: the operator widens it
Identity = tuple[int, int]


def _identity(fd: int) -> Identity:
    info = os.fstat(fd)
    return info.st_dev, info.st_ino


def _chain(fd: int) -> list[Identity]:
    """The identities of the folder open at `fd` and of every folder above it, up to the root."""
    out = [_identity(fd)]
    current = os.dup(fd)
    try:
        for _ in range(4096):
            parent = os.open("..", FOLDER_FLAGS, dir_fd=current)
            os.close(current)
            current = parent
            here = _identity(current)
            if here == out[-1]:
                break
            out.append(here)
    finally:
        os.close(current)
    return out


def _chain_of_path(path: Path) -> list[Identity] | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None  # a place that does not exist cannot be written into
    try:
        return _chain(fd)
    finally:
        os.close(fd)


class TargetFolder:
    """An open restore folder. `close()` releases it and every folder opened beneath it."""

    def __init__(self, path: Path, forbidden: Sequence[Path] = ()) -> None:
        self.path = path
        try:
            self.fd = os.open(path, FOLDER_FLAGS)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise Refused(f"{path} is not a folder (a symlink or a file is there now)") from None
            raise Refused(f"cannot open restore folder {path}: {exc.strerror}") from None
        self._folders: dict[tuple[str, ...], int] = {(): self.fd}
        try:
            self._check(forbidden)
        except BaseException:
            self.close()
            raise

    def _check(self, forbidden: Sequence[Path]) -> None:
        mine = _chain(self.fd)
        for place in forbidden:
            theirs = _chain_of_path(place)
            if theirs is None:
                continue
            if theirs[0] in mine or mine[0] in theirs:
                raise Refused(f"{self.path} holds or is inside {place}, where the daemon keeps its cartridges "
                              "and state: choose another folder")

    def close(self) -> None:
        for fd in self._folders.values():
            os.close(fd)
        self._folders = {}

    # ---- folders
    def folder(self, parts: Sequence[str]) -> int:
        """The descriptor of folder `parts` under the target, created as needed; TargetRefused when a
        symlink, a file or anything but a folder stands in the way."""
        key = tuple(parts)
        known = self._folders.get(key)
        if known is not None:
            return known
        parent = self.folder(key[:-1])
        name = key[-1]
        try:
            os.mkdir(name, 0o755, dir_fd=parent)
        except FileExistsError:
            pass
        except OSError as exc:
            raise TargetRefused(f"cannot create folder {'/'.join(key)}: {exc.strerror}") from None
        try:
            fd = os.open(name, FOLDER_FLAGS, dir_fd=parent)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise TargetRefused(f"{'/'.join(key)} in the target is a symlink or a file, not a folder: "
                                    "nothing is written through it") from None
            raise TargetRefused(f"cannot open folder {'/'.join(key)}: {exc.strerror}") from None
        self._folders[key] = fd
        return fd

    # ---- files
    def new_temporary(self, folder: int, name: str) -> tuple[int, str]:
        """A new file, open for writing, under a fresh hidden name next to `name`; never an existing one."""
        for _ in range(16):
            temporary = f".{name}.{secrets.token_hex(4)}.restoring"
            try:
                return os.open(temporary, NEW_FILE_FLAGS, RESTORED_FILE_MODE, dir_fd=folder), temporary
            except FileExistsError:
                continue
            except OSError as exc:
                raise TargetRefused(f"cannot create a file next to {name}: {exc.strerror}") from None
        raise TargetRefused(f"cannot find a free temporary name next to {name}")

    def existing(self, folder: int, name: str) -> int | None:
        """The mode of what is at `name` now (a symlink itself, not what it points to), or None."""
        try:
            return os.stat(name, dir_fd=folder, follow_symlinks=False).st_mode
        except FileNotFoundError:
            return None

    def put_in_place(self, folder: int, temporary: str, name: str) -> bool:
        """Rename the finished temporary file to `name` (a symlink there is replaced, not followed);
        returns whether something was replaced."""
        mode = self.existing(folder, name)
        if mode is not None and stat.S_ISDIR(mode):
            raise TargetRefused(f"a folder named {name} is in the way")
        os.replace(temporary, name, src_dir_fd=folder, dst_dir_fd=folder)
        return mode is not None

    def remove(self, folder: int, name: str) -> None:
        try:
            os.unlink(name, dir_fd=folder)
        except FileNotFoundError:
            pass
