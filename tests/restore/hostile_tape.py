"""Hand-made tape files, as an attacker (or a broken writer) would put them on a tape: any tar member type,
any manifest. Appended after what the tape holds, then found by `scan`."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from dataclasses import dataclass, field
from typing import Any

from console.engine.drives.base import Drive

Json = dict[str, Any]


@dataclass
class Outer:
    name: str
    data: bytes = b""
    kind: bytes = tarfile.REGTYPE
    linkname: str = ""
    listed: Json = field(default_factory=dict)  # manifest fields that lie about this member


def hostile_set(members: list[Outer], record_size: int, manifest: Json | None = None) -> tuple[bytes, Json]:
    buffer = io.BytesIO()
    entries = []
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for member in members:
            info = tarfile.TarInfo(member.name)
            info.type, info.linkname, info.mtime, info.mode = member.kind, member.linkname, 1_700_000_000, 0o644
            info.size = len(member.data) if member.kind == tarfile.REGTYPE else 0
            offset = buffer.tell()
            tar.addfile(info, io.BytesIO(member.data) if info.size else None)
            entries.append({"name": member.name, "size": len(member.data), "mode": 0o644, "mtime": 1_700_000_000,
                            "sha256": hashlib.sha256(member.data).hexdigest(), "header_offset": offset,
                            "data_offset": offset + 512, **member.listed})
        fields = {"format": "tapeconsole-set", "format_version": 1, "record_size": record_size, "job": "nightly-vdi",
                  "run": 99, "set": 99, "source": "xo", "pool": "vdi-daily", "state": "complete",
                  "started": "2026-01-01T00:00:00+00:00", "members": entries}
        fields.update(manifest or {})
        raw = json.dumps(fields).encode()
        info = tarfile.TarInfo("MANIFEST.json")
        info.size, info.mtime = len(raw), 1_700_000_000
        tar.addfile(info, io.BytesIO(raw))
    data = buffer.getvalue()
    return data + bytes(-len(data) % record_size), fields


def append_to_tape(drive: Drive, data: bytes, record_size: int) -> None:
    drive.end_of_data()
    for at in range(0, len(data), record_size):
        drive.write_block(data[at:at + record_size])
    drive.write_filemarks(1)
