"""One drive at a glance: tape, state, position, throughput."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label, Sparkline, Static


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


class DrivePanel(Vertical):
    """A bordered panel for one drive; call show(drive_json) with each poll."""

    DEFAULT_CSS = """
    DrivePanel { border: round $primary; height: auto; padding: 0 1; }
    DrivePanel .drive-line { height: 1; }
    DrivePanel Sparkline { height: 2; margin-top: 1; }
    """

    def __init__(self, drive_name: str, **kwargs: Any) -> None:
        super().__init__(id=f"drive-{drive_name}", **kwargs)
        self.drive_name = drive_name
        self.border_title = drive_name
        self._rates: list[float] = [0.0]
        self._last: tuple[float, int] | None = None

    def compose(self) -> ComposeResult:
        yield Label("", classes="drive-line", id="state")
        yield Label("", classes="drive-line", id="tape")
        yield Label("", classes="drive-line", id="position")
        yield Label("", classes="drive-line", id="rate")
        yield Sparkline(self._rates, id="spark")
        yield Static("", id="note")

    def show(self, drive: dict[str, Any], now: float) -> None:
        self.border_title = f"{drive['name']} · {drive['generation']} · {drive['kind']}"
        self.query_one("#state", Label).update(f"state  [b]{drive['state']}[/b]")
        if drive.get("loaded"):
            label = drive.get("label") or ("blank" if drive.get("blank") else "unlabelled")
            pool = f" · {drive['pool']}" if drive.get("pool") else ""
            tape = f"tape   {drive['loaded']} · {label}{pool}"
            pos = drive.get("position") or {}
            position = f"pos    file {pos.get('file', -1)} · block {pos.get('block', -1)}"
        else:
            tape, position = "tape   (none)", "pos    -"
        self.query_one("#tape", Label).update(tape)
        self.query_one("#position", Label).update(position)
        counters = drive.get("counters") or {}
        moved = int(counters.get("bytes_written", 0)) + int(counters.get("bytes_read", 0))
        if self._last is not None and now > self._last[0]:
            rate = max(0.0, (moved - self._last[1]) / (now - self._last[0]))
            self._rates = (self._rates + [rate / 1e6])[-60:]
            self.query_one("#spark", Sparkline).data = self._rates
        self._last = (now, moved)
        self.query_one("#rate", Label).update(
            f"rate   {self._rates[-1]:.1f} MB/s · written {_size(counters.get('bytes_written', 0))}"
            f" · shoe-shine {counters.get('shoe_shine_events', 0)}"
        )
        note = drive.get("warning") or drive.get("last_error") or ""
        self.query_one("#note", Static).update(f"[yellow]{note}[/]" if note else "")
