"""`backup --wait`'s progress line: the numbers get their room first, at 100 columns and at 80."""

import io

from rich.console import Console
from rich.progress import Progress

from console.cli.backup import progress_columns, progress_fields, summary

RUN = {"id": 4, "job": "nightly-files", "state": "running", "tape": "DEM101L4", "bytes": 444_000_000,
       "expected_bytes": 378_000_000, "expected_is_estimate": True, "fraction": 0.97, "rate": 39_800_000,
       "eta_seconds": 12.0,
       "member": "vms/files01-05dc8664/files01_shares-ca363ced-1263-4b32-9693-0e0faab4e9ea.vhd"}


def rendered(width: int) -> str:
    out = io.StringIO()
    console = Console(file=out, width=width, force_terminal=False, color_system=None)
    with Progress(*progress_columns(), console=console, transient=False, auto_refresh=False, expand=True) as progress:
        task = progress.add_task("backup", total=1000, **progress_fields(RUN))
        progress.update(task, completed=970)
        progress.refresh()
    return out.getvalue().strip().splitlines()[-1]


def test_the_numbers_come_whole_and_the_member_gives_way() -> None:
    for width in (100, 80):
        line = rendered(width)
        assert "444.0 MB of ~378.0 MB · 39.8 MB/s · ETA ~12s" in line, line
        assert "nightly-files → DEM101L4" in line
    assert "files01_shares" in rendered(120)


def test_the_summary_uses_the_console_units() -> None:
    assert "444.0 MB in 0 set(s)" in summary({**RUN, "state": "done"})
