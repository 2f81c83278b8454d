"""One step of a tape swap in big plain words, for the onsite person: what the swap walk
(console/client/swap_walk.py) says to show. The swap screen and the restore walkthrough's insert use it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static

from console.client.swap_walk import SwapView
from widgets.big_text import BigText


class SwapCard(Vertical):
    def compose(self) -> ComposeResult:
        yield Static("", id="swap-progress", markup=False)
        yield BigText("", id="swap-verb")
        yield BigText("", id="swap-tape")
        yield Static("", id="swap-where", markup=False)
        yield Static("", id="swap-result", markup=False)
        yield Static("", id="swap-keys", markup=False)
        yield Static("", id="swap-list", markup=False)

    def show(self, view: SwapView) -> None:
        self.query_one("#swap-progress", Static).update(view.progress)
        verb = self.query_one("#swap-verb", BigText)
        verb.text = view.verb
        if view.verdict is not None:
            verb.set_class(view.verdict == "correct", "-correct")
            verb.set_class(view.verdict == "wrong", "-wrong")
        self.query_one("#swap-tape", BigText).text = view.tape
        self.query_one("#swap-where", Static).update(view.where)
        self.query_one("#swap-result", Static).update(view.result)
        self.query_one("#swap-keys", Static).update(view.keys)
        self.query_one("#swap-list", Static).update(view.checklist)
