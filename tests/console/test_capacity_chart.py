"""The capacity chart's drawing: which nights it shows, the bars in eighths, the tape's line, the colours."""

from __future__ import annotations

from datetime import date, timedelta

from rich.style import Style
from rich.text import Text

from widgets.capacity_chart import Night, Palette, columns, draw

DAY = date(2026, 1, 1)
PALETTE = Palette(history=Style(color="green"), forecast=Style(color="blue"), over=Style(color="red"),
                  line=Style(color="yellow"), axis=Style(dim=True))


def day(n: int) -> date:
    return DAY + timedelta(days=n)


def style_at(text: Text, offset: int) -> Style | str | None:
    found = [s.style for s in text.spans if s.start <= offset < s.end]
    return found[-1] if found else None


def test_columns_keep_a_third_for_the_forecast_and_leave_nights_without_a_run_empty() -> None:
    history = [(day(n), 100.0) for n in range(40) if n != 38]  # no run on night 38
    projection = [(day(n), 200.0) for n in range(39, 100)]  # from tonight (night 39) on
    nights = columns(history, projection, 30, day(39))
    assert len(nights) == 30 and nights[-1] == Night(day(48), 200.0, forecast=True)  # 10 nights ahead
    assert nights[0].night == day(19) and not nights[0].forecast
    assert nights[19] == Night(day(38), None)  # the night with no run
    assert [n.night for n in nights] == [day(19 + i) for i in range(30)]
    assert columns([], [], 10, day(0)) == []  # nothing yet
    assert columns(history, [], 10, day(39))[-1].night == day(39)
    short = columns(history[:5], projection=[(day(n), 1.0) for n in range(5, 65)], width=30, today=day(5))
    assert len(short) == 30 and sum(n.forecast for n in short) == 25  # a short history: the forecast fills in


def test_bars_in_eighths_under_and_over_the_tapes_line() -> None:
    nights = [Night(day(0), 50), Night(day(1), 100), Night(day(2), 200), Night(day(3), 120, forecast=True),
              Night(day(4), 40, forecast=True)]
    text = draw(nights, capacity=100, width=10, height=5, palette=PALETTE)
    # scale top 200 over 4 rows of 8 eighths: 50 -> 8, 100 -> 16, 200 -> 32, 120 -> 19, 40 -> 6;
    # the tape (100 = half the scale) falls in the second row from the top: the line fills its empty cells
    assert text.plain.split("\n") == [
        "  █  ",
        "──█▃──────",
        " ███ ",
        "████▆",
        "2026-",
    ]
    rows = text.plain.split("\n")
    start = [sum(len(r) + 1 for r in rows[:i]) for i in range(len(rows))]
    assert style_at(text, start[3] + 0) == PALETTE.history
    assert style_at(text, start[3] + 2) == PALETTE.over  # 200 is more than one tape
    assert style_at(text, start[3] + 3) == PALETTE.over  # the forecast of 120 too
    assert style_at(text, start[3] + 4) == PALETTE.forecast
    assert style_at(text, start[1] + 0) == PALETTE.line and style_at(text, start[1] + 9) == PALETTE.line


def test_a_small_job_reads_small_against_its_tape_and_the_axis_names_the_dates() -> None:
    nights = [Night(day(n), 10.0) for n in range(30)]
    text = draw(nights, capacity=1000, width=30, height=4, palette=PALETTE)
    rows = text.plain.split("\n")
    assert rows[0] == "─" * 30  # the tape at the top of a scale it sets (1000 of 1100)
    assert rows[2] == "▁" * 30  # 10 of 1100 is still drawn: one eighth
    assert rows[3] == "2026-01-01" + " " * 10 + "2026-01-30"
