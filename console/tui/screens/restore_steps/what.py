"""1 What: a VM's disk or a job's file tree, from the daemon's catalog."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import OptionList, Static

from console.client.restore_walk import RestoreWalk
from console.tui.messages import RestoreWhatChosen
from console.tui.screens.restore_steps.words import options_of


class WhatStep(Vertical):
    def compose(self) -> ComposeResult:
        yield Static("What do you want to restore?", classes="question")
        yield OptionList(id="what-list")

    def show(self, walk: RestoreWalk) -> None:
        """The targets (or why there are none yet); the first one highlighted and the list focused."""
        options = self.query_one("#what-list", OptionList)
        options.clear_options()
        options.add_options(options_of(walk.what_choices()))
        if walk.targets:
            options.highlighted = 0
            options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(RestoreWhatChosen(event.option.id))
