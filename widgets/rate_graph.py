"""A throughput sparkline anchored at zero, newest on the right, over the last few minutes.

Textual's Sparkline scales between the smallest and largest value, which turns a steady 70 MB/s into
noise; a tape drive's rate reads better against zero and its native speed. While the history is shorter
than the graph is wide, each sample has its own column; then columns average more samples, up to `keep`.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable

from rich.text import Text
from textual.widget import Widget

LEVELS = " ▁▂▃▄▅▆▇█"


class RateGraph(Widget):
    """Call push(value) once per sample (one a second: keep=300 is five minutes)."""

    DEFAULT_CSS = """
    RateGraph { height: 1; width: 1fr; color: $success; }
    """

    def __init__(self, samples: Iterable[float] = (), *, ceiling: float = 0.0, keep: int = 300,
                 id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.ceiling = ceiling  # the top of the scale, at least (a drive's native rate)
        self._samples: deque[float] = deque(samples, maxlen=keep)

    @property
    def samples(self) -> list[float]:
        return list(self._samples)

    def push(self, value: float) -> None:
        self._samples.append(max(0.0, value))
        self.refresh()

    def columns(self, width: int) -> list[float | None]:
        """The value of each column, oldest first; None where there is no history yet."""
        if width <= 0:
            return []
        recent = list(self._samples)
        per_column = max(1, math.ceil(len(recent) / width))
        # group from the newest sample backwards so the rightmost column is always the freshest
        groups: list[list[float]] = []
        for end in range(len(recent), 0, -per_column):
            groups.append(recent[max(0, end - per_column):end])
        values: list[float | None] = [sum(g) / len(g) for g in reversed(groups)]
        return [None] * (width - len(values)) + values

    def render(self) -> Text:
        width, height = self.size.width, max(1, self.size.height)
        values = self.columns(width)
        top = max([self.ceiling, *(v for v in values if v is not None)]) or 1.0
        steps = height * 8
        heights = [0 if v is None else (max(1, round(v / top * steps)) if v > 0 else 0) for v in values]
        rows = []
        for row in range(height):
            floor = (height - 1 - row) * 8
            rows.append("".join(LEVELS[max(0, min(8, h - floor))] for h in heights))
        return Text("\n".join(rows), no_wrap=True)
