"""What the screens, the palette and the operator's actions need of the app: a small protocol.

Screens and widgets never import the app module (the app imports them); they reach the app through this
protocol and through messages (console.tui.messages), as Harlequin's and Posting's screens do.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Protocol, cast

from textual.app import App

from console.client.daemon_link import DaemonLink
from console.client.poller import Poller, Snapshot

Json = dict[str, Any]


class ConsoleHost(Protocol):
    """The running console as its screens see it."""

    link: DaemonLink
    snapshot: Snapshot
    poller: Poller
    cursor_blink: bool

    @property
    def demo_possible(self) -> bool: ...

    def poller_soon(self) -> None: ...

    def today(self) -> date: ...

    def focused_drive(self) -> str | None: ...

    def selected_run(self) -> Json | None: ...

    def selected_job(self) -> str | None: ...

    def selected_tape(self) -> Json | None: ...


def host_of(app: App[Any]) -> ConsoleHost:
    """The console behind a screen's `self.app` (the app class implements ConsoleHost)."""
    return cast(ConsoleHost, app)
