"""The keys help (? or F1): every key of the screen underneath, with what it does; the ones that cannot do
anything now are marked so. Esc (or ? / F1 again) closes it."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

NOT_NOW = "  (not now)"


def screen_keys(screen: Screen[Any]) -> list[tuple[str, str]]:
    """(keys, what they do) for every described binding of the screen and the app, then those of the focused
    widget (a table's arrows, an input's editing keys); a key whose action cannot run now says so."""
    app = screen.app
    found: dict[tuple[bool, str], list[str]] = {}
    usable: dict[tuple[bool, str], bool] = {}
    seen_keys: set[str] = set()
    for namespace, bindings in screen._modal_binding_chain:
        widget = not isinstance(namespace, (Screen, App))
        for key, binding in bindings:
            if not binding.description or key in seen_keys:
                continue
            seen_keys.add(key)
            what = (widget, binding.description)
            shown = app.get_key_display(binding)
            if shown not in found.setdefault(what, []):
                found[what].append(shown)
            usable[what] = usable.get(what, False) or bool(app._check_action_state(binding.action, namespace))
    ordered = sorted(found, key=lambda what: what[0])  # the screen's and the app's keys first (a stable sort)
    rows, heading = [], False
    for what in ordered:
        if what[0] and not heading:
            rows.append(("", f"in the focused {screen.focused.__class__.__name__ if screen.focused else 'widget'}:"))
            heading = True
        rows.append((" / ".join(found[what]), what[1] + ("" if usable[what] else NOT_NOW)))
    return rows


class KeysHelp(ModalScreen[None]):
    DEFAULT_CSS = """
    KeysHelp {
        align: center middle;
        #keys-box { width: 64; max-width: 95%; height: auto; max-height: 90%; border: thick $accent;
                    background: $surface; padding: 0 1; }
        #keys-title { text-style: bold; padding-bottom: 1; }
        #keys-list { height: auto; max-height: 30; }
        #keys-foot { color: $foreground-muted; padding-top: 1; }
    }
    """
    BINDINGS = [Binding("escape,question_mark,f1", "close", "close")]

    def __init__(self, title: str, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.title_text, self.keys = title, keys

    def compose(self) -> ComposeResult:
        width = max((len(k) for k, _ in self.keys), default=4)
        lines = "\n".join(f"{k:>{width}}  {what}" for k, what in self.keys) or "This screen has no keys."
        with Vertical(id="keys-box"):
            yield Static(self.title_text, id="keys-title", markup=False)
            with VerticalScroll(id="keys-list"):
                yield Static(lines, id="keys-lines", markup=False)
            yield Static("Esc: close   ctrl+p: every action, by name", id="keys-foot", markup=False)

    def action_close(self) -> None:
        self.dismiss(None)
