"""One line about the daemon (its own CPU) and the backup server (host CPU, memory, network in, disk read), or why
it is stale."""

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
        daemon = f"daemon pid {health.get('pid')}"
        if system and system.get("daemon_cpu_percent") is not None:
            daemon += f" cpu {system['daemon_cpu_percent']:.0f}% ({system.get('daemon_threads', '?')} threads)"
        parts.append(daemon)
    if system:  # the backup server's own figures: every process on it, not only the daemon's
        window = f" over {system['window_seconds']:.0f}s" if system.get("window_seconds") else ""
        parts.append(f"host: cpu {system.get('cpu_percent', 0):.0f}% mem {system.get('memory_percent', 0):.0f}% "
                     f"net in {units.rate(system.get('net_in_rate'))} "
                     f"disk read {units.rate(system.get('disk_read_rate'))}{window}")
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
