"""CLI tables piped to a file or another program come out whole, not cut at 80 columns."""

import subprocess
import sys

from console.cli.terminal import PIPED_WIDTH, stdout_console


def test_a_console_that_is_not_a_terminal_prints_whole_lines(monkeypatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False, raising=False)
    assert stdout_console().width == PIPED_WIDTH


def test_jobs_piped_keep_every_name_whole() -> None:
    code = (
        "from console.cli import render\n"
        "render.jobs([{'name': 'nightly-vdi-with-a-long-name', 'drive': 'lto5', 'pool': 'vdi-daily',"
        " 'next_run': '2026-12-03T22:00:00+00:00', 'next_tape': None,"
        " 'next_tape_problem': 'no tape of pool vdi-daily on the shelf: every one is offsite or full'}])\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "COLUMNS"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert "nightly-vdi-with-a-long-name" in out and "every one is offsite or full" in out
    assert "…" not in out
