"""The names of the six steps, the current one marked, the coming ones muted."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from console.client.restore_walk import STEP_NAMES


class StepBar(Static):
    def show(self, current: int) -> None:
        parts = []
        for index, name in enumerate(STEP_NAMES):
            style = "reverse b" if index == current else "$foreground-muted" if index > current else ""
            parts.append(Content.from_markup(f"[{style}] $name [/]" if style else " $name ", name=name))
        self.update(Content(" › ").join(parts))
