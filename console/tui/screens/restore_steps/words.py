"""The walk's words and choices as Textual shows them."""

from __future__ import annotations

from textual.content import Content
from textual.widgets.option_list import Option

from console.client.restore_walk import Choice, Words


def content_of(words: Words) -> Content | str:
    """Markup with values filled in as plain text; words without values stay a string, as typed."""
    return Content.from_markup(words.markup, **words.values) if words.values else words.markup


def option_of(choice: Choice) -> Option:
    return Option(content_of(choice.words), id=choice.id, disabled=choice.disabled)


def options_of(choices: list[Choice]) -> list[Option]:
    return [option_of(c) for c in choices]
