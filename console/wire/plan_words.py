"""Sizes and counts in the planning sentences (decimal units, as LTO data sheets give tape capacity)."""

from __future__ import annotations


def size(n: float | None) -> str:
    """Bytes in decimal units: 1.5 TB, 980.0 GB, 12.3 MB."""
    if n is None:
        return "unknown"
    value = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(value) < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"  # pragma: no cover - the loop returns at TB


def signed_size(n: float) -> str:
    return ("+" if n >= 0 else "-") + size(abs(n))


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"
