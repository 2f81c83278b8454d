"""Bytes per night against one tape: bars of the nights that ran, the forecast after them, a line at the tape.

One column per night, the newest on the right: the nights of history (bars), then the trend's forecast
(lighter bars), and a horizontal line at the usable capacity of one tape. Bars above the line are drawn in
the warning colour: those nights spill onto a second tape. The last row is a date axis. The scale always
shows the line (its top is at least 10% above the tape), so a small job reads as small.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

LEVELS = " ▁▂▃▄▅▆▇█"
LINE = "─"
HEADROOM = 1.1  # the scale's top: at least this much above the tape's capacity


@dataclass(frozen=True, slots=True)
class Night:
    night: date
    bytes: float | None  # None: no run that night
    forecast: bool = False


def columns(history: Sequence[tuple[date, float]], projection: Sequence[tuple[date, float]], width: int,
            today: date) -> list[Night]:
    """The nights to draw, oldest first, at most `width`: the forecast from tonight on (unless tonight has
    run) on a third of the width or more when the history is shorter, the rest history (nights with no run
    stay empty)."""
    if width <= 0:
        return []
    first = min((d for d, _ in history), default=today)
    ahead = max(width // 3, width - (today - first).days)  # short history: the forecast fills the width
    forecast = [p for p in projection if p[0] >= today][:ahead]
    if not history and not forecast:
        return []
    end = forecast[-1][0] if forecast else today
    first = min(first, forecast[0][0]) if forecast else first
    start = max(first, end - timedelta(days=width - 1))
    ran = dict(history)
    ahead = dict(forecast)
    nights = []
    day = start
    while day <= end:
        if day in ran:
            nights.append(Night(day, ran[day]))
        elif day in ahead:
            nights.append(Night(day, ahead[day], forecast=True))
        else:
            nights.append(Night(day, None, forecast=day > today))
        day += timedelta(days=1)
    return nights


@dataclass(frozen=True, slots=True)
class Palette:
    history: Style = Style(color="green")
    forecast: Style = Style(color="blue", dim=True)
    over: Style = Style(color="red")
    line: Style = Style(color="yellow")
    axis: Style = Style(dim=True)


def draw(nights: Sequence[Night], capacity: float, width: int, height: int, palette: Palette = Palette()) -> Text:
    """The chart as text: `height - 1` rows of bars and the date axis."""
    rows = max(1, height - 1)
    top = max([capacity * HEADROOM, *(n.bytes for n in nights if n.bytes is not None)]) or 1.0
    steps = rows * 8
    eighths = [0 if n.bytes is None or n.bytes <= 0 else max(1, round(n.bytes / top * steps)) for n in nights]
    line_row = rows - 1 - min(rows - 1, math.floor(capacity / top * rows))  # row index from the top
    text = Text(no_wrap=True, overflow="crop")
    for row in range(rows):
        floor = (rows - 1 - row) * 8
        for night, level in zip(nights, eighths, strict=True):
            cell = LEVELS[max(0, min(8, level - floor))]
            over = night.bytes is not None and night.bytes > capacity
            style = palette.over if over else palette.forecast if night.forecast else palette.history
            if row == line_row and cell != LEVELS[8]:
                text.append(LINE if cell == " " else cell, palette.line if cell == " " else style)
            else:
                text.append(cell, style)
        if row == line_row:
            text.append(LINE * max(0, width - len(nights)), palette.line)
        text.append("\n")
    text.append(axis(nights, width), palette.axis)
    return text


def axis(nights: Sequence[Night], width: int) -> str:
    """The first and last night's dates at both ends (when there is room for them)."""
    if not nights:
        return ""
    left, right = nights[0].night.isoformat(), nights[-1].night.isoformat()
    span = min(width, len(nights))
    if span >= len(left) + len(right) + 1:
        return left + " " * (span - len(left) - len(right)) + right
    return left[:span]


class CapacityChart(Widget):
    """Give it the nights of history, the forecast and the tape's usable capacity (bytes)."""

    DEFAULT_CSS = """
    CapacityChart { height: 7; width: 1fr; }
    CapacityChart > .capacity-chart--history { color: $success; }
    CapacityChart > .capacity-chart--forecast { color: $primary; text-style: dim; }
    CapacityChart > .capacity-chart--over { color: $error; }
    CapacityChart > .capacity-chart--line { color: $warning; }
    CapacityChart > .capacity-chart--axis { color: $foreground-muted; }
    """
    COMPONENT_CLASSES = {"capacity-chart--history", "capacity-chart--forecast", "capacity-chart--over",
                         "capacity-chart--line", "capacity-chart--axis"}

    def __init__(self, history: Sequence[tuple[date, float]], projection: Sequence[tuple[date, float]],
                 capacity: float, today: date, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.history = list(history)
        self.projection = list(projection)
        self.capacity = capacity
        self.today = today

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        palette = Palette(*(self.get_component_rich_style(f"capacity-chart--{part}", partial=True)
                            for part in ("history", "forecast", "over", "line", "axis")))
        return draw(columns(self.history, self.projection, width, self.today), self.capacity, width, height,
                    palette)
