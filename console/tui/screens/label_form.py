"""Label the tape in a drive: a form that checks what it can before asking the daemon, asks for
confirmation naming the tape, and shows the daemon's refusal (retention, write-protect, generation,
duplicate label, another installation's tape) in the form itself.
"""

from __future__ import annotations

from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from console.client.daemon_client import DaemonError, DaemonUnavailable
from console.wire.labels import check_label_text
from widgets.confirm import ConfirmScreen
from widgets.console_host import ConsoleHost, host_of

Json = dict[str, Any]
FOREIGN = "FOREIGN"


def old_label_needed(drive: Json) -> str | None:
    """What must be typed back to overwrite the tape: its old label, FOREIGN, or nothing for a blank tape."""
    if drive.get("label"):
        return str(drive["label"])
    if drive.get("blank"):
        return None
    return FOREIGN


def problems(text: str, pool: str | None, confirm: str, needed: str | None) -> list[str]:
    found = []
    if not text:
        found.append("type a label (usually the barcode on the sticker)")
    else:
        reason = check_label_text(text)
        if reason:
            found.append(reason)
    if not pool:
        found.append("choose the pool the tape joins")
    if needed is not None and confirm != needed:
        found.append(f"type {needed} in the last field to overwrite this tape")
    return found


class LabelForm(ModalScreen[Json | None]):
    """Dismisses with the daemon's tape record once labelled, or None."""

    BINDINGS = [Binding("escape", "give_up", "cancel")]

    def __init__(self, drive: Json, tape: Json | None, pools: list[Json]) -> None:
        super().__init__()
        self.drive, self.tape, self.pools = drive, tape or {}, pools
        self.needed = old_label_needed(drive)

    @property
    def console(self) -> ConsoleHost:
        return host_of(self.app)

    def _pool_choices(self) -> list[tuple[str, str]]:
        media = self.tape.get("generation")
        fitting = [p for p in self.pools if media is None or p["generation"] == media]
        others = [p for p in self.pools if p not in fitting]
        return ([(f"{p['name']} ({p['generation']})", p["name"]) for p in fitting]
                + [(f"{p['name']} ({p['generation']}, not this tape's media)", p["name"]) for p in others])

    def _describe(self) -> str:
        barcode = self.drive["loaded"]
        if self.drive.get("label"):
            what = f"labelled {self.drive['label']}, pool {self.drive.get('pool') or '?'}"
            if self.tape.get("expires"):
                what += f", expires {self.tape['expires']}"
        elif self.drive.get("blank"):
            what = "blank"
        else:
            what = "not a tapeconsole tape: " + (self.drive.get("warning") or "unknown contents")
        media = self.tape.get("generation") or "?"
        return f"Tape {barcode} ({media}) in drive {self.drive['name']}: {what}"

    def compose(self) -> ComposeResult:
        default_pool = next((value for _, value in self._pool_choices()), None)
        with Vertical(id="label-box"):
            yield Static(f"Label the tape in drive {self.drive['name']}", id="label-title", markup=False)
            yield Static(self._describe(), id="label-tape", markup=False)
            yield Label("Label")
            yield Input(value=self.drive.get("label") or self.drive["loaded"], id="label-text", max_length=32,
                        compact=True)
            yield Label("Pool")
            yield Select[str](self._pool_choices(), value=default_pool or Select.NULL, allow_blank=True,
                              prompt="choose a pool", id="label-pool", compact=True)
            if self.needed is not None:
                yield Label(f"To overwrite it, type {self.needed}")
                yield Input(placeholder=self.needed, id="label-confirm", compact=True)
            yield Static("", id="label-problem", markup=False)
            with Horizontal(id="label-buttons"):
                yield Button("Cancel (esc)", id="cancel", compact=True)
                yield Button("Write label", id="write", variant="warning", compact=True)

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = self.console.cursor_blink
        self.query_one("#label-text", Input).focus()

    def _values(self) -> tuple[str, str | None, str]:
        text = self.query_one("#label-text", Input).value.strip()
        pool = self.query_one("#label-pool", Select).value
        confirm = self.query_one("#label-confirm", Input).value.strip() if self.needed is not None else ""
        return text, (None if pool is Select.NULL else str(pool)), confirm

    def show_problem(self, text: str) -> None:
        self.query_one("#label-problem", Static).update(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "label-text":
            reason = check_label_text(event.value.strip()) if event.value.strip() else None
            self.show_problem(reason or "")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "cancel":
            self.dismiss(None)
        else:
            self.submit()

    def action_give_up(self) -> None:
        self.dismiss(None)

    @work(exclusive=True, group="label")
    async def submit(self) -> None:
        text, pool, confirm = self._values()
        found = problems(text, pool, confirm, self.needed)
        if found:
            self.show_problem("; ".join(found))
            return
        barcode = self.drive["loaded"]
        old = f" Its label {self.drive['label']} and every set on it are lost." if self.drive.get("label") else ""
        body = (f"Write label {text} (pool {pool}) on tape {barcode} in drive {self.drive['name']}?\n"
                f"Writing a label starts the tape over.{old}")
        if not await self.app.push_screen_wait(ConfirmScreen(f"Label tape {barcode}?", body, yes="Write label")):
            return
        self.show_problem(f"writing label {text} on {barcode}…")
        self.query_one("#write", Button).disabled = True
        body_json = {"label": text, "pool": pool, "confirm": confirm or None}
        try:
            record = await self.console.link.post(f"/drives/{self.drive['name']}/label", body_json)
        except (DaemonError, DaemonUnavailable) as exc:
            self.show_problem(f"✗ {exc}")
            self.query_one("#write", Button).disabled = False
            return
        self.dismiss(record)
