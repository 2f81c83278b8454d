"""Pick one of a few things (a drive, a tape, a job, a run): arrows and Enter, or Escape to give up."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist


class PickerScreen(ModalScreen[str | None]):
    """Choices are (id, prompt) pairs; dismisses with the chosen id, or None."""

    DEFAULT_CSS = """
    PickerScreen {
        align: center middle;
        #picker-box {
            width: 72; max-width: 95%; height: auto; max-height: 90%;
            border: thick $accent; background: $surface; padding: 0 1;
        }
        #picker-title { text-style: bold; padding: 1 0 0 0; }
        #picker-help { color: $foreground-muted; padding-bottom: 1; }
        OptionList { height: auto; max-height: 16; border: none; }
    }
    """
    BINDINGS = [Binding("escape", "give_up", "cancel")]

    def __init__(self, title: str, choices: Sequence[tuple[str, str]], *, help: str = "", chosen: str | None = None):
        super().__init__()
        self.title_text, self.choices, self.help, self.chosen = title, list(choices), help, chosen

    def compose(self) -> ComposeResult:
        with Vertical(id="picker-box"):
            yield Static(self.title_text, id="picker-title", markup=False)
            yield Static(self.help or "↑↓ to choose, Enter to pick, Esc to cancel", id="picker-help", markup=False)
            yield OptionList(*[Option(prompt, id=ident) for ident, prompt in self.choices], id="picker-options")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if self.chosen is not None:
            try:
                options.highlighted = options.get_option_index(self.chosen)
            except OptionDoesNotExist:
                pass
        elif self.choices:
            options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_give_up(self) -> None:
        self.dismiss(None)
