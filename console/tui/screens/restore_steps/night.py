"""2 Night: the runs of the job that hold what is restored, newest first."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static

from console.client.restore_walk import RestoreWalk
from console.tui.messages import RestoreNightChosen
from console.tui.screens.restore_steps.words import content_of, options_of


class NightStep(Vertical):
    def compose(self) -> ComposeResult:
        yield Static("", classes="question", id="night-question")
        yield OptionList(id="night-list")

    def show(self, walk: RestoreWalk) -> None:
        """The question and the nights, the first one that can be chosen highlighted."""
        self.query_one("#night-question", Static).update(content_of(walk.night_question()))
        choices = walk.night_choices()
        options = self.query_one("#night-list", OptionList)
        options.clear_options()
        options.add_options(options_of(choices))
        options.highlighted = next((i for i, c in enumerate(choices) if not c.disabled), None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(RestoreNightChosen(event.option.id))
