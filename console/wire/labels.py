"""What a tape label's text may be: the rule the daemon enforces and the console checks as it is typed."""

from __future__ import annotations

import re

LABEL_TEXT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


def check_label_text(text: str) -> str | None:
    """None when `text` can be a tape label, else the reason it cannot."""
    if not LABEL_TEXT.match(text):
        return f"label {text!r} must be 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit"
    return None
