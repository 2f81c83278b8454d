"""Sizes and counts in the planning sentences (decimal units, as LTO data sheets give tape capacity)."""

from __future__ import annotations

from console.wire import units


def size(n: float | None) -> str:
    """Bytes in decimal units (console.wire.units.size, the console's one system): 1.5 TB, 980.0 GB."""
    return "unknown" if n is None else units.size(n)


def signed_size(n: float) -> str:
    return ("+" if n >= 0 else "-") + size(abs(n))


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"
