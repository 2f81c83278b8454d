"""MANIFEST.json, the last member of every set: each member's name, size and sha256, the job, the source
and the times. A restore, verify or scan trusts nothing else about what the set holds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MANIFEST_NAME = "MANIFEST.json"
MANIFEST_FORMAT = "tapeconsole-set"
MANIFEST_VERSION = 1
RESERVED_MANIFEST_KEYS = frozenset({"format", "format_version", "record_size", "members"})


def manifest_digests(manifest: Mapping[str, Any]) -> dict[str, str]:
    return {m["name"]: m["sha256"] for m in manifest.get("members", [])}
