"""A changed config file is an audited event: at daemon start, compare it with the one the last start saw.

The sha256 of the config text is kept in the inventory's state, and a copy of the text under the state
folder (config.last.toml, mode 0600) so the next start can name which tables and keys changed. Only key
names go into the audit entry, never values (a config may name secrets' files, and values are the file's
business). The user is the daemon's: whoever edited the file is not known to it; the file's owner and
modification time are recorded beside.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pwd
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from console.engine.inventory import Inventory
from console.engine.inventory.audit_log import SYSTEM_USER

STATE_KEY = "config_sha256"
COPY_NAME = "config.last.toml"
log = logging.getLogger("tapeconsole.daemon")


def changed_keys(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[str]]:
    """Keys by dotted name (e.g. "pools.vdi-daily.retention_days") that were added, removed or changed."""
    out: dict[str, list[str]] = {"added": [], "removed": [], "changed": []}
    for key in sorted(set(old) | set(new)):
        if key not in old:
            out["added"].append(key)
        elif key not in new:
            out["removed"].append(key)
        elif old[key] != new[key]:
            a, b = old[key], new[key]
            if isinstance(a, dict) and isinstance(b, dict):
                inner = changed_keys(a, b)
                for kind, names in inner.items():
                    out[kind] += [f"{key}.{name}" for name in names]
            else:
                out["changed"].append(key)
    return out


def _table_keys(text: str) -> dict[str, Any] | None:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None


def _owner(path: Path) -> tuple[str, str]:
    info = path.stat()
    try:
        owner = pwd.getpwuid(info.st_uid).pw_name
    except KeyError:
        owner = f"uid {info.st_uid}"
    return owner, datetime.fromtimestamp(info.st_mtime, UTC).isoformat(timespec="seconds")


def _keep_copy(copy: Path, text: str) -> None:
    tmp = copy.with_name(f".{copy.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, copy)


def audit_config_change(config_path: Path, state_dir: Path, inventory: Inventory) -> dict[str, Any] | None:
    """Audit "config-first-seen" or "config-changed" when the config differs from the last start's.
    Returns the entry, None when nothing changed. Never stops the daemon: a failure is logged as an error."""
    try:
        return _audit_change(Path(config_path), state_dir, inventory)
    except (OSError, ValueError) as exc:
        log.error("config %s: could not audit a change of it: %s", config_path, exc)
        return None


def _audit_change(config_path: Path, state_dir: Path, inventory: Inventory) -> dict[str, Any] | None:
    text = config_path.read_text(encoding="utf-8")
    new_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
    old_hash = inventory.get_state(STATE_KEY)
    if old_hash == new_hash:
        return None
    copy = state_dir / COPY_NAME
    owner, modified = _owner(config_path)
    details: dict[str, Any] = {"file": str(config_path), "sha256": new_hash, "file_owner": owner,
                               "modified": modified}
    if old_hash is None:
        entry = inventory.audit("config-first-seen", SYSTEM_USER, **details)
    else:
        old_text = copy.read_text(encoding="utf-8") if copy.exists() else None
        old, new = _table_keys(old_text) if old_text is not None else None, _table_keys(text)
        details["old_sha256"] = old_hash
        if old_text is None:
            details["keys"] = f"unknown: no copy of the previous config in {copy}"
        elif hashlib.sha256(old_text.encode("utf-8")).hexdigest() != old_hash:
            details["keys"] = f"unknown: {copy} is not the previous config (changed by hand?)"
        elif old is None or new is None:
            details["keys"] = "unknown: the previous config does not parse"
        else:
            details.update({kind: names for kind, names in changed_keys(old, new).items() if names})
        entry = inventory.audit("config-changed", SYSTEM_USER, **details)
    _keep_copy(copy, text)
    inventory.set_state(STATE_KEY, new_hash)
    log.info("config %s: %s (sha256 %s)", config_path, entry["action"], new_hash[:12])
    return entry
