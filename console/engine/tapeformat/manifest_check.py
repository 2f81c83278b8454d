"""A set's MANIFEST.json as read from tape, checked before anything of it enters the inventory.

What a tape says is outside input: a hostile or damaged manifest must not poison the inventory (a run
that is an object, a size of 10 TB in a 1 MiB tape file). `checked_manifest()` returns the manifest when
every field the inventory takes is of the kind and range expected, and when its members fit in the tape
file they were read from; else ManifestError, one line naming the field and what was expected.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

Json = dict[str, Any]
SHA256 = re.compile(r"^[0-9a-f]{64}$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
STATES = ("complete", "incomplete", "failed", "cancelled")
MAX_MEMBERS = 1_000_000
MAX_TEXT = 4096
BLOCK = 512


class ManifestError(ValueError):
    """A manifest that cannot be believed; str() is one line."""


def _whole(value: Any, what: str, *, low: int = 0, high: int = 2**62) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ManifestError(f"{what} must be a whole number from {low} to {high}, got {_shown(value)}")
    return value


def _text(value: Any, what: str, *, optional: bool = True, pattern: re.Pattern[str] | None = None) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value and not optional or len(value) > MAX_TEXT or "\0" in value:
        raise ManifestError(f"{what} must be text, got {_shown(value)}")
    if pattern is not None and not pattern.match(value):
        raise ManifestError(f"{what} {value[:64]!r} is not a valid name")
    return value


def _moment(value: Any, what: str) -> None:
    if value is None:
        return
    _text(value, what)
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ManifestError(f"{what} must be an ISO 8601 time, got {_shown(value)}") from None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _member(entry: Any, i: int, file_bytes: int | None) -> None:
    what = f"members[{i}]"
    if not isinstance(entry, Mapping):
        raise ManifestError(f"{what} must be an object, got {_shown(entry)}")
    _text(entry.get("name"), f"{what}.name", optional=False)
    size = _whole(entry.get("size"), f"{what}.size")
    sha = entry.get("sha256")
    if not isinstance(sha, str) or not SHA256.match(sha):
        raise ManifestError(f"{what}.sha256 must be 64 lower-case hex digits, got {_shown(sha)}")
    header = _whole(entry.get("header_offset"), f"{what}.header_offset")
    data = _whole(entry.get("data_offset"), f"{what}.data_offset", low=header + BLOCK)
    if header % BLOCK or data % BLOCK:
        raise ManifestError(f"{what}: offsets must be multiples of {BLOCK}, got {header} and {data}")
    if file_bytes is not None and data + size > file_bytes:
        raise ManifestError(f"{what} ({entry['name'][:64]!r}) claims {size} bytes at offset {data}, "
                            f"past the end of its tape file ({file_bytes} bytes)")
    mtime = entry.get("mtime")
    if mtime is not None and (type(mtime) not in (int, float) or not -2**40 < mtime < 2**40):
        raise ManifestError(f"{what}.mtime must be a number of seconds, got {_shown(mtime)}")
    if entry.get("mode") is not None:
        _whole(entry.get("mode"), f"{what}.mode", high=0o7777777)
    _text(entry.get("error"), f"{what}.error")


def checked_manifest(manifest: Any, *, file_bytes: int | None = None) -> Json:
    """The manifest, when the inventory may take it (see the module's doc); else ManifestError."""
    if not isinstance(manifest, dict):
        raise ManifestError(f"the manifest must be a JSON object, got {_shown(manifest)}")
    for key in ("job", "source", "error"):
        _text(manifest.get(key), key)
    _text(manifest.get("pool"), "pool", pattern=NAME)
    for key in ("run", "set", "continues_set"):
        if manifest.get(key) is not None:
            _whole(manifest.get(key), key)
    if manifest.get("record_size") is not None:
        size = _whole(manifest.get("record_size"), "record_size", low=BLOCK, high=64 * 1024 * 1024)
        if size % BLOCK:
            raise ManifestError(f"record_size must be a multiple of {BLOCK}, got {size}")
    state = manifest.get("state")
    if state is not None and state not in STATES:
        raise ManifestError(f"state must be one of {', '.join(STATES)}, got {_shown(state)}")
    for key in ("started", "ended"):
        _moment(manifest.get(key), key)
    members = manifest.get("members", [])
    if not isinstance(members, list) or len(members) > MAX_MEMBERS:
        raise ManifestError(f"members must be a list of at most {MAX_MEMBERS}, got {_shown(members)}")
    names: set[str] = set()
    for i, entry in enumerate(members):
        _member(entry, i, file_bytes)
        if entry["name"] in names:
            raise ManifestError(f"members[{i}]: the name {entry['name'][:64]!r} is listed twice")
        names.add(entry["name"])
    parts = manifest.get("parts")
    if parts is not None:
        if not isinstance(parts, list):
            raise ManifestError(f"parts must be a list, got {_shown(parts)}")
        for i, part in enumerate(parts):
            _part(part, i)
    return manifest


def _part(part: Any, i: int) -> None:
    what = f"parts[{i}]"
    if not isinstance(part, Mapping):
        raise ManifestError(f"{what} must be an object, got {_shown(part)}")
    _text(part.get("name"), f"{what}.name", optional=False)
    for key in ("member", "index", "source", "incomplete", "vm", "vdi"):
        _text(part.get(key), f"{what}.{key}")
    for key in ("part", "part_offset"):
        if part.get(key) is not None:
            _whole(part.get(key), f"{what}.{key}")
    if part.get("last_part") is not None and type(part.get("last_part")) is not bool:
        raise ManifestError(f"{what}.last_part must be true or false, got {_shown(part.get('last_part'))}")
