"""The daemon's own files are private: folders 0700, files 0600, owned by the daemon's user.

The inventory, the audit log, the file index (every path backed up), the cartridge images (the backed-up
data itself) and the daemon log are nobody else's business. Clients reach the daemon through its socket
only: when the config names a group for the socket, the state folder holding it is 0710 with that group
(its members may pass through to the socket, not list or read anything), every file stays 0600.
"""

from __future__ import annotations

import grp
import os
import stat
from pathlib import Path

PRIVATE_FOLDER = 0o700
GROUP_PASS_FOLDER = 0o710  # the group may reach the socket inside, not list the folder
PRIVATE_FILE = 0o600
DAEMON_UMASK = 0o077


def group_id(group: str | None) -> int | None:
    if not group:
        return None
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        return None  # the socket's bind names the missing group in one line


def private_folder(path: Path, *, group: str | None = None) -> Path:
    """Create `path` (and its missing parents) 0700, or 0710 with `group`; an existing one is tightened,
    with everything in it that belongs to this user."""
    path.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    gid = group_id(group)
    mode = GROUP_PASS_FOLDER if gid is not None else PRIVATE_FOLDER
    _tighten(path, mode)
    if gid is not None and os.stat(path).st_gid != gid:
        try:
            os.chown(path, -1, gid)
        except PermissionError:
            pass
    for folder, subfolders, files in os.walk(path):
        for name in subfolders:
            _tighten(Path(folder) / name, PRIVATE_FOLDER)
        for name in files:
            _tighten(Path(folder) / name, PRIVATE_FILE)
    return path


def private_file(path: Path) -> Path:
    """Make an existing file 0600 (a file this user does not own is left as it is)."""
    _tighten(path, PRIVATE_FILE)
    return path


def _tighten(path: Path, mode: int) -> None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or stat.S_ISSOCK(info.st_mode) or info.st_uid != os.getuid():
        return  # the socket keeps its own 0660; what is not ours is not changed
    if stat.S_IMODE(info.st_mode) != mode:
        os.chmod(path, mode)
