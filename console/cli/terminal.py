"""Where the CLI prints: a terminal gets its own width; a file or another program (a pipe, cron's mail) gets
whole lines, never tables cut at 80 columns (`jobs` once showed `nightly-v…`)."""

from __future__ import annotations

import os
import sys

from rich.console import Console

PIPED_WIDTH = 400  # columns for output that is not a terminal: wide enough for any table row


def stdout_console() -> Console:
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return Console(highlight=False)
    return Console(highlight=False, width=PIPED_WIDTH)
