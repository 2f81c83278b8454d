"""One line about the backup server and the daemon: CPU, memory, network in, disk read, or why it is stale."""

from __future__ import annotations

from typing import Any

from textual.content import Content
from textual.widgets import Static

from console.wire import units


def system_line(system: dict[str, Any] | None, health: dict[str, Any] | None, error: str | None) -> Content:
    if error:
        return Content.from_markup("[$error bold]daemon not answering[/] $why (retrying)", why=error)
    parts = []
    if health:
        parts.append(f"daemon pid {health.get('pid')}")
    if system:
        parts.append(f"cpu {system.get('cpu_percent', 0):.0f}%")
        parts.append(f"mem {system.get('memory_percent', 0):.0f}%")
        parts.append(f"net in {units.rate(system.get('net_in_rate'))}")
        parts.append(f"disk read {units.rate(system.get('disk_read_rate'))}")
    return Content(" · ".join(parts) or "connecting to the daemon…")


class SystemStrip(Static):
    DEFAULT_CSS = """
    SystemStrip { height: 1; width: 1fr; color: $foreground-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    def show(self, system: dict[str, Any] | None, health: dict[str, Any] | None, error: str | None) -> None:
        line = system_line(system, health, error)
        if line.markup != getattr(self, "_shown", None):
            self._shown = line.markup
            self.update(line, layout=False)
