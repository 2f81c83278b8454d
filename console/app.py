"""The operator console: a thin Textual client of the daemon."""

from __future__ import annotations

import asyncio
import signal
import time
from typing import Any

import httpx
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.widgets import DataTable, Footer, Header, Static

from console.daemon_client import BASE_URL, USER_HEADER, DaemonUnavailable, _user, connect
from console.engine.config import Config
from widgets.drive_panel import DrivePanel

POLL_SECONDS = 1.0
TAPE_COLUMNS = ("barcode", "label", "pool", "status", "location", "used", "expires")


def _tape_cells(tape: dict[str, Any]) -> tuple[str, ...]:
    used = tape.get("bytes_used") or 0
    capacity = tape.get("capacity") or 0
    pct = f"{100 * used / capacity:.0f}%" if capacity else "-"
    return (
        tape["barcode"], tape.get("label") or "-", tape.get("pool") or "-", tape["status"],
        tape["location"], pct, tape.get("expires") or "-",
    )


class TapeConsoleApp(App[int]):
    CSS_PATH = "app.tcss"
    TITLE = "tapeconsole"
    BINDINGS = [("q", "quit", "Quit"), ("r", "refresh", "Refresh")]

    def __init__(self, config: Config, *, poll_seconds: float = POLL_SECONDS) -> None:
        super().__init__()
        self.config = config
        self.poll_seconds = poll_seconds
        self._http: httpx.AsyncClient | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="drives"):
            for name in self.config.drives:
                yield DrivePanel(name)
        table: DataTable[str] = DataTable(id="tapes", cursor_type="row", zebra_stripes=True)
        table.border_title = "tapes"
        yield table
        yield Static("", id="message")
        yield Footer()

    async def on_mount(self) -> None:
        table = self.query_one("#tapes", DataTable)
        for column in TAPE_COLUMNS:
            table.add_column(column, key=column)
        self._http = httpx.AsyncClient(
            transport=httpx.AsyncHTTPTransport(uds=str(self.config.daemon.socket)),
            base_url=BASE_URL,
            headers={USER_HEADER: _user()},
            timeout=5.0,
        )
        self.set_interval(self.poll_seconds, self.action_refresh)
        await self.action_refresh()

    async def on_unmount(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    async def action_refresh(self) -> None:
        assert self._http is not None
        try:
            drives, tapes = await asyncio.gather(self._http.get("/drives"), self._http.get("/tapes"))
        except httpx.TransportError as exc:
            self.query_one("#message", Static).update(f"daemon not answering on {self.config.daemon.socket}: {exc}")
            return
        self.query_one("#message", Static).update("")
        now = time.monotonic()
        for drive in drives.json():
            try:
                self.query_one(f"#drive-{drive['name']}", DrivePanel).show(drive, now)
            except Exception:  # a drive added to the daemon after the console started
                continue
        self._show_tapes(tapes.json())

    def _show_tapes(self, tapes: list[dict[str, Any]]) -> None:
        table = self.query_one("#tapes", DataTable)
        with self.batch_update():
            for tape in tapes:
                cells = _tape_cells(tape)
                key = tape["barcode"]
                if key in table.rows:
                    for column, value in zip(TAPE_COLUMNS, cells, strict=True):
                        if table.get_cell(key, column) != value:
                            table.update_cell(key, column, value)
                else:
                    table.add_row(*cells, key=key)


def run_console(config: Config) -> int:
    try:
        connect(config, autostart=True).close()
    except DaemonUnavailable as exc:
        raise SystemExit(f"tapeconsole: {exc}") from None
    app = TapeConsoleApp(config)
    signal.signal(signal.SIGHUP, lambda *_: app.exit(0))
    return app.run() or 0
