"""One drive at a glance: the tape in it and how full, the job and member, live MB/s with a sparkline,
the buffer, underruns, bytes written and the time left.

The panel is fed once per poll with show(); each line is redrawn only when its text changed.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Static

from console.client.live_tape import used_now
from console.wire import units
from console.wire.states import DriveState, parse
from widgets.job_queue import eta_text
from widgets.rate_graph import RateGraph

Json = dict[str, Any]
Line = tuple[str, dict[str, str]]  # markup with $variables, and their values
STATE_STYLE: dict[DriveState, str] = {
    DriveState.WRITING: "$success", DriveState.READING: "$success", DriveState.RESTORING: "$success",
    DriveState.VERIFYING: "$success", DriveState.SCANNING: "$success",
    DriveState.IDLE: "$foreground-muted", DriveState.NO_TAPE: "$foreground-muted",
    DriveState.ERROR: "$error", DriveState.LABELLING: "$warning", DriveState.BUSY: "$warning",
    DriveState.LOADING: "$accent", DriveState.EJECTING: "$accent", DriveState.IDENTIFYING: "$accent",
    DriveState.REWINDING: "$accent",
}


def _position(drive: Json, which: str) -> str:
    value = (drive.get("position") or {}).get(which, -1)
    return str(value) if drive.get("loaded") and isinstance(value, int) and value >= 0 else "-"


class DrivePanel(Vertical, can_focus=True):
    """A bordered panel for one drive. Focus it to aim the drive actions (eject, load, label) at it."""

    DEFAULT_CSS = """
    DrivePanel {
        border: round $primary 60%;
        border-title-color: $text;
        border-subtitle-color: $foreground-muted;
        height: auto;
        padding: 0 1;
        &:focus { border: round $accent; background-tint: $foreground 4%; }
        .drive-line { height: 1; width: 1fr; text-wrap: nowrap; text-overflow: ellipsis; }
        .rate-row { height: auto; }
        .rate { width: 11; height: 1; }
        .detail { display: none; }
        .note { color: $warning; height: auto; }
        .note.-empty { display: none; }
    }
    """

    def __init__(self, drive_name: str, *, history: list[float] | None = None, id: str | None = None) -> None:
        super().__init__(id=id or f"drive-{drive_name}")
        self.drive_name = drive_name
        self.border_title = drive_name
        self._history = history or []
        self._texts: dict[str, Line] = {}
        self._last_counter: tuple[float, int] | None = None
        self._tape_base: dict[tuple[int, str], int] = {}
        self.rate = 0.0
        self._pending: tuple[Json, Json | None, Json | None, float] | None = None
        self._titles: tuple[str, tuple[str, str | None]] | None = None
        self._ready = False

    def on_mount(self) -> None:
        self._ready = True
        if self._pending is not None:
            self.show(*self._pending)
            self._pending = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="drive-line", id="tape")
        yield Static("", classes="drive-line", id="job")
        with Horizontal(classes="rate-row"):
            yield Static("", classes="rate", id="rate")
            yield RateGraph(self._history, id="graph")
        yield Static("", classes="drive-line", id="buffer")
        yield Static("", classes="drive-line", id="written")
        yield Static("", classes="drive-line detail", id="position")
        yield Static("", classes="note -empty", id="note")

    def _put(self, line: str, markup: Line) -> None:
        """Show a line when its text changed; the Content (parsed markup) is only built then."""
        if self._texts.get(line) == markup:
            return
        self._texts[line] = markup
        template, variables = markup
        widget = self.query_one(f"#{line}", Static)
        widget.update(Content.from_markup(template, **variables), layout=line == "note")  # one row: no layout
        if line == "note":
            widget.set_class(not variables.get("note"), "-empty")

    def _sample_rate(self, drive: Json, run: Json | None, now: float) -> float:
        counters = drive.get("counters") or {}
        moved = int(counters.get("bytes_written", 0)) + int(counters.get("bytes_read", 0))
        rate = 0.0
        if run is not None and run.get("state") == "running" and run.get("rate") is not None:
            rate = float(run["rate"] or 0.0)
        elif self._last_counter is not None and now > self._last_counter[0]:
            rate = max(0.0, (moved - self._last_counter[1]) / (now - self._last_counter[0]))
        self._last_counter = (now, moved)
        return rate

    def _tape_used(self, tape: Json, run: Json | None) -> int:
        """The tape's fill, counting what the running set has written since the inventory last saw it."""
        used = int(tape.get("bytes_used") or 0)
        if run is not None and run.get("set_bytes") is not None:  # the daemon counts the set: the table's number
            return used_now(tape, [run])
        buffer = (run or {}).get("buffer") or {}
        if run is None or run.get("state") != "running" or buffer.get("state") == "done":
            return used
        if run.get("tape") not in (tape.get("label"), tape["barcode"]):
            return used
        if len(run.get("tapes") or []) <= 1:
            in_set = int(run.get("bytes") or 0)
        else:  # a continued run: count from when this tape came in
            start = self._tape_base.setdefault((run["id"], tape["barcode"]), int(run.get("bytes") or 0))
            in_set = int(run.get("bytes") or 0) - start
        return min(int(tape.get("capacity") or used + in_set), used + max(0, in_set))

    def show(self, drive: Json, tape: Json | None, run: Json | None, now: float) -> None:
        if not self._ready:  # mounted with the first snapshot: shown once its lines exist
            self._pending = (drive, tape, run, now)
            return
        state = drive.get("state") or "?"
        title = f"{drive['name']} · {drive.get('generation', '?')}"
        subtitle = (state, drive.get("activity"))
        if (title, subtitle) != self._titles:  # a border change redraws the whole panel: only when it changed
            self._titles = (title, subtitle)
            self.border_title = title
            style = STATE_STYLE.get(parse(DriveState, state, DriveState.BUSY), "$text")
            self.border_subtitle = Content.from_markup(f"[{style} bold]$state[/]",
                                                       state=drive.get("activity") or state)
        self.rate = self._sample_rate(drive, run, now)
        self.query_one(RateGraph).push(self.rate)
        self._put("tape", self._tape_line(drive, tape, run))
        self._put("job", self._job_line(drive, run))
        self._put("rate", ("[b]$rate[/b]", {"rate": units.rate(self.rate)}))
        self._put("buffer", self._buffer_line(run))
        self._put("written", self._written_line(drive, run))
        counters = drive.get("counters") or {}
        self._put("position", ("file $file · block $block · shoe-shine $shoe", {
            "file": _position(drive, "file"), "block": _position(drive, "block"),
            "shoe": str(counters.get("shoe_shine_events", 0)),
        }))
        run = run or {}
        note = drive.get("warning") or run.get("waiting") or run.get("error") or drive.get("last_error") or ""
        self._put("note", ("$note", {"note": note}))

    def _tape_line(self, drive: Json, tape: Json | None, run: Json | None) -> Line:
        if not drive.get("loaded"):
            return "[$foreground-muted]no tape[/]", {}
        name = drive.get("label") or drive["loaded"]
        what = drive.get("pool") or ("blank" if drive.get("blank") else "unlabelled")
        if tape is None or not tape.get("capacity"):
            return "[b]$name[/b] $what", {"name": name, "what": what}
        filled = units.fraction(self._tape_used(tape, run), tape["capacity"])
        return "[b]$name[/b] $what [$accent]$bar[/] $pct", {
            "name": name, "what": what, "bar": units.bar(filled, 8), "pct": units.percent(filled)}

    @staticmethod
    def _job_line(drive: Json, run: Json | None) -> Line:
        if run is None:
            return "[$foreground-muted]$what[/]", {"what": drive.get("activity") or "no job"}
        member = units.short_name(run.get("member"))
        if run.get("state") != "running" or not member:
            return "[b]$job[/b] $state", {"job": run["job"], "state": str(run.get("state", "")).replace("-", " ")}
        return "[b]$job[/b] › $member", {"job": run["job"], "member": member}

    @staticmethod
    def _buffer_line(run: Json | None) -> Line:
        buffer = (run or {}).get("buffer")
        if not buffer:
            return "[$foreground-muted]buffer -[/]", {}
        filled = units.fraction(buffer.get("fill"), buffer.get("capacity"))
        return "buffer [$primary]$bar[/] $pct · underruns $under", {
            "bar": units.bar(filled, 6), "pct": units.percent(filled), "under": str(buffer.get("underruns", 0))}

    @staticmethod
    def _written_line(drive: Json, run: Json | None) -> Line:
        if run is not None:
            window = (run.get("rates") or {}).get("window_seconds")
            measured = f" · rate {run['rate_is']}, {window:.0f}s" if run.get("rate_is") and window else ""
            return "written $done · ETA $eta$measured", {"done": units.size(run.get("bytes")), "eta": eta_text(run),
                                                         "measured": measured}
        counters = drive.get("counters") or {}
        return "[$foreground-muted]wrote $done since start[/]", {"done": units.size(counters.get("bytes_written", 0))}
