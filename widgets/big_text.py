"""Words three lines tall, for a person who reads the screen from a step away (the onsite tape swap).

A 3x3 box-drawing font for A-Z, 0-9 and a few signs, in the style of Textual's Digits (which has only
digits and A-F, not enough for a tape's barcode).
"""

from __future__ import annotations

from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

GLYPHS: dict[str, tuple[str, str, str]] = {
    " ": ("   ", "   ", "   "),
    "0": ("╭─╮", "│╱│", "╰─╯"), "1": ("╶┐ ", " │ ", "╶┴╴"), "2": ("╶─╮", "╭─╯", "╰─╴"),
    "3": ("╶─╮", " ─┤", "╶─╯"), "4": ("╷ ╷", "╰─┤", "  ╵"), "5": ("┌─╴", "└─╮", "╶─╯"),
    "6": ("╭─╴", "├─╮", "╰─╯"), "7": ("╶─╮", "  │", "  ╵"), "8": ("╭─╮", "├─┤", "╰─╯"),
    "9": ("╭─╮", "╰─┤", "╶─╯"),
    "A": ("╭─╮", "├─┤", "╵ ╵"), "B": ("┌─╮", "├─┤", "└─╯"), "C": ("╭─╴", "│  ", "╰─╴"),
    "D": ("┌─╮", "│ │", "└─╯"), "E": ("╭─╴", "├─ ", "╰─╴"), "F": ("╭─╴", "├─ ", "╵  "),
    "G": ("╭─╴", "│╶┐", "╰─┘"), "H": ("╷ ╷", "├─┤", "╵ ╵"), "I": ("╶┬╴", " │ ", "╶┴╴"),
    "J": ("  ╷", "  │", "╰─╯"), "K": ("╷╭╴", "├┤ ", "╵╰╴"), "L": ("╷  ", "│  ", "╰─╴"),
    "M": ("╭┬╮", "│││", "╵╵╵"), "N": ("╭╮╷", "│││", "╵╰╯"), "O": ("╭─╮", "│ │", "╰─╯"),
    "P": ("┌─╮", "├─╯", "╵  "), "Q": ("╭─╮", "│ │", "╰┼╯"), "R": ("┌─╮", "├┬╯", "╵╰╴"),
    "S": ("╭─╴", "╰─╮", "╶─╯"), "T": ("╶┬╴", " │ ", " ╵ "), "U": ("╷ ╷", "│ │", "╰─╯"),
    "V": ("╷ ╷", "╲ ╱", " ╵ "), "W": ("╷╷╷", "│││", "╰┴╯"), "X": ("╲ ╱", " ╳ ", "╱ ╲"),
    "Y": ("╷ ╷", "╰┬╯", " ╵ "), "Z": ("╶─┐", " ╱ ", "└─╴"),
    "-": ("   ", "╶─╴", "   "), ".": ("   ", "   ", " ╸ "), "_": ("   ", "   ", "╶─╴"),
    "/": ("  ╱", " ╱ ", "╱  "), ":": ("   ", " ╸ ", " ╸ "),
}


def big_lines(text: str, gap: int = 1) -> tuple[str, str, str]:
    """The three lines of `text` in the big font; a character it lacks stays as it is, mid-line."""
    rows: list[list[str]] = [[], [], []]
    for char in text.upper():
        glyph = GLYPHS.get(char, ("   ", f" {char} ", "   "))
        for row, part in zip(rows, glyph, strict=True):
            row.append(part)
    spacer = " " * gap
    first, second, third = (spacer.join(row) for row in rows)
    return first, second, third


class BigText(Widget):
    """Text three lines tall. Set `text` to change it."""

    DEFAULT_CSS = """
    BigText { height: 3; width: auto; text-style: bold; }
    """

    def __init__(self, text: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._text = text

    @property
    def text(self) -> str:
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        if value != self._text:
            self._text = value
            self.refresh(layout=True)

    def get_content_width(self, container: Size, viewport: Size) -> int:
        return len(big_lines(self._text)[0]) if self._text else 0

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return 3

    def render(self) -> Text:
        return Text("\n".join(big_lines(self._text)), no_wrap=True, end="")
