"""Tape file 0: the label, a small tar with TAPECONSOLE-LABEL.json and README.txt."""

from __future__ import annotations

import io
import json
import re
import tarfile
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from console.wire.labels import check_label_text
from console.wire.lto import GENERATIONS

LABEL_MEMBER = "TAPECONSOLE-LABEL.json"
README_MEMBER = "README.txt"
FORMAT_VERSION = 1
BARCODE_TEXT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
POOL_TEXT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class LabelError(Exception):
    """Tape file 0 is not a tapeconsole label (or is damaged)."""


@dataclass(frozen=True, slots=True)
class TapeLabel:
    label: str
    barcode: str
    pool: str
    generation: str
    uuid: str
    created: str  # ISO 8601, UTC
    format_version: int = FORMAT_VERSION
    writer: str = "tapeconsole"

    @classmethod
    def new(cls, label: str, barcode: str, pool: str, generation: str, created: datetime) -> TapeLabel:
        return cls(
            label=label,
            barcode=barcode,
            pool=pool,
            generation=generation,
            uuid=str(uuid.uuid4()),
            created=created.isoformat(timespec="seconds"),
        )

    def to_json(self) -> dict:
        return asdict(self)


def readme_text(label: TapeLabel, record_size: int = 262144) -> str:
    template = (Path(__file__).with_name("README.txt.in")).read_text(encoding="utf-8")
    return template.format(label=label.label, pool=label.pool, generation=label.generation, created=label.created,
                           record_kib=record_size // 1024, blocking=record_size // 512)


def build_label_file(label: TapeLabel, record_size: int) -> bytes:
    """The label as a POSIX tar padded to whole records of `record_size` bytes (tar -b record_size/512)."""
    buffer = io.BytesIO()
    mtime = datetime.fromisoformat(label.created).timestamp()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (
            (LABEL_MEMBER, json.dumps(label.to_json(), indent=2).encode() + b"\n"),
            (README_MEMBER, readme_text(label, record_size).encode()),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(mtime)
            info.mode = 0o444
            info.uname = info.gname = "tapeconsole"
            tar.addfile(info, io.BytesIO(data))
    data = buffer.getvalue()
    padding = -len(data) % record_size
    return data + bytes(padding)


def parse_label_file(data: bytes) -> TapeLabel:
    """Read a label back from the bytes of tape file 0."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            member = tar.getmember(LABEL_MEMBER)
            handle = tar.extractfile(member)
            if handle is None:
                raise LabelError(f"{LABEL_MEMBER} is not a regular file")
            fields = json.loads(handle.read())
    except KeyError:
        raise LabelError(f"tape file 0 is a tar without {LABEL_MEMBER}: not a tapeconsole tape") from None
    except (tarfile.TarError, ValueError, RecursionError, EOFError) as exc:  # JSON and UTF-8 errors are ValueErrors
        raise LabelError(f"tape file 0 is not a tapeconsole label ({exc.__class__.__name__}: {exc})") from None
    return checked_label(fields)


def checked_label(fields: Any) -> TapeLabel:
    """The label, when every field read from tape is of the kind expected; else LabelError naming it."""
    if not isinstance(fields, dict):
        raise LabelError(f"{LABEL_MEMBER} must be a JSON object, got {type(fields).__name__}")
    unknown = sorted(set(fields) - set(TapeLabel.__dataclass_fields__))
    if unknown:
        raise LabelError(f"{LABEL_MEMBER} has unexpected fields: {', '.join(repr(k)[:40] for k in unknown)[:120]}")
    for key in ("label", "barcode", "pool", "generation", "uuid", "created"):
        if not isinstance(fields.get(key), str):
            raise LabelError(f"{LABEL_MEMBER}: {key} must be text, got {str(fields.get(key))[:40]!r}")
    problem = check_label_text(fields["label"])
    if problem:
        raise LabelError(f"{LABEL_MEMBER}: {problem}")
    for key, pattern in (("barcode", BARCODE_TEXT), ("pool", POOL_TEXT)):
        if not pattern.match(fields[key]):
            raise LabelError(f"{LABEL_MEMBER}: {key} {fields[key][:40]!r} is not a valid {key}")
    if fields["generation"] not in GENERATIONS:
        raise LabelError(f"{LABEL_MEMBER}: generation must be one of {', '.join(GENERATIONS)}, "
                         f"got {fields['generation'][:20]!r}")
    try:
        uuid.UUID(fields["uuid"])
        datetime.fromisoformat(fields["created"])
    except ValueError:
        raise LabelError(f"{LABEL_MEMBER}: uuid must be a UUID and created an ISO 8601 time, got "
                         f"{fields['uuid'][:40]!r} and {fields['created'][:40]!r}") from None
    version = fields.get("format_version", FORMAT_VERSION)
    if type(version) is not int or not 1 <= version <= 1000:
        raise LabelError(f"{LABEL_MEMBER}: format_version must be a whole number, got {str(version)[:20]!r}")
    if not isinstance(fields.get("writer", "tapeconsole"), str):
        raise LabelError(f"{LABEL_MEMBER}: writer must be text")
    return TapeLabel(**fields)
