"""3 Tapes: the tapes the night needs, where each is now, and what to do next (the screen's keys: i, Enter)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from console.client.restore_walk import RestoreWalk
from console.tui.screens.restore_steps.words import content_of


class TapesStep(VerticalScroll):
    def compose(self) -> ComposeResult:
        yield Static("", classes="question", id="tapes-question")
        yield Static("", id="tapes-list", markup=False)
        yield Static("", id="tapes-next")

    def show(self, walk: RestoreWalk) -> None:
        self.query_one("#tapes-question", Static).update(content_of(walk.tapes_question()))
        self.query_one("#tapes-list", Static).update("\n".join(walk.tape_lines()))
        self.query_one("#tapes-next", Static).update(content_of(walk.tapes_next()))
