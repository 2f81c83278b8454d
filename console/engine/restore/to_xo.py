"""Restoring VM disks into Xen Orchestra: each disk as a new VDI on a chosen SR, through the REST import.

A disk's VHDs are applied in tape order, which is chain order: the first (the full, or the only VHD of an
XO export) creates the VDI (POST /srs/{sr}/vdis), every later delta of the same VDI is imported onto it
(PUT /vdis/{id}.vhd). Each upload streams straight from the tape with its Content-Length (the member's
size, parts joined), and is abandoned if a piece does not match its sha256.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from console.engine.refusals import NotFound, Refused
from console.engine.restore.catalog import Member, Piece, disk_of
from console.engine.restore.pipe import ChunkPipe
from console.engine.sources.xo_client import XoClient, XoError

Json = dict[str, Any]
XoConnect = Callable[[], XoClient]  # returns a client the caller does not close


def is_disk(member: Member) -> bool:
    return member.name.endswith((".vhd", ".raw"))


def xo_problem(member: Member) -> str | None:
    """Why a disk member cannot go back into XO, or None."""
    if member.name.endswith(".alias.vhd") or ".vhd/" in member.name:
        return "a block-mode VHD (a folder of blocks): restore it to a folder instead"
    if not is_disk(member):
        return "not a disk: only .vhd and .raw members go back into XO"
    return None


def check_sr(connect: XoConnect | None, sr: str) -> Json:
    """The SR to restore onto, or a one-line refusal."""
    if connect is None:
        raise Refused("no Xen Orchestra is configured ([xo] in config.toml)")
    try:
        srs = connect().list_srs(fields="id,name_label,content_type")
    except (XoError, LookupError) as exc:
        raise Refused(f"cannot list the SRs of Xen Orchestra: {exc}") from None
    for found in srs:
        if found["id"] == sr:
            return found
    names = ", ".join(f"{s.get('name_label')} ({s['id']})" for s in srs) or "none"
    raise NotFound(f"Xen Orchestra has no SR {sr} (SRs: {names})")


def _disk_label(member: Member, tape: str, night: str | None) -> str:
    vm, vdi = disk_of(member.entry)
    stem = member.name.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    if vdi and stem.endswith(vdi):  # an XO export: '<vdi name>-<uuid>'
        stem = stem[: -len(vdi) - 1] or stem
    elif vdi:  # a backup remote: '<timestamp>' in the VDI's folder
        stem = f"{vm or 'vm'} disk {vdi[:8]}"
    return f"{stem} (restored from {tape}{', night of ' + night if night else ''})"


class XoSink:
    """Uploads disks into XO as they come off the tape; one upload at a time, chains onto their VDI."""

    def __init__(self, connect: XoConnect, sr: str, *, tape: str, night: str | None) -> None:
        self.connect = connect
        self.sr = sr
        self.tape = tape
        self.night = night
        self.refused: list[Json] = []
        self.notes: list[str] = []
        self.vdis: dict[tuple[str | None, str | None], str] = {}  # (vm, vdi) of the backup -> the new VDI
        self._pipe: ChunkPipe | None = None
        self._thread: threading.Thread | None = None
        self._outcome: Json = {}
        self._problem: str | None = None

    @property
    def satisfied(self) -> bool:
        return False

    def begin(self, member: Member, mtime: float) -> None:
        key = disk_of(member.entry)
        onto = self.vdis.get(key) if key[1] else None
        fmt = "raw" if member.name.endswith(".raw") else "vhd"
        if onto is not None and fmt == "raw":
            raise Refused(f"{member.name}: a raw disk cannot be applied onto VDI {onto}")
        pipe = ChunkPipe()
        self._pipe, self._problem = pipe, None
        self._outcome = {"name": member.name, "ok": False, "sr": self.sr, "created": onto is None}
        client = self.connect()
        label = _disk_label(member, self.tape, self.night)

        def upload() -> None:
            try:
                importer = client.import_vdi_raw if fmt == "raw" else client.import_vdi_vhd
                if onto is None:
                    vdi_id = importer(pipe.chunks(), member.size, sr_id=self.sr, name_label=label)
                else:
                    vdi_id = importer(pipe.chunks(), member.size, vdi_id=onto)
                self._outcome.update(ok=True, vdi=vdi_id, name_label=label if onto is None else None)
            except Exception as exc:  # XoError, PipeFailed, an HTTP error: reported on the member
                self._outcome["problem"] = f"import into XO failed: {exc}"
            finally:
                pipe.close_reader()

        self._thread = threading.Thread(target=upload, name="restore-xo-upload", daemon=True)
        self._thread.start()

    def write(self, data: memoryview) -> None:
        assert self._pipe is not None
        self._pipe.put(bytes(data))

    def piece_done(self, member: Member, piece: Piece, problem: str | None) -> None:
        if problem and self._problem is None and self._pipe is not None:
            self._problem = problem
            self._pipe.fail(problem)

    def finish(self, member: Member) -> Json:
        assert self._pipe is not None and self._thread is not None
        if self._problem is None:
            self._pipe.finish()
        self._thread.join()
        outcome = dict(self._outcome)
        if self._problem:
            outcome.update(ok=False, problem=self._problem)
        elif outcome.get("ok"):
            self.vdis[disk_of(member.entry)] = outcome["vdi"]
        self._pipe = self._thread = None
        return outcome

    def abort(self, member: Member, reason: str) -> None:
        if self._pipe is not None and self._thread is not None:
            self._pipe.fail(reason)
            self._thread.join()
        self._pipe = self._thread = None

    def close(self) -> list[Json]:
        return []
