"""The restore the walkthrough asks the daemon for: the target checked, the request body, the same command.

A folder is an absolute path on the backup server (~ is expanded); an SR is named by its uuid. Only the
shape is checked here: what the daemon refuses (a folder that is a file or inside its state, an SR that
Xen Orchestra does not have) it says itself, in one line.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import shlex
from typing import Any

from console.wire.restore_globs import inner_globs

Json = dict[str, Any]
SR_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
LOOKED_AT = 1000  # entries counted in a folder before saying "more than"


class TargetProblem(ValueError):
    """What is wrong with the target typed, in one line."""


def folder_of(text: str) -> str:
    """The folder to restore into, normalised; TargetProblem when it cannot be one."""
    typed = text.strip()
    if not typed:
        raise TargetProblem("type the folder to restore into: an absolute path such as /srv/restore/mail01")
    if "\0" in typed:
        raise TargetProblem("the folder's name holds a NUL character")
    path = os.path.expanduser(typed)
    if not os.path.isabs(path):
        raise TargetProblem(f"folder {typed!r} is not an absolute path: start it with / (or ~/)")
    return os.path.normpath(path)


def sr_of(text: str) -> str:
    """The SR uuid typed, or TargetProblem."""
    typed = text.strip()
    if not typed:
        raise TargetProblem("type the uuid of the SR to create the disks on (Xen Orchestra: Home, Storage)")
    if not SR_UUID.match(typed):
        raise TargetProblem(f"{typed!r} is not an SR uuid: 36 characters like 8c2f7d7e-1b4a-4c3e-9f00-5d6e7f8a9b0c")
    return typed.lower()


def folder_entries(path: str) -> int | None:
    """How many entries the folder holds (counted up to LOOKED_AT + 1), None when there is no folder there.
    Blocking (a slow or network file system): call it off the event loop."""
    try:
        with os.scandir(path) as entries:
            count = 0
            for _ in entries:
                count += 1
                if count > LOOKED_AT:
                    break
            return count
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return None  # not readable here: the daemon says what it finds


def disk_globs(names: list[str]) -> list[str]:
    """Member globs that select exactly these member names (a name may hold [, * or ?)."""
    return [glob.escape(name) for name in names]


def path_globs(text: str) -> list[str]:
    """The paths typed for a file-tree restore: one path or glob inside the archive; none is everything."""
    typed = text.strip().lstrip("/")
    return [typed] if typed else []


def selects(globs: list[str], path: str) -> bool:
    """Whether the daemon's file-tree restore with `globs` takes `path` (a folder takes what is in it)."""
    return not globs or any(fnmatch.fnmatchcase(path, g) for g in inner_globs(tuple(globs)))


def body(set_id: int, members: list[str], *, to: str | None = None, to_xo: str | None = None,
         force: bool = False) -> Json:
    """The JSON of POST /v1/restores."""
    request: Json = {"set": set_id, "members": members, "force": force}
    if to is not None:
        request["to"] = to
    else:
        request["to_xo"] = to_xo
    return request


def command(request: Json) -> str:
    """The same restore from the command line."""
    words = ["tapeconsole", "restore", str(request["set"])]
    if request.get("to"):
        words += ["--to", shlex.quote(request["to"])]
    elif request.get("to_xo"):
        words += ["--to-xo", request["to_xo"]]
    for member in request.get("members") or []:
        words += ["--member", shlex.quote(member)]
    if request.get("force"):
        words.append("--force")
    words.append("--wait")
    return " ".join(words)
