"""Unix user names as the operator reads them in refusals and the audit trail."""

from __future__ import annotations

import pwd


def user_name(uid: int) -> str:
    """The name of user `uid`, or "uid N" when the system has no such user."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return f"uid {uid}"
