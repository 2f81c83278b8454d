"""The tape inventory: sortable (click a header, or s / S) and filterable by pool, status and location.

Rows are keyed by barcode and updated in place; a filter change adds and removes only the rows it must.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Select, Static
from textual.widgets.data_table import CellDoesNotExist

from console.wire import units

Json = dict[str, Any]
COLUMNS = ("barcode", "pool", "status", "location", "used", "expires", "label", "written")
STATUSES = ("blank", "writable", "full", "expired", "damaged", "retired")  # `expired`: the daemon's computed state
PLACES = ("shelf", "drive", "offsite")

SORT_KEYS: dict[str, Callable[[Json], Any]] = {
    "barcode": lambda t: t["barcode"],
    "label": lambda t: (t.get("label") is None, t.get("label") or ""),
    "pool": lambda t: (t.get("pool") is None, t.get("pool") or ""),
    "status": lambda t: STATUSES.index(state(t)) if state(t) in STATUSES else 99,
    "location": lambda t: t.get("location") or "",
    "used": lambda t: (t.get("bytes_used") or 0) / (t.get("capacity") or 1),
    "expires": lambda t: (t.get("expires") is None, t.get("expires") or ""),
    "written": lambda t: (t.get("last_written") is None, t.get("last_written") or ""),
}


def state(tape: Json) -> str:
    """The tape's state: `expired` once its retention ended (the daemon says), else its status."""
    return str(tape.get("state") or tape.get("status"))


def tape_cells(tape: Json) -> tuple[Text, ...]:
    used = tape.get("bytes_used") or 0
    filled = units.fraction(used, tape.get("capacity"))
    status = state(tape) + (" (wp)" if tape.get("write_protected") else "")
    return tuple(Text(cell, no_wrap=True, end="") for cell in (
        tape["barcode"], tape.get("pool") or "-", status, tape.get("location") or "?",
        f"{units.size(used)} {units.percent(filled)}" if used else "-", tape.get("expires") or "-",
        tape.get("label") or "-", units.when(tape.get("last_written")),
    ))


@dataclass(frozen=True)
class TapeFilter:
    pool: str | None = None  # a pool name, or "" for tapes in no pool
    status: str | None = None
    place: str | None = None  # shelf, drive, offsite

    def admits(self, tape: Json) -> bool:
        if self.pool is not None and (tape.get("pool") or "") != self.pool:
            return False
        if self.status is not None and state(tape) != self.status:
            return False
        return self.place is None or (tape.get("location") or "").split(":", 1)[0] == self.place


class TapeTable(DataTable[Any]):
    BINDINGS = [
        Binding("s", "cycle_sort", "sort"),
        Binding("S", "reverse_sort", "reverse", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self.tapes: dict[str, Json] = {}
        self.filter = TapeFilter()
        self.sort_column = "barcode"
        self.sort_reverse = False
        self._cells: dict[str, tuple[Text, ...]] = {}

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column, key=column)
        self._label_headers()

    def show(self, tapes: list[Json]) -> None:
        self.tapes = {t["barcode"]: t for t in tapes}
        visible = {barcode: tape_cells(t) for barcode, t in self.tapes.items() if self.filter.admits(t)}
        reorder = False
        with self.app.batch_update():
            for key in [k for k in self._cells if k not in visible]:
                self.remove_row(key)
                del self._cells[key]
            for key, cells in visible.items():
                old = self._cells.get(key)
                if old is None:
                    self.add_row(*cells, key=key)
                    reorder = True
                elif old != cells:
                    for index, (column, value, before) in enumerate(zip(COLUMNS, cells, old, strict=True)):
                        if value != before:
                            self.update_cell(key, column, value, update_width=value.cell_len > before.cell_len)
                            reorder = reorder or COLUMNS[index] == self.sort_column
                self._cells[key] = cells
            if reorder:
                self._sort()

    def set_filter(self, tape_filter: TapeFilter) -> None:
        self.filter = tape_filter
        self.show(list(self.tapes.values()))

    def sort_by(self, column: str) -> None:
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self._label_headers()
        self._sort()

    def _sort(self) -> None:
        current = self.selected_barcode()
        order = SORT_KEYS[self.sort_column]
        self.sort("barcode", key=lambda cell: (order(self.tapes[cell.plain]), cell.plain), reverse=self.sort_reverse)
        if current is not None and current in self._cells:
            self.move_cursor(row=self.get_row_index(current), animate=False, scroll=False)

    def _label_headers(self) -> None:
        arrow = " ▼" if self.sort_reverse else " ▲"
        for key, column in self.columns.items():
            name = str(key.value)
            column.label = Text(name + (arrow if name == self.sort_column else ""))
            column.content_width = max(column.content_width, column.label.cell_len)
        self.refresh()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        self.sort_by(str(event.column_key.value))

    def action_cycle_sort(self) -> None:
        self.sort_column = COLUMNS[(COLUMNS.index(self.sort_column) + 1) % len(COLUMNS)]
        self.sort_reverse = False
        self._label_headers()
        self._sort()

    def action_reverse_sort(self) -> None:
        self.sort_by(self.sort_column)

    def selected_barcode(self) -> str | None:
        if not self.row_count:
            return None
        try:
            return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)
        except CellDoesNotExist:
            return None

    def selected_tape(self) -> Json | None:
        barcode = self.selected_barcode()
        return self.tapes.get(barcode) if barcode else None


class TapeInventory(Vertical):
    """The filter strip over the tape table."""

    DEFAULT_CSS = """
    TapeInventory {
        height: 1fr;
        #tape-filters { height: 1; }
        #tape-filters Select { width: 1fr; margin-right: 1; }
        #tape-count { width: auto; color: $foreground-muted; }
    }
    """

    def compose(self) -> ComposeResult:
        with Horizontal(id="tape-filters"):
            yield Select[str]([], prompt="pool: all", compact=True, id="filter-pool")
            yield Select[str]([(s, s) for s in STATUSES], prompt="status: all", compact=True, id="filter-status")
            yield Select[str]([(p, p) for p in PLACES], prompt="where: all", compact=True, id="filter-place")
            yield Static("", id="tape-count")
        yield TapeTable(id="tapes")

    @property
    def table(self) -> TapeTable:
        return self.query_one(TapeTable)

    def show(self, tapes: list[Json], pools: list[Json]) -> None:
        pool_select = self.query_one("#filter-pool", Select)
        names = [p["name"] for p in pools]
        if getattr(self, "_pool_names", None) != names:
            self._pool_names = names
            chosen = pool_select.value
            pool_select.set_options([(n, n) for n in names] + [("no pool", "")])
            if chosen in names or chosen == "":
                pool_select.value = chosen
        self.table.show(tapes)
        self._count()

    def _count(self) -> None:
        count = self.query_one("#tape-count", Static)
        text = f"{self.table.row_count}/{len(self.table.tapes)} tapes"
        if str(count.content) != text:
            count.update(text)

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()

        def value(widget_id: str) -> str | None:
            chosen = self.query_one(widget_id, Select).value
            return None if chosen is Select.NULL else str(chosen)

        self.table.set_filter(TapeFilter(pool=value("#filter-pool"), status=value("#filter-status"),
                                         place=value("#filter-place")))
        self._count()
