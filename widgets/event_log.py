"""The daemon's recent events (GET /events), newest at the bottom, with the console's own notices."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import RichLog

LEVEL_STYLE = {"debug": "dim", "info": "", "warning": "yellow", "error": "bold red", "critical": "bold red"}


class EventLog(RichLog):
    """Call show(events) with each poll: only events not yet shown are written."""

    DEFAULT_CSS = """
    EventLog { height: 1fr; scrollbar-size-vertical: 1; }
    """

    def __init__(self, *, id: str | None = None, max_lines: int = 1000) -> None:
        super().__init__(id=id, max_lines=max_lines, wrap=True, markup=False, highlight=False, auto_scroll=True)
        self.last_seq = 0

    def show(self, events: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> None:
        if events and events[-1]["seq"] < self.last_seq:  # a new daemon: its events are numbered from 1 again
            self.last_seq = 0
            self.write(Text("— the daemon restarted —", style="dim"))
        for event in events:
            if event["seq"] <= self.last_seq:
                continue
            self.last_seq = event["seq"]
            line = Text()
            line.append(event["time"][-8:], style="dim")
            line.append(f" {event['source']:<7} ", style="cyan")
            line.append(event["message"], style=LEVEL_STYLE.get(event["level"], ""))
            self.write(line)

    def note(self, text: str, *, warning: bool = False) -> None:
        """A line from the console itself (an action and its outcome)."""
        line = Text()
        line.append("console ", style="magenta")
        line.append(text, style="yellow" if warning else "")
        self.write(line)
