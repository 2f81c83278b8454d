"""Sizes, rates, durations and bars in the units operators read on a tape console."""

from __future__ import annotations

import re

UUID = re.compile(r"-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")

BAR_FULL, BAR_EMPTY = "█", "░"
EIGHTHS = " ▏▎▍▌▋▊▉"


def size(n: float | None) -> str:
    """Bytes in decimal units, as LTO data sheets give capacity and rate: 1.2 GB (the one unit system of every
    screen and command: sizes in kB/MB/GB/TB, rates in MB/s, 1 MB = 1,000,000 bytes)."""
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def rate(bytes_per_second: float | None) -> str:
    """Throughput in decimal MB/s, the unit of LTO data sheets."""
    if not bytes_per_second:
        return "0.0 MB/s"
    return f"{bytes_per_second / 1e6:.1f} MB/s"


def duration(seconds: float | None) -> str:
    """A remaining time: 45s, 3m12s, 1h04m."""
    if seconds is None:
        return "-"
    total = max(0, int(round(seconds)))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def fraction(part: float | None, whole: float | None) -> float | None:
    if not whole or part is None:
        return None
    return max(0.0, min(1.0, part / whole))


def percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def bar(value: float | None, width: int) -> str:
    """A bar of `width` cells, with eighths for the last cell: ███▌░░░░."""
    if width <= 0:
        return ""
    if value is None:
        return BAR_EMPTY * width
    eighths = int(round(max(0.0, min(1.0, value)) * width * 8))
    full, rest = divmod(eighths, 8)
    text = BAR_FULL * full
    if full < width:
        text += (EIGHTHS[rest] if rest else BAR_EMPTY) + BAR_EMPTY * (width - full - 1)
    return text


def when(iso: str | None) -> str:
    """An ISO time from the daemon as month-day hour:minute: 11-26 19:48."""
    if not iso:
        return "-"
    day, _, clock = iso.partition("T")
    return f"{day[5:]} {clock[:5]}" if clock else day


def short_name(member: str | None) -> str:
    """A member's file name without its folder and the UUID XO appends: mail01_system.vhd."""
    return UUID.sub("", (member or "").rsplit("/", 1)[-1])
