"""Plain-terminal rendering of the daemon's answers for the CLI (rich tables, sizes in operator units)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from widgets.units import size  # one way to write sizes, in the CLI and the console alike (no textual inside)

_console = Console(highlight=False)


def _table(*columns: str) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column)
    return table


def drives(rows: list[dict[str, Any]]) -> None:
    table = _table("drive", "kind", "generation", "state", "tape", "label", "position", "note")
    for d in rows:
        pos = d.get("position") or {}
        table.add_row(
            d["name"], d["kind"], d["generation"], d["state"], d.get("loaded") or "-", d.get("label") or "-",
            f"file {pos.get('file', -1)} block {pos.get('block', -1)}" if d.get("loaded") else "-",
            d.get("warning") or d.get("last_error") or "",
        )
    _console.print(table)


def tapes(rows: list[dict[str, Any]]) -> None:
    table = _table("barcode", "label", "gen", "pool", "status", "location", "used", "capacity", "expires")
    for t in rows:
        status = t["status"] + (" (protected)" if t.get("write_protected") else "")
        table.add_row(
            t["barcode"], t.get("label") or "-", t["generation"], t.get("pool") or "-", status,
            t["location"], size(t.get("bytes_used")), size(t.get("capacity")), t.get("expires") or "-",
        )
    _console.print(table)


def pools(rows: list[dict[str, Any]]) -> None:
    table = _table("pool", "media", "retention", "allocation", "vault")
    for p in rows:
        keep = "forever" if p["retention_days"] is None else f"{p['retention_days']} days"
        table.add_row(p["name"], p["generation"], keep, p["allocation"], p["vault"])
    _console.print(table)


def audit(rows: list[dict[str, Any]]) -> None:
    table = _table("time", "user", "action", "details")
    for e in rows:
        details = " ".join(f"{k}={v}" for k, v in e.items() if k not in ("time", "user", "action") and v is not None)
        table.add_row(e["time"], e["user"], e["action"], details)
    _console.print(table)


def loaded_line(drive: dict[str, Any]) -> str:
    what = f"tape {drive['loaded']}"
    if drive.get("label"):
        what += f", label {drive['label']} (pool {drive['pool']})"
    elif drive.get("blank"):
        what += ", blank"
    line = f"{drive['name']}: loaded {what}"
    if drive.get("warning"):
        line += f"; warning: {drive['warning']}"
    return line


def runs(rows: list[dict[str, Any]]) -> None:
    table = _table("run", "job", "drive", "state", "started", "ended", "written", "tapes", "error")
    for r in rows:
        table.add_row(
            str(r["id"]), r.get("name") or r.get("job", "?"), r["drive"], r["state"], r.get("started") or "-",
            r.get("ended") or "-", size(r.get("bytes")), ", ".join(r.get("tapes") or []) or "-", r.get("error") or "",
        )
    _console.print(table)


def sets(rows: list[dict[str, Any]]) -> None:
    table = _table("set", "tape", "file", "job", "started", "ended", "size", "members", "state")
    for s in rows:
        table.add_row(
            str(s["id"]), s["tape"], str(s["file"]), s["job"], s.get("started") or "-", s.get("ended") or "-",
            size(s.get("bytes")), str(s["members"]), s["state"],
        )
    _console.print(table)
