"""1 What, for a file tree: a path or glob inside the backup, with the files of the index that hold it."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import Input, OptionList, Static

from console.client.restore_walk import RestoreWalk
from console.tui.messages import RestoreFilePicked, RestoreFilesAccepted, RestoreFilesTyped
from console.tui.screens.restore_steps.words import content_of, options_of

FIND_DELAY = 0.3  # seconds after the last key before asking the file index


class FilesStep(Vertical):
    DEFAULT_CSS = """
    FilesStep {
        #files-input { margin-bottom: 1; }
        #files-status { margin-bottom: 1; }
        #files-status.-problem { color: $error; text-style: bold; }
        #files-list { height: 1fr; border: round $foreground-muted; }
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._find_timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="question", id="files-question")
        yield Input(placeholder="a path inside the backup, e.g. mail/box0 or *.eml; empty: all of it",
                    id="files-input")
        yield Static("", id="files-status", markup=False)
        yield OptionList(id="files-list")

    @property
    def typed(self) -> str:
        return self.query_one("#files-input", Input).value

    def show_question(self, walk: RestoreWalk) -> None:
        self.query_one("#files-question", Static).update(content_of(walk.files_question()))

    def show_status(self, walk: RestoreWalk) -> None:
        status = self.query_one("#files-status", Static)
        status.update(walk.files_status.text)
        status.set_class(walk.files_status.problem, "-problem")

    def show_rows(self, walk: RestoreWalk) -> None:
        listed = self.query_one("#files-list", OptionList)
        listed.clear_options()
        listed.add_options(options_of(walk.file_choices()))

    def to_matches(self) -> None:
        listed = self.query_one("#files-list", OptionList)
        if listed.option_count:
            listed.focus()
            listed.highlighted = 0

    def _stop_finding(self) -> None:
        if self._find_timer is not None:
            self._find_timer.stop()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._stop_finding()
        value = event.value
        self._find_timer = self.set_timer(FIND_DELAY, lambda: self.post_message(RestoreFilesTyped(value)))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._stop_finding()
        self.post_message(RestoreFilesAccepted(event.value))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(RestoreFilePicked(int(event.option.id)))
