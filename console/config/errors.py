"""Config errors that name the file, the line and the key, so a bad config.toml is fixed in one look."""

from __future__ import annotations

import re
from pathlib import Path

_TABLE = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_\-]+)\s*=""")


class ConfigError(Exception):
    """A config problem; str() is the single line the operator sees."""

    def __init__(self, path: Path | None, key: str, message: str, line: int | None = None) -> None:
        self.path = path
        self.key = key
        self.message = message
        self.line = line
        where = str(path) if path else "config"
        if line:
            where += f":{line}"
        text = f"{where}: {key}: {message}" if key else f"{where}: {message}"
        super().__init__(text.replace("\r", "\\r").replace("\n", "\\n"))  # always one line


def _split_key(dotted: str) -> list[str]:
    parts: list[str] = []
    for match in re.finditer(r'"([^"]*)"|([^.]+)', dotted):
        parts.append(match.group(1) if match.group(1) is not None else match.group(2).strip())
    return parts


def _unquote(name: str) -> str:
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] and name[0] in "\"'":
        return name[1:-1]
    return name


def find_line(text: str, dotted_key: str) -> int | None:
    """The 1-based line where `dotted_key` (e.g. 'drives.lto5.generation') is set in TOML text.

    Falls back to the line of the closest enclosing table header, so an error about a missing key
    still points at its table. Handles the common TOML shapes; None when nothing matches.
    """
    wanted = _split_key(dotted_key)
    table: list[str] = []
    best: int | None = None
    best_depth = -1
    for number, raw in enumerate(text.splitlines(), start=1):
        header = _TABLE.match(raw)
        if header:
            table = [_unquote(p) for p in _split_key(header.group(1))]
            depth = len(table)
            if table == wanted[:depth] and depth > best_depth:
                best, best_depth = number, depth
            continue
        key = _KEY.match(raw)
        if key:
            full = table + [_unquote(p) for p in _split_key(_unquote(key.group(1)))]
            if full == wanted:
                return number
            depth = len(full)
            if full == wanted[:depth] and depth > best_depth:
                best, best_depth = number, depth
    return best
