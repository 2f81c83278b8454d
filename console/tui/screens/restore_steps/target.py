"""4 Where to: a folder on the backup server, or for a disk a new VDI on an SR of Xen Orchestra."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from console.client.restore_walk import RestoreWalk
from console.tui.messages import RestoreToKindChosen, RestoreToSubmitted, RestoreToTyped


class TargetStep(Vertical):
    DEFAULT_CSS = """
    TargetStep {
        #target-input { margin-bottom: 1; }
        #target-problem { color: $error; text-style: bold; }
        #target-kind { height: 2; border: none; padding: 0; margin-bottom: 1; }
        #target-label { text-style: bold; }
        #target-keys { text-style: bold; color: $accent; margin-top: 1; }
        #target-hint { color: $foreground-muted; margin-top: 1; }
    }
    """

    def compose(self) -> ComposeResult:
        yield Static("", classes="question", id="target-question", markup=False)
        yield OptionList(Option("Into a folder on the backup server", id="folder"),
                         Option("Into Xen Orchestra, as a new VDI on an SR", id="xo"), id="target-kind")
        yield Static("", id="target-label", markup=False)
        yield Input(id="target-input")
        yield Static("", id="target-problem", markup=False)
        yield Static("", id="target-about", markup=False)
        yield Static("Enter: start the restore   Tab: next field   Esc: back", id="target-keys")
        yield Static("", id="target-hint", markup=False)

    _field_kind: bool | None = None  # the kind (to XO or not) whose text the field holds

    def show(self, walk: RestoreWalk) -> None:
        """On entering the step: the field gets the walk's text (proposed or typed before)."""
        self._field_kind = None
        self.query_one("#target-question", Static).update(walk.target_question())
        kind = self.query_one("#target-kind", OptionList)
        kind.display = walk.disk
        kind.highlighted = 1 if walk.to_xo else 0
        self.show_kind(walk)
        self.query_one("#target-about", Static).update(walk.target_about())
        self.show_problem(walk, focus=False)

    def show_kind(self, walk: RestoreWalk) -> None:
        """The field for the kind of target chosen, with what was typed for it."""
        self.query_one("#target-label", Static).update(walk.target_label)
        field = self.query_one("#target-input", Input)
        field.placeholder = walk.target_placeholder
        if self._field_kind != walk.to_xo:  # another kind of target: the text typed for that one
            self._field_kind = walk.to_xo
            field.value = walk.target_typed
        elif field.value != walk.target_typed:
            # the same kind: the field holds what the user typed (keys may be queued ahead of the walk's copy);
            # it is never rewritten, the walk catches up instead
            self.post_message(RestoreToTyped(field.value))
        self.show_problem(walk, focus=False)
        self.show_hint(walk)

    def show_hint(self, walk: RestoreWalk) -> None:
        self.query_one("#target-hint", Static).update(walk.hint())

    def show_problem(self, walk: RestoreWalk, *, focus: bool = True) -> None:
        problem = self.query_one("#target-problem", Static)
        problem.update(walk.target_problem)
        problem.display = bool(walk.target_problem)
        if focus:
            self.query_one("#target-input", Input).focus()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self.post_message(RestoreToKindChosen(event.option.id == "xo"))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#target-input", Input).focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self.post_message(RestoreToTyped(event.value))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.post_message(RestoreToSubmitted(event.value))
