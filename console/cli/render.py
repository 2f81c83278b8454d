"""Plain-terminal rendering of the daemon's answers for the CLI (rich tables, sizes in operator units)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from console.cli.terminal import stdout_console
from console.wire.tape_names import sticker_first
from console.wire.units import size  # one way to write sizes, in the CLI and the console alike (no textual inside)

_console = stdout_console()


def _table(*columns: str) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in columns:
        table.add_column(column)
    return table


def _known(number: int | None) -> str:
    """A position the drive reports, or `unknown` (st's -1 after spacing to end of data), never -1."""
    return str(number) if number is not None and number >= 0 else "unknown"


def drives(rows: list[dict[str, Any]]) -> None:
    table = _table("drive", "kind", "generation", "state", "tape", "label", "position", "note")
    for d in rows:
        pos = d.get("position") or {}
        table.add_row(
            d["name"], d["kind"], d["generation"], d["state"], d.get("loaded") or "-", d.get("label") or "-",
            f"file {_known(pos.get('file'))} block {_known(pos.get('block'))}" if d.get("loaded") else "-",
            d.get("warning") or d.get("last_error") or "",
        )
    _console.print(table)


def tapes(rows: list[dict[str, Any]]) -> None:
    table = _table("barcode", "label", "gen", "pool", "status", "location", "used", "capacity", "expires")
    for t in rows:
        status = (t.get("state") or t["status"]) + (" (protected)" if t.get("write_protected") else "")
        table.add_row(
            t["barcode"], t.get("label") or "-", t["generation"], t.get("pool") or "-", status,
            t["location"], size(t.get("bytes_used")), size(t.get("capacity")), t.get("expires") or "-",
        )
    for column in (table.columns[0], table.columns[5]):  # barcode and location (offsite:<vault>) stay whole
        column.no_wrap = True
        column.min_width = max((len(str(cell)) for cell in column.cells), default=0)
    _console.print(table)


def pools(rows: list[dict[str, Any]]) -> None:
    table = _table("pool", "media", "retention", "allocation", "vault")
    for p in rows:
        keep = "forever" if p["retention_days"] is None else f"{p['retention_days']} days"
        table.add_row(p["name"], p["generation"], keep, p["allocation"], p["vault"])
    _console.print(table)


def audit(rows: list[dict[str, Any]]) -> None:
    table = _table("entry", "time", "user", "action", "details")
    fixed = ("seq", "time", "user", "action")
    for e in rows:
        details = " ".join(f"{k}={v}" for k, v in e.items() if k not in fixed and v is not None)
        table.add_row(str(e.get("seq", "-")), e["time"], e["user"], e["action"], details)
    _console.print(table)


def audit_verdict(result: dict[str, Any]) -> None:
    """The notes of `audit verify`, then its one line when the log is intact (a problem goes to stderr)."""
    for note in result.get("notes") or []:
        print(f"note: {note}")
    if result["ok"]:
        print(result["summary"])


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


def _where(location: str | None) -> str:
    location = location or "?"
    if location.startswith("drive:"):
        return f"in drive {location.split(':', 1)[1]}"
    if location.startswith("offsite"):
        return f"offsite ({location.split(':', 1)[-1]})"
    return "on the shelf" if location == "shelf" else location


def jobs(rows: list[dict[str, Any]]) -> None:
    """The configured jobs and the tape each one's next run takes (or why there is none)."""
    table = _table("job", "drive", "pool", "next run", "next tape")
    for j in rows:
        tape = j.get("next_tape")
        if tape:
            label = " (labelled by the job)" if tape.get("needs_label") else ""
            what = f"{tape.get('label') or tape['barcode']}: {tape['reason']}, {_where(tape.get('location'))}{label}"
        else:
            what = f"none: {j.get('next_tape_problem') or 'unknown'}"
        when = j["next_run"].replace("T", " ")[:16] if j.get("next_run") else "on demand"
        table.add_row(j["name"], j["drive"], j["pool"], when, what)
    _console.print(table)


def swap_list(plan: dict[str, Any]) -> str:
    """The morning swap list as plain lines, for a terminal or a mail."""
    lines = [f"Swap list for {plan['day']}"]
    lines.append(f"Take offsite ({len(plan['take_out'])}):" if plan["take_out"] else "Take offsite: nothing")
    for t in plan["take_out"]:
        where = f"eject it from drive {t['drive']}, then " if t.get("in_drive") else ""
        kept = f"kept until {t['expires']}" if t.get("expires") else "kept forever"
        name = sticker_first(t["barcode"], t.get("label"))
        lines.append(f"  {name:<10} pool {t['pool']}: {where}to {t['vault']} ({kept})")
    lines.append(f"Put in ({len(plan['put_in'])}):" if plan["put_in"] else "Put in: nothing")
    for p in plan["put_in"]:
        lines.append(f"  {sticker_first(p['barcode'], p.get('label')):<10} into drive {p['drive']} for {p['job']}, "
                     f"{_where(p['location'])} ({p['reason']})")
    nights = plan["lookahead_nights"]
    lines.append(f"Bring back for the next {nights} nights ({len(plan['recall'])}):" if plan["recall"]
                 else f"Bring back for the next {nights} nights: nothing")
    for r in plan["recall"]:
        name = sticker_first(r["barcode"], r.get("label"))
        lines.append(f"  {name:<10} from {r['vault']} for the night of {r['night']} ({r['job']})")
    for r in plan.get("stays", []):
        name = sticker_first(r["barcode"], r.get("label"))
        lines.append(f"Stays here: {name}, needed the night of {r['night']} ({r['job']})")
    for s in plan["shortages"]:
        lines.append(f"No tape for {s['job']} on the night of {s['night']}: {s['problem']}")
    lines += [f"Note: {n}" for n in plan["notes"]]
    if plan.get("unscheduled"):
        lines.append(f"Not looked ahead (no schedule): {', '.join(plan['unscheduled'])}")
    return "\n".join(lines)
