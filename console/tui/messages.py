"""The console's messages: small dataclasses. A newer DaemonUpdate replaces one still queued."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from console.client.poller import Snapshot
from console.wire.restore_catalog import RestoreCatalog


@dataclass
class DaemonUpdate(Message):
    """A fresh look at the daemon. Only the newest matters, so a queued one is replaced."""

    snapshot: Snapshot

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, DaemonUpdate)


@dataclass
class ActionFinished(Message):
    """An operator action ended: `text` is the notice to show, `ok` whether the daemon did it."""

    action: str
    text: str
    ok: bool = True


@dataclass
class CatalogLoaded(Message):
    """The restore walkthrough's catalog (GET /v1/restore-catalog): sets, member lists, jobs, restore runs."""

    catalog: RestoreCatalog


# ---- the restore walkthrough's steps, to its screen (console/tui/screens/restore_steps/)
@dataclass
class RestoreWhatChosen(Message):
    """1 What: a VM's disk or a job's file tree (its key in the walk's targets)."""

    key: str


@dataclass
class RestoreFilesTyped(Message):
    """1 What, files: the path being typed, once the keys paused (the files holding it are listed)."""

    text: str


@dataclass
class RestoreFilesAccepted(Message):
    """1 What, files: Enter on the path typed."""

    text: str


@dataclass
class RestoreFilePicked(Message):
    """1 What, files: one of the files listed (its index in the walk's rows)."""

    index: int


@dataclass
class RestoreNightChosen(Message):
    """2 Night: the run chosen."""

    run: str


@dataclass
class RestoreToKindChosen(Message):
    """4 Where to: into a folder, or into Xen Orchestra (a disk only)."""

    to_xo: bool


@dataclass
class RestoreToTyped(Message):
    """4 Where to: the folder or SR uuid as typed so far."""

    text: str


@dataclass
class RestoreToSubmitted(Message):
    """4 Where to: Enter: start the restore."""

    text: str
