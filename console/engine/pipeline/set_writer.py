"""Write one backup set (one tape file) from a MemberCursor, through the buffer, to the drive.

The set closes at a member boundary when the tape's space runs out (or early warning comes): the
cursor keeps the rest for the next tape. A source that fails mid-member has the member's declared
length padded with zeros, the set closed with a manifest that says so, and the set marked failed,
so the tape file stays a valid tar and nothing is claimed complete.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from console.engine.drives.base import Drive, DriveError, NotSupported
from console.engine.pipeline.buffer import BufferCancelled, TapeBuffer
from console.engine.pipeline.drive_writer import DriveWriter, PhysicalEndOfTape
from console.engine.pipeline.parts import MemberCursor, Part
from console.engine.tapeformat.tar_headers import TarSetError
from console.engine.tapeformat.tar_writer import TarSetWriter

MANIFEST_RESERVE = 4 * 1024 * 1024  # room kept for MANIFEST.json, the end-of-archive and the filemark
MIN_PART = 1024 * 1024  # below this much room the set is closed rather than a tiny part written


class SetCancelled(Exception):
    pass


@dataclass
class SetProgress:
    """What the console shows while a set is written (read from other threads)."""

    member: str | None = None
    member_bytes: int = 0
    member_length: int | None = None
    bytes_in: int = 0


@dataclass
class SetOutcome:
    members: list[dict[str, Any]]
    manifest: dict[str, Any] | None
    bytes_on_tape: int
    state: str  # complete, incomplete (tape full, continues on next tape), failed, cancelled
    error: str | None
    tape_full: bool
    records: int
    started: float
    ended: float
    index_entries: list[dict[str, Any]] = field(default_factory=list)
    at_physical_end: bool = False  # the drive said ENOSPC twice: nothing more fits on this tape
    writing_seconds: float = 0.0  # from the drive's first record to its filemark
    underruns: int = 0  # times the buffer ran dry after its initial fill


class _Guard:
    """Wraps a part's chunks: on a source failure, remembers it and pads the declared length with zeros."""

    def __init__(self, part: Part, progress: SetProgress, cancel: threading.Event) -> None:
        self.part = part
        self.progress = progress
        self.cancel = cancel
        self.error: BaseException | None = None

    def __iter__(self) -> Iterator[bytes | memoryview]:
        sent = 0
        try:
            for chunk in self.part.chunks:
                if self.cancel.is_set():
                    raise SetCancelled("cancelled by the operator")
                sent += len(chunk)
                self.progress.member_bytes = self.part.offset + sent
                self.progress.bytes_in += len(chunk)
                yield chunk
        except Exception as exc:  # SourceStreamError, SetCancelled, a source's own (XoError...), OSError
            self.error = exc
        left = self.part.length - sent
        zeros = memoryview(bytes(min(left, 1024 * 1024)))
        while left > 0:
            piece = zeros[: min(left, len(zeros))]
            left -= len(piece)
            yield piece


def write_set(
    drive: Drive,
    cursor: MemberCursor,
    *,
    record_size: int,
    buffer_bytes: int,
    space_left: int,
    part_bytes: int,
    manifest_fields: dict[str, Any],
    progress: SetProgress,
    cancel: threading.Event,
    on_buffer: Callable[[TapeBuffer, DriveWriter], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> SetOutcome:
    """Write the next set at the drive's current position (the caller placed it at end of data)."""
    started = clock()
    buffer = TapeBuffer(buffer_bytes)
    writer = DriveWriter(drive, buffer, name=f"writer-{drive.name}")
    if on_buffer is not None:
        on_buffer(buffer, writer)
    writer.start()
    tar = TarSetWriter(buffer.put, record_size)
    members: list[dict[str, Any]] = []
    error: BaseException | None = None
    tape_full = False
    try:
        while cursor.has_more():
            if cancel.is_set():
                error = SetCancelled("cancelled by the operator")
                break
            if writer.error is not None:
                break
            if writer.early_warning.is_set():
                tape_full = True
                break
            room = space_left - tar.offset - MANIFEST_RESERVE
            if room < MIN_PART:
                tape_full = True
                break
            try:
                part = cursor.next_part(min(part_bytes, room))
            except Exception as exc:  # the source could not open the member (HTTP error, bad VHD head, ...)
                error = exc
                cursor.abandon()
                break
            guard = _Guard(part, progress, cancel)
            progress.member, progress.member_length = part.member.name, part.member.length
            record = tar.add_member(part.name, part.length, guard, mtime=part.member.mtime or clock())
            entry = {
                "name": part.name,
                "member": part.member.name,
                "part": part.index,
                "part_offset": part.offset,
                "last_part": part.last,
                "size": record.size,
                "sha256": record.sha256,
                "offset": record.data_offset,
                "header_offset": record.header_offset,
                "source": part.member.source,
                **part.member.extra,
            }
            if guard.error is not None:
                error = guard.error
                entry["incomplete"] = f"padded with zeros after: {guard.error}"
                members.append(entry)
                cursor.abandon()
                break
            members.append(entry)
    except BufferCancelled:
        if cancel.is_set() and writer.error is None:  # the operator cancelled: the buffer was emptied
            error = SetCancelled(buffer.cancelled or "cancelled by the operator")  # worded after the join
            cursor.abandon()
    except Exception as exc:  # a source failing between members (listing, a stream that ran long, ...)
        error = exc
        cursor.abandon()
    state = "complete"
    if writer.error is not None:
        state, message = "failed", f"drive {drive.name}: {writer.error}"
    elif isinstance(error, SetCancelled):
        state, message = "cancelled", str(error)
    elif error is not None:
        state, message = "failed", str(error)
    elif tape_full and cursor.has_more():
        state, message = "incomplete", None
    else:
        message = None
    manifest = None
    if writer.error is None and buffer.cancelled is None:
        try:
            parts = [{k: v for k, v in m.items() if k not in ("sha256", "offset", "header_offset", "size")}
                     for m in members]
            manifest = tar.finish({**manifest_fields, "state": state, "error": message,
                                   "continues_on_next_tape": state == "incomplete", "parts": parts})
            buffer.close()
        except (BufferCancelled, TarSetError):  # cancelled by the operator meanwhile: no manifest
            pass
    elif writer.error is not None:
        buffer.cancel(message or "drive failed")
    writer.join()
    if buffer.cancelled is not None and writer.error is None and cancel.is_set():
        # cut at the record the drive stopped at: a member whose data was still in the buffer is not on tape,
        # nor the manifest (however far its writing got)
        members = [m for m in members if m["offset"] + m["size"] <= writer.bytes_written]
        state, manifest = "cancelled", None
        message = (f"{buffer.cancelled}: the set ends where the drive stopped and has no manifest; the members "
                   "recorded before it restore")
    if writer.error is not None and state != "failed":
        state, message = "failed", f"drive {drive.name}: {writer.error}"
    return SetOutcome(
        members=members,
        manifest=manifest,
        bytes_on_tape=writer.bytes_written,
        state=state,
        error=message,
        tape_full=tape_full or writer.early_warning.is_set(),
        records=writer.records_written,
        started=started,
        ended=clock(),
        at_physical_end=isinstance(writer.error, PhysicalEndOfTape),
        writing_seconds=writer.writing_seconds,
        underruns=buffer.stats().underruns,
    )


def first_block_of_set(drive: Drive) -> int | None:
    """Where the set starts (a logical object number), when the drive can tell."""
    try:
        return drive.tell_block()
    except (NotSupported, DriveError):
        return None

