"""The console's messages: small dataclasses. A newer DaemonUpdate replaces one still queued."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from console.client.poller import Snapshot


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
class SetsLoaded(Message):
    """Backup sets with their member lists, fetched for the restore walkthrough."""

    sets: list[dict]
    jobs: list[dict]
    details: dict[int, dict]  # set id -> the set with its members
